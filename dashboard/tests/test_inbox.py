"""The inbox: one row per customer with messages, newest first, filters, search, pages, cheap polling."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agents import conversations
from agents.tests.factories import NOON, customer, message


def row_names(response):
    return re.findall(r'class="row-name">([^<]+)<', response.content.decode())


def test_rows_are_customers_with_messages_newest_activity_first(seller):
    t = seller.tables
    ana, bo, cy = customer(t, "Ana"), customer(t, "Bo"), customer(t, "Cy")
    customer(t, "Never Wrote")
    message(t, ana, "first", at=NOON)
    message(t, bo, "second", at=NOON + dt.timedelta(minutes=1))
    message(t, cy, "third", at=NOON + dt.timedelta(minutes=2))
    message(t, ana, "ana again", at=NOON + dt.timedelta(minutes=3))

    response = seller.client.get(reverse("inbox"))

    assert response.status_code == 200
    assert row_names(response) == ["Ana", "Cy", "Bo"]
    body = response.content.decode()
    assert "ana again" in body and "first" not in body
    assert ana.phone[-4:] in body


def test_a_row_shows_unread_count_and_outbound_ticks(seller):
    t = seller.tables
    ana, bo = customer(t, "Ana"), customer(t, "Bo")
    message(t, ana, "one")
    message(t, ana, "two", at=NOON + dt.timedelta(seconds=1))
    message(t, bo, "Your order shipped", direction="outbound", status="delivered")

    body = seller.client.get(reverse("inbox")).content.decode()

    assert '<span class="badge">2<span class="visually-hidden"> unread</span></span>' in body
    assert (
        '<span class="tick tick-delivered"><span aria-hidden="true">✓✓</span><span class="visually-hidden">Delivered:'
    ) in body


@pytest.mark.parametrize(
    "wa_type, payload, expected",
    [
        ("image", {"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}}, "📷 Photo"),
        ("image", {"type": "image", "image": {"id": "1", "caption": "Blue mug?"}}, "📷 Blue mug?"),
        ("audio", {"type": "audio", "audio": {"id": "2", "voice": True}}, "🎤 Voice message"),
        ("video", {"type": "video", "video": {"id": "3"}}, "🎥 Video"),
        ("document", {"type": "document", "document": {"id": "4", "filename": "receipt.pdf"}}, "📄 receipt.pdf"),
        ("sticker", {"type": "sticker", "sticker": {"id": "5", "animated": False}}, "💟 Sticker"),
        (
            "location",
            {"type": "location", "location": {"latitude": 38.7, "longitude": -9.1, "name": "Shop"}},
            "Location · Shop",
        ),
        (
            "contacts",
            {"type": "contacts", "contacts": [{"name": {"formatted_name": "Barbara J. Johnson"}}]},
            "👤 Barbara J. Johnson",
        ),
        ("reaction", {"type": "reaction", "reaction": {"message_id": "wamid.X", "emoji": "👍"}}, "Reacted 👍"),
    ],
)
def test_a_media_preview_shows_its_icon_and_kind(seller, wa_type, payload, expected):
    t = seller.tables
    message(
        t,
        customer(t),
        "placeholder",
        wa_type=wa_type,
        payload=payload,
        media_type=wa_type if wa_type in ("image", "audio", "video", "document", "sticker") else "none",
    )

    body = seller.client.get(reverse("inbox")).content.decode()

    assert expected in body


def test_the_unread_filter_keeps_conversations_with_unread_messages(seller):
    t = seller.tables
    ana, bo = customer(t, "Ana"), customer(t, "Bo")
    message(t, ana, "unread")
    message(t, bo, "will be read", at=NOON + dt.timedelta(minutes=1))
    conversations.mark_conversation_read(t, bo)

    assert row_names(seller.client.get(reverse("inbox"), {"show": "unread"})) == ["Ana"]
    assert row_names(seller.client.get(reverse("inbox"), {"show": "all"})) == ["Bo", "Ana"]


def test_the_today_filter_counts_from_midnight_in_the_viewers_time_zone(seller, settings):
    t = seller.tables
    now = dt.datetime.now(dt.UTC)
    message(t, customer(t, "Today"), "now", at=now)
    message(t, customer(t, "Last Week"), "old", at=now - dt.timedelta(days=7))

    assert row_names(seller.client.get(reverse("inbox"), {"show": "today"})) == ["Today"]


def test_search_finds_by_name_phone_or_message_text(seller):
    t = seller.tables
    ana = customer(t, "Ana Lima", phone="+351912345678")
    bo = customer(t, "Bo Berg", phone="+4670123456")
    message(t, ana, "Do you have blue mugs?", at=NOON)
    message(t, ana, "Thanks!", at=NOON + dt.timedelta(minutes=5))
    message(t, bo, "Hello", at=NOON + dt.timedelta(minutes=1))

    def search(text):
        return seller.client.get(reverse("inbox"), {"q": text})

    assert row_names(search("lima")) == ["Ana Lima"]
    assert row_names(search("912 345")) == ["Ana Lima"]
    assert row_names(search("+46 70")) == ["Bo Berg"]
    found_by_text = search("BLUE mug")
    assert row_names(found_by_text) == ["Ana Lima"]
    # The row previews the message that matched, not the newest one.
    assert "Do you have blue mugs?" in found_by_text.content.decode()
    nothing = search("kayak")
    assert row_names(nothing) == [] and "No conversation matches “kayak”" in nothing.content.decode()


def test_a_common_word_finds_the_same_conversations_by_walking_customers(seller, monkeypatch):
    from dashboard import inbox

    t = seller.tables
    ana, bo, cy = customer(t, "Ana"), customer(t, "Bo"), customer(t, "Delivery Dan")
    message(t, ana, "delivery on Monday?", at=NOON)
    message(t, ana, "thanks", at=NOON + dt.timedelta(minutes=3))
    message(t, bo, "no delivery please", at=NOON + dt.timedelta(minutes=1))
    message(t, cy, "hi", at=NOON + dt.timedelta(minutes=2))
    message(t, customer(t, "Eve"), "pickup", at=NOON + dt.timedelta(minutes=4))

    few_matches = seller.client.get(reverse("inbox"), {"q": "delivery"})
    monkeypatch.setattr(inbox, "MANY_MATCHES", 2)
    many_matches = seller.client.get(reverse("inbox"), {"q": "delivery"})

    assert row_names(few_matches) == row_names(many_matches) == ["Ana", "Delivery Dan", "Bo"]
    assert "delivery on Monday?" in many_matches.content.decode()


def test_pages_follow_each_other_without_repeating_rows_even_when_messages_arrive(seller):
    t = seller.tables
    people = [customer(t, f"Person {n:02d}") for n in range(30)]
    for n, person in enumerate(people):
        message(t, person, f"m{n}", at=NOON + dt.timedelta(minutes=n))

    first = seller.client.get(reverse("inbox"))
    names = row_names(first)
    assert len(names) == 25 and names[0] == "Person 29"
    next_url = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")

    # Someone on page 2 writes: they move to the top, and page 2 neither repeats nor skips anyone.
    message(t, people[2], "I'm back", at=NOON + dt.timedelta(hours=1))
    second = seller.client.get(next_url)
    assert row_names(second) == ["Person 04", "Person 03", "Person 01", "Person 00"]
    assert 'rel="next"' not in second.content.decode()
    assert "Newest conversations" in second.content.decode()


def test_a_damaged_page_link_or_unknown_filter_is_a_clear_400(seller):
    assert seller.client.get(reverse("inbox"), {"after": "garbage!"}).status_code == 400
    response = seller.client.get(reverse("inbox"), {"show": "starred"})
    assert response.status_code == 400 and "no such inbox filter" in response.content.decode()
    assert seller.client.get(reverse("inbox_rows"), {"after": "eyJ4Ijox"}).status_code == 400


def test_an_empty_inbox_says_what_will_appear(seller):
    body = seller.client.get(reverse("inbox")).content.decode()
    assert "No conversations yet." in body


def poll(seller, **params):
    return seller.client.get(reverse("inbox_rows"), params)


def token_of(response):
    return re.search(r'hx-get="[^"]*[?&;]v=([0-9a-f]+)', response.content.decode()).group(1)


def test_polling_answers_204_until_something_changes(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "hi")
    token = token_of(seller.client.get(reverse("inbox")))

    assert poll(seller, v=token).status_code == 204

    bo = customer(t, "Bo")
    message(t, bo, "new here", at=NOON + dt.timedelta(minutes=1))
    changed = poll(seller, v=token)
    assert changed.status_code == 200
    assert row_names(changed) == ["Bo", "Ana"]

    new_token = token_of(changed)
    assert poll(seller, v=new_token).status_code == 204
    conversations.mark_conversation_read(t, bo)
    assert poll(seller, v=new_token).status_code == 200


def test_polling_keeps_the_filter_and_search(seller):
    t = seller.tables
    message(t, customer(t, "Ana"), "blue")
    message(t, customer(t, "Bo"), "red")
    response = poll(seller, q="blue", show="unread", v="stale")
    assert row_names(response) == ["Ana"]
    assert "q=blue" in response.content.decode() and "show=unread" in response.content.decode()


def count_queries(client, url, params=None):
    # A count taken at once: the connection keeps only its last 9,000 queries.
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code in (200, 204)
    return len(queries)


def fill(t, customers, messages_each, start=0):
    for n in range(start, start + customers):
        person = customer(t, f"Customer {n:03d}")
        for m in range(messages_each):
            message(
                t,
                person,
                f"message {m} of {n}",
                at=NOON + dt.timedelta(minutes=n, seconds=m),
                direction="outbound" if m % 2 else "inbound",
            )


def test_the_inbox_issues_a_fixed_number_of_queries_however_many_rows(seller, django_assert_max_num_queries):
    t = seller.tables
    fill(t, 2, 2)
    seller.client.get(reverse("home"))  # the session learns its agent once
    few = {
        "inbox": count_queries(seller.client, reverse("inbox")),
        "search": count_queries(seller.client, reverse("inbox"), {"q": "message"}),
        "rows": count_queries(seller.client, reverse("inbox_rows")),
    }
    fill(t, 60, 3, start=2)
    with django_assert_max_num_queries(few["inbox"]):
        seller.client.get(reverse("inbox"))
    with django_assert_max_num_queries(few["search"]):
        seller.client.get(reverse("inbox"), {"q": "message"})
    with django_assert_max_num_queries(few["rows"]):
        seller.client.get(reverse("inbox_rows"))
    # Session, user, agents, the shop, the filters' counts, the labels with theirs, customers with their preview
    # ids, preview messages, the rows' labels, the history import's progress.
    assert few["inbox"] == 10


@pytest.mark.postgres
def test_the_inbox_queries_use_their_indexes(seller):
    """With sequential scans off, the plans name the indexes (tables this small would be scanned anyway)."""
    from dashboard.inbox import inbox_page

    t = seller.tables
    fill(t, 3, 2)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            with CaptureQueriesContext(connection) as queries:
                inbox_page(t, show="unread")
                inbox_page(t, search="message 1")
            plans = []
            for query in queries.captured_queries:
                cursor.execute("EXPLAIN " + query["sql"])
                plans.append("\n".join(row[0] for row in cursor.fetchall()))
        finally:
            cursor.execute("SET enable_seqscan = on")
    p = seller.agent.agent_prefix
    assert f"{p}_cust_unread" in plans[0]
    assert f"{p}_msg_thread" in plans[0]  # the preview subquery walks the thread index
    assert f"{p}_msg_text" in plans[2]  # message search uses the trigram index


def test_polling_with_an_unknown_filter_is_refused(seller):
    assert poll(seller, show="starred").status_code == 400
