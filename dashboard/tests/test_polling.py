"""The poll token and the "nothing changed" answer the inbox, the open thread and an order's messages share."""

from dashboard.polling import nothing_changed, poll_token


def test_equal_parts_have_equal_tokens_and_any_change_shows():
    shown = [(1, "sent", None, "hello"), (2, "read", "/media/a.jpg", "")]
    assert poll_token(shown) == poll_token(list(shown)) == poll_token(iter(shown))
    assert poll_token(shown) != poll_token([(1, "delivered", None, "hello"), shown[1]])
    assert poll_token(shown) != poll_token(shown[::-1])
    # Each value is hashed whole: moving text from one value to the next is a change too.
    assert poll_token(["ab", "c"]) != poll_token(["a", "bc"])
    assert poll_token([]) != poll_token([None])


def test_nothing_changed_is_a_204_that_can_ask_htmx_to_reload_the_page():
    unchanged, behind = nothing_changed(), nothing_changed(reload=True)
    assert (unchanged.status_code, unchanged.content) == (204, b"")
    assert "HX-Refresh" not in unchanged and behind.status_code == 204 and behind["HX-Refresh"] == "true"
