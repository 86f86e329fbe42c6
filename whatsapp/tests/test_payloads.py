"""The one reading of Meta's message objects: numbers, texts, locations, replies and carts."""

from decimal import Decimal

import pytest

from whatsapp import inbound, payloads

from .payloads import message


@pytest.mark.parametrize(
    "raw, read",
    [
        (2, Decimal(2)),
        (8.5, Decimal("8.5")),
        (7.99, Decimal("7.99")),  # exact: the float's shortest spelling, not its binary value
        (10**40, Decimal(10**40)),
        ("12", Decimal(12)),
        (" -0.25 ", Decimal("-0.25")),
    ],
)
def test_a_number_is_a_json_number_or_a_plain_decimal_string(raw, read):
    assert payloads.number(raw) == read


@pytest.mark.parametrize(
    "raw", [True, False, None, float("nan"), float("inf"), "NaN", "Infinity", "1e3", "1_000", "", "12 USD", [1], {}]
)
def test_booleans_nan_infinities_and_anything_else_are_no_number(raw):
    assert payloads.number(raw) is None


def test_a_whole_number_may_be_written_2_or_2_0_but_not_2_5():
    assert [payloads.whole_number(raw) for raw in (2, 2.0, "3", 2.5, "2.5", True)] == [2, 2, 3, None, None, None]


def test_a_location_has_both_coordinates_in_range_or_none():
    location = payloads.location({"latitude": "37.44", "longitude": -122.16})
    assert (location.latitude, location.longitude) == (37.44, -122.16)
    for latitude, longitude in [(123, 0), (0, 181), (1e400, 2), (True, 0), (0, None), ("north", 0)]:
        location = payloads.location({"latitude": latitude, "longitude": longitude, "name": " Philz "})
        assert (location.latitude, location.longitude, location.name) == (None, None, "Philz")


def test_a_reply_reads_a_button_a_list_row_or_a_form():
    assert payloads.reply({"type": "button_reply", "button_reply": {"id": "b1", "title": "Yes"}}) == payloads.Reply(
        "button_reply", "b1", "Yes", None
    )
    list_row = {"type": "list_reply", "list_reply": {"id": "r", "title": "Express", "description": "1 day"}}
    assert payloads.reply(list_row) == payloads.Reply("list_reply", "r", "Express", "1 day")
    assert payloads.reply({"type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent"}}).title == "Sent"
    assert payloads.reply("junk") == payloads.Reply(None, None, None, None)


def test_cart_lines_say_which_product_and_how_many_whatever_else_the_cart_holds():
    cart = payloads.cart(
        {
            "text": " Gift wrap ",
            "product_items": [
                {"product_retailer_id": "mug", "quantity": "2", "item_price": "8.50", "currency": "USD"},
                {"product_retailer_id": "half", "quantity": 2.5, "item_price": 1},
                {"product_retailer_id": "yes", "quantity": True, "item_price": 1},
                {"product_retailer_id": "none", "quantity": 0, "item_price": 1},
                {"quantity": 1, "item_price": 1},
                "junk",
                {"product_retailer_id": "bowl", "quantity": 1, "item_price": 12, "currency": "USD"},
            ],
        }
    )
    assert cart.lines == [("mug", 2, Decimal("8.50"), "USD"), ("bowl", 1, Decimal(12), "USD")]
    assert (cart.total, cart.currency, cart.note) == (Decimal("29.00"), "USD", "Gift wrap")


def test_a_cart_has_no_total_when_a_price_is_missing_or_the_currencies_differ():
    def total(*items):
        return payloads.cart({"product_items": list(items)}).total

    mug = {"product_retailer_id": "mug", "quantity": 1, "item_price": 8, "currency": "USD"}
    assert total(mug, {**mug, "item_price": None}) is None
    assert total(mug, {**mug, "currency": "EUR"}) is None
    assert total(mug, {**mug, "currency": None}) == Decimal(16)


def test_intake_reads_a_location_written_with_string_coordinates_like_the_page_does():
    location = message("location", {"name": "Philz", "latitude": "37.44221496582", "longitude": "-122.16165924072"})
    assert inbound.describe(location).message == "Location: Philz (37.442215, -122.161659)"
