"""The conversation: the thread in order, "Load older", every message type from its payload, ticks, live tail."""

import datetime as dt
import re

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from agents.tests.factories import NOON, customer, message
from dashboard.threads import PAGE_SIZE
from whatsapp.send import failure_reason

# Message objects as Meta's webhook reference documents them (messages/<type>).
IMAGE = {
    "from": "16505551234",
    "id": "wamid.IMG",
    "timestamp": "1744344496",
    "type": "image",
    "image": {
        "caption": "Taj Mahal",
        "mime_type": "image/jpeg",
        "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
        "id": "1003383421387256",
    },
}
VOICE = {
    "from": "16505551234",
    "id": "wamid.AUD",
    "timestamp": "1744344496",
    "type": "audio",
    "audio": {"mime_type": "audio/ogg; codecs=opus", "sha256": "wvq=", "id": "1908647269898587", "voice": True},
}
VIDEO = {
    "from": "16505551234",
    "id": "wamid.VID",
    "timestamp": "1744344496",
    "type": "video",
    "video": {"mime_type": "video/mp4", "sha256": "x=", "id": "1111"},
}
DOCUMENT = {
    "from": "16505551234",
    "id": "wamid.DOC",
    "timestamp": "1744344496",
    "type": "document",
    "document": {
        "caption": "my receipt",
        "filename": "receipt.pdf",
        "mime_type": "application/pdf",
        "sha256": "V5O=",
        "id": "622684793477189",
    },
}
LOCATION = {
    "from": "16505551234",
    "id": "wamid.LOC",
    "timestamp": "1744344496",
    "type": "location",
    "location": {
        "address": "101 Forest Ave, Palo Alto, CA 94301",
        "latitude": 37.44221496582,
        "longitude": -122.16165924072,
        "name": "Philz Coffee",
        "url": "https://philzcoffee.com/",
    },
}
CONTACTS = {
    "from": "16505551234",
    "id": "wamid.CON",
    "timestamp": "1744344496",
    "type": "contacts",
    "contacts": [
        {
            "name": {"first_name": "Barbara", "last_name": "Johnson", "formatted_name": "Barbara J. Johnson"},
            "org": {"company": "Social Tsunami"},
            "phones": [{"phone": "+1 (415) 555-0829", "wa_id": "14125550829", "type": "MOBILE"}],
        }
    ],
}
ORDER = {
    "from": "16505551234",
    "id": "wamid.ORD",
    "timestamp": "1750096325",
    "type": "order",
    "order": {
        "catalog_id": "194836987003835",
        "text": "Love these!",
        "product_items": [
            {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"},
            {"product_retailer_id": "nqryix03ez", "quantity": 1, "item_price": 25, "currency": "USD"},
        ],
    },
}
BUTTON = {
    "context": {"from": "15550783881", "id": "wamid.TEMPLATE"},
    "from": "16505551234",
    "id": "wamid.BTN",
    "timestamp": "1750091045",
    "type": "button",
    "button": {"payload": "Unsubscribe", "text": "Unsubscribe"},
}
LIST_REPLY = {
    "from": "16505551234",
    "id": "wamid.LST",
    "timestamp": "1750091045",
    "type": "interactive",
    "interactive": {
        "type": "list_reply",
        "list_reply": {"id": "priority", "title": "Priority shipping", "description": "Next day to most cities"},
    },
}
SYSTEM = {
    "from": "16505551234",
    "id": "wamid.SYS",
    "timestamp": "1750269342",
    "type": "system",
    "system": {
        "body": "User Sheena Nelson changed from 16505551234 to 12195555358",
        "wa_id": "12195555358",
        "type": "user_changed_number",
    },
}
UNSUPPORTED = {
    "from": "16505551234",
    "id": "wamid.UNS",
    "timestamp": "1750090702",
    "type": "unsupported",
    "errors": [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ],
    "unsupported": {"type": "edit"},
}


def open_thread(seller, who, **params):
    """The thread part of the conversation page (the page also lists the inbox beside it)."""
    response = seller.client.get(reverse("conversation", args=[who.pk]), params)
    assert response.status_code == 200
    return response.content.decode().split('id="thread-title"', 1)[1]


def test_the_thread_shows_oldest_at_top_and_marks_the_conversation_read(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "first question", at=NOON)
    message(t, ana, "our answer", direction="outbound", at=NOON + dt.timedelta(minutes=1))
    message(t, ana, "second question", at=NOON + dt.timedelta(minutes=2))
    ana.refresh_from_db()
    assert ana.unread_count == 2

    body = open_thread(seller, ana)

    assert body.index("first question") < body.index("our answer") < body.index("second question")
    assert "This is the start of your conversation with Ana." in body
    ana.refresh_from_db()
    assert ana.unread_count == 0
    assert not t.Message.objects.unread().filter(customer=ana).exists()


def test_load_older_pages_back_to_the_first_message(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    for n in range(95):
        message(t, ana, f"msg-{n:03d}.", at=NOON + dt.timedelta(seconds=n))

    body = open_thread(seller, ana)
    oldest_shown = 95 - PAGE_SIZE
    assert "msg-094." in body and f"msg-{oldest_shown:03d}." in body and f"msg-{oldest_shown - 1:03d}." not in body
    seen = set(re.findall(r"msg-\d{3}\.", body))
    older = re.search(r'hx-get="([^"]+/older/[^"]+)"', body).group(1).replace("&amp;", "&")

    pages = 0
    while older:
        page = seller.client.get(older)
        assert page.status_code == 200
        text = page.content.decode()
        found = re.findall(r"msg-\d{3}\.", text)
        assert seen.isdisjoint(found)
        seen.update(found)
        pages += 1
        match = re.search(r'hx-get="([^"]+/older/[^"]+)"', text)
        older = match.group(1).replace("&amp;", "&") if match else None
    assert pages == -(-(95 - PAGE_SIZE) // PAGE_SIZE) and len(seen) == 95
    assert "This is the start of your conversation" in text


def test_load_older_needs_a_valid_position(seller):
    ana = customer(seller.tables, "Ana")
    url = reverse("conversation_older", args=[ana.pk])
    assert seller.client.get(url).status_code == 400
    assert seller.client.get(url, {"before": "not-a-cursor"}).status_code == 400


def test_media_are_shown_inline_and_documents_as_links(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    image = message(
        t,
        ana,
        "Taj Mahal",
        wa_type="image",
        payload=IMAGE,
        media_type="image",
        caption="Taj Mahal",
        media_url="agents/1/media/taj.jpg",
        media_id="1003383421387256",
    )
    voice = message(t, ana, "[voice]", wa_type="audio", payload=VOICE, media_type="audio", media_url="a.ogg")
    video = message(t, ana, "[video]", wa_type="video", payload=VIDEO, media_type="video", media_url="v.mp4")
    document = message(
        t, ana, "my receipt", wa_type="document", payload=DOCUMENT, media_type="document", media_url="receipt.pdf"
    )

    body = open_thread(seller, ana)

    def src(row):
        return reverse("message_media", args=[row.pk])

    assert f'<img class="media image" src="{src(image)}" alt="Taj Mahal"' in body
    assert f'<audio controls preload="none" src="{src(voice)}" aria-label="Voice message">' in body
    assert f'<video class="media" controls preload="metadata" src="{src(video)}"' in body
    assert re.search(rf'<a class="document" href="{src(document)}"[^>]*>.*receipt.pdf', body)
    assert "my receipt" in body


def test_media_still_downloading_say_so(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "photo", wa_type="image", payload=IMAGE, media_type="image", media_url=None)

    body = open_thread(seller, ana)

    assert "Photo" in body and "downloading" in body


def test_location_contacts_order_replies_and_notices_are_readable(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "location", wa_type="location", payload=LOCATION)
    message(t, ana, "contacts", wa_type="contacts", payload=CONTACTS)
    message(t, ana, "order", wa_type="order", payload=ORDER)
    message(t, ana, "Priority shipping", wa_type="interactive", payload=LIST_REPLY)
    message(t, ana, "system", wa_type="system", payload=SYSTEM)
    message(t, ana, "unsupported", wa_type="unsupported", payload=UNSUPPORTED)

    body = open_thread(seller, ana)

    assert "https://www.openstreetmap.org/?mlat=37.442215&amp;mlon=-122.161659" in body
    assert "Philz Coffee" in body and "101 Forest Ave, Palo Alto" in body
    assert "Barbara J. Johnson" in body and "+1 (415) 555-0829" in body and "Social Tsunami" in body
    assert "Add as customer" in body and "phone=%2B14125550829" in body
    assert "di9ozbzfi4" in body and "$85.00" in body and "Love these!" in body
    assert "Priority shipping" in body and "Next day to most cities" in body
    assert "changed from 16505551234 to 12195555358" in body
    assert "Message type unknown" in body and "(edit)" in body


def test_reactions_sit_on_the_message_they_react_to(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    ours = message(t, ana, "Your parcel left today", direction="outbound", wamid="wamid.OURS")
    reaction = {"type": "reaction", "reaction": {"message_id": "wamid.OURS", "emoji": "❤️"}}
    message(
        t, ana, "❤️", wa_type="reaction", payload=reaction, context_wamid="wamid.OURS", at=NOON + dt.timedelta(minutes=1)
    )

    body = open_thread(seller, ana)

    assert body.count('class="bubble ') == 1  # the reaction is not a bubble of its own
    assert "Ana reacted ❤️" in body
    assert body.index("Your parcel left today") < body.index("Ana reacted ❤️")

    removal = {"type": "reaction", "reaction": {"message_id": "wamid.OURS"}}
    message(
        t, ana, "", wa_type="reaction", payload=removal, context_wamid="wamid.OURS", at=NOON + dt.timedelta(minutes=2)
    )
    assert "reacted ❤️" not in open_thread(seller, ana)
    assert ours.pk


def test_a_reaction_to_a_message_not_shown_says_what_it_reacts_to(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "An old question", wamid="wamid.OLD", at=NOON)
    for n in range(PAGE_SIZE + 5):
        message(t, ana, f"filler {n}", at=NOON + dt.timedelta(minutes=1, seconds=n))
    message(
        t,
        ana,
        "👍",
        wa_type="reaction",
        context_wamid="wamid.OLD",
        at=NOON + dt.timedelta(hours=1),
        payload={"type": "reaction", "reaction": {"message_id": "wamid.OLD", "emoji": "👍"}},
    )

    body = open_thread(seller, ana)

    assert 'Reacted <span class="emoji">👍</span>' in body
    assert "An old question" in body  # quoted above the reaction


def test_replies_quote_the_original(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "We have red and blue", direction="outbound", wamid="wamid.COLOURS", at=NOON)
    message(t, ana, "Blue please", context_wamid="wamid.COLOURS", at=NOON + dt.timedelta(minutes=1))
    message(t, ana, "And this?", context_wamid="wamid.UNKNOWN", at=NOON + dt.timedelta(minutes=2))
    message(
        t,
        ana,
        "Unsubscribe",
        wa_type="button",
        payload=BUTTON,
        context_wamid="wamid.TEMPLATE",
        at=NOON + dt.timedelta(minutes=3),
    )

    body = open_thread(seller, ana)

    quote = re.search(r'<blockquote class="quote">(.*?)</blockquote>', body, re.S).group(1)
    assert "You" in quote and "We have red and blue" in quote
    assert "A message that is not in this inbox" in body
    assert "Unsubscribe" in body


def test_outbound_messages_show_their_ticks_and_failures_their_reason(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    for n, status in enumerate(["queued", "sent", "delivered", "read"]):
        message(t, ana, f"status {status}", direction="outbound", status=status, at=NOON + dt.timedelta(minutes=n))
    message(
        t,
        ana,
        "too late",
        direction="outbound",
        status="failed",
        error_code=131047,
        error_title="Re-engagement message",
        at=NOON + dt.timedelta(minutes=9),
        error_detail="More than 24 hours have passed since the recipient last replied.",
    )

    body = open_thread(seller, ana)

    for label in ("Queued", "Sent", "Delivered", "Read", "Failed"):
        assert f'<span class="visually-hidden">{label}</span>' in body
    assert "Not sent." in body and "Re-engagement message" in body
    assert "More than 24 hours have passed" in body and "error 131047" in body


def test_a_failed_message_reads_as_whatsapp_send_failure_reason_words_it(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    failures = [
        message(
            t, ana, "a", direction="outbound", status="failed", error_title="Spam Rate limit hit", error_detail=None
        ),
        message(t, ana, "b", direction="outbound", status="failed", error_title="Same", error_detail="Same"),
        message(t, ana, "c", direction="outbound", status="failed", error_title=None, error_detail="Meta said no"),
    ]

    body = open_thread(seller, ana)

    for failed in failures:
        assert f"<strong>Not sent.</strong> {escape(failure_reason(failed))}" in body
    assert "Not sent.</strong> WhatsApp refused this message: Meta said no" in body


def test_message_text_is_escaped(seller):
    t = seller.tables
    ana = customer(t, "<b>Ana</b>")
    message(t, ana, "<script>alert('x')</script>")
    body = open_thread(seller, ana)
    assert "<script>alert" not in body and "&lt;script&gt;alert" in body
    assert "<b>Ana</b>" not in body


def tail(seller, who, **params):
    return seller.client.get(reverse("conversation_tail", args=[who.pk]), params)


def tail_params(body):
    url = re.search(r'id="thread-tail"[^>]*hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    return dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))


def test_the_live_tail_answers_204_until_a_message_arrives_or_a_tick_moves(seller):
    from urllib.parse import unquote

    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "hello", at=NOON)
    sent = message(t, ana, "hi Ana", direction="outbound", status="sent", at=NOON + dt.timedelta(minutes=1))
    params = {k: unquote(v) for k, v in tail_params(open_thread(seller, ana)).items()}

    assert tail(seller, ana, **params).status_code == 204

    t.Message.objects.filter(pk=sent.pk).update(status="read")
    moved = tail(seller, ana, **params)
    assert moved.status_code == 200 and '<span class="visually-hidden">Read</span>' in moved.content.decode()

    message(t, ana, "are you there?", at=NOON + dt.timedelta(minutes=2))
    arrived = tail(seller, ana, **params)
    text = arrived.content.decode()
    assert arrived.status_code == 200 and "hello" in text and "are you there?" in text
    assert tail(seller, ana, **{k: unquote(v) for k, v in tail_params(text).items()}).status_code == 204


def test_the_tail_marks_new_messages_read_only_while_the_agent_looks(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    open_thread(seller, ana)
    message(t, ana, "new")

    tail(seller, ana, seen="0")
    ana.refresh_from_db()
    assert ana.unread_count == 1

    tail(seller, ana, seen="1")
    ana.refresh_from_db()
    assert ana.unread_count == 0


def test_an_empty_conversation_says_so(seller):
    body = open_thread(seller, customer(seller.tables, "Quiet Customer"))
    assert "No messages yet." in body


def test_a_conversation_issues_a_fixed_number_of_queries_however_many_messages(seller, django_assert_max_num_queries):
    t = seller.tables
    ana = customer(t, "Ana")

    def fill(count, start):
        for n in range(start, start + count):
            message(
                t,
                ana,
                f"m{n}",
                direction="outbound" if n % 3 else "inbound",
                at=NOON + dt.timedelta(seconds=n),
                context_wamid="wamid.SOMEWHERE" if n % 5 == 0 else None,
            )

    fill(4, 0)
    url = reverse("conversation", args=[ana.pk])
    seller.client.get(url)
    with CaptureQueriesContext(connection) as queries:
        seller.client.get(url)
    few = len(queries)
    with CaptureQueriesContext(connection) as queries:
        tail(seller, ana)
    few_tail = len(queries)
    fill(150, 4)
    seller.client.get(url)  # reads the new messages
    with django_assert_max_num_queries(few):
        seller.client.get(url)
    with django_assert_max_num_queries(few_tail):
        tail(seller, ana)


def test_a_tail_that_grew_too_long_asks_the_browser_to_reload(seller, monkeypatch):
    from dashboard import threads

    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "first", at=NOON)
    params = tail_params(open_thread(seller, ana))
    monkeypatch.setattr(threads, "TAIL_LIMIT", 2)
    for n in range(3):
        message(t, ana, f"burst {n}", at=NOON + dt.timedelta(seconds=n + 1))

    response = tail(seller, ana, since=params["since"].replace("%3D", "="), v="old")

    assert response.status_code == 204 and response["HX-Refresh"] == "true"
    assert tail(seller, ana, since="broken!").status_code == 400
