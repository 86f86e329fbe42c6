"""Every inbound message type becomes a row an agent can read (payloads from Meta's webhook reference)."""

import datetime as dt
from decimal import Decimal

import pytest

from whatsapp.models import WebhookEvent
from whatsapp.payloads import cart_lines

from . import payloads
from .payloads import message, post

pytestmark = pytest.mark.django_db

IMAGE = {
    "caption": "Taj Mahal",
    "mime_type": "image/jpeg",
    "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
    "id": "1003383421387256",
    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
}
VOICE = {
    "mime_type": "audio/ogg; codecs=opus",
    "sha256": "wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI=",
    "id": "1908647269898587",
    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
    "voice": True,
}
DOCUMENT = {
    "caption": "my receipt",
    "filename": "receipt.pdf",
    "mime_type": "application/pdf",
    "sha256": "V5OPpLD/gEG6Xjg0MbmQDLFgcKsL+j5LfY4ny/pZ4MY=",
    "id": "622684793477189",
    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
}
STICKER = {
    "mime_type": "image/webp",
    "sha256": "wvqXMe6n7n1W0zphvLPoLj+s/NtKqmr3zZ7YzTP7xFI=",
    "id": "1908647269898587",
    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
    "animated": True,
}
VIDEO = {
    "caption": "Lucky Shrub's new succulent",
    "mime_type": "video/mp4",
    "sha256": "SfInY0gGKTsJlUWbwxC1k+FAD0FZHvzwfpvO0zX0GUI=",
    "id": "1203982114547163",
    "url": "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=133...",
}
LOCATION = {
    "address": "101 Forest Ave, Palo Alto, CA 94301",
    "latitude": 37.44221496582,
    "longitude": -122.16165924072,
    "name": "Philz Coffee",
    "url": "https://philzcoffee.com/",
}
CONTACTS = [
    {
        "name": {"first_name": "Barbara", "last_name": "Johnson", "formatted_name": "Barbara J. Johnson"},
        "org": {"company": "Social Tsunami"},
        "phones": [{"phone": "+1 (415) 555-0829", "wa_id": "14125550829", "type": "MOBILE"}],
    }
]
ORDER = {
    "catalog_id": "194836987003835",
    "text": "Love these!",
    "product_items": [
        {"product_retailer_id": "di9ozbzfi4", "quantity": 2, "item_price": 30, "currency": "USD"},
        {"product_retailer_id": "nqryix03ez", "quantity": 1, "item_price": 25, "currency": "USD"},
    ],
}
BUSINESS_CONTEXT = {
    "from": payloads.DISPLAY_PHONE_NUMBER,
    "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBJBM0Y4RUU0RUNFQkFDMjYzQUMA",
}

CASES = [
    # (the message object, wa_type, message, media_type, caption)
    (payloads.text(), "text", "Does it come in another color?", "none", None),
    (message("image", IMAGE), "image", "Image: Taj Mahal", "image", "Taj Mahal"),
    (message("image", {**IMAGE, "caption": None} | {"caption": ""}), "image", "Image", "image", None),
    (message("video", VIDEO), "video", "Video: Lucky Shrub's new succulent", "video", "Lucky Shrub's new succulent"),
    (message("audio", VOICE), "audio", "Voice message", "audio", None),
    (message("audio", {**VOICE, "voice": False}), "audio", "Audio", "audio", None),
    (message("document", DOCUMENT), "document", "Document (receipt.pdf): my receipt", "document", "my receipt"),
    (message("sticker", STICKER), "sticker", "Animated sticker", "sticker", None),
    (
        message("location", LOCATION),
        "location",
        "Location: Philz Coffee, 101 Forest Ave, Palo Alto, CA 94301 (37.442215, -122.161659)",
        "none",
        None,
    ),
    (
        message("contacts", CONTACTS),
        "contacts",
        "Contact: Barbara J. Johnson (+1 (415) 555-0829)",
        "none",
        None,
    ),
    (
        message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "change-button", "title": "Change"}},
            context=BUSINESS_CONTEXT,
        ),
        "interactive",
        "Button reply: Change",
        "none",
        None,
    ),
    (
        message(
            "interactive",
            {
                "type": "list_reply",
                "list_reply": {
                    "id": "priority_express",
                    "title": "Priority Mail Express",
                    "description": "Next Day to 2 Days",
                },
            },
            context=BUSINESS_CONTEXT,
        ),
        "interactive",
        "List reply: Priority Mail Express (Next Day to 2 Days)",
        "none",
        None,
    ),
    (
        message("button", {"payload": "Unsubscribe", "text": "Unsubscribe"}, context=BUSINESS_CONTEXT),
        "button",
        "Button: Unsubscribe",
        "none",
        None,
    ),
    (
        message("order", ORDER),
        "order",
        "Order: 2 × di9ozbzfi4 at $30.00; 1 × nqryix03ez at $25.00. Total $85.00. Note: Love these!",
        "none",
        None,
    ),
    (
        {
            **message("unsupported", {"type": "edit"}),
            "errors": [
                {
                    "code": 131051,
                    "title": "Message type unknown",
                    "message": "Message type unknown",
                    "error_data": {"details": "Message type is currently not supported."},
                }
            ],
        },
        "unsupported",
        "The customer sent a message (edit) that WhatsApp could not deliver here: Message type unknown "
        "(error 131051). Message type is currently not supported. Ask them to send it again, or another way, "
        "if it matters.",
        "none",
        None,
    ),
    (message("poll_vote", {"option": "A"}), "poll_vote", "Unsupported message type: poll_vote", "none", None),
]


@pytest.mark.parametrize(
    "wa_message, wa_type, text, media_type, caption", CASES, ids=[c[1] + str(i) for i, c in enumerate(CASES)]
)
def test_every_type_is_stored_readable_with_its_payload(client, t, wa_message, wa_type, text, media_type, caption):
    response = post(client, payloads.notification(payloads.value([wa_message])))

    assert response.status_code == 200
    stored = t.Message.objects.get()
    assert (stored.wa_type, stored.message, stored.media_type, stored.caption) == (wa_type, text, media_type, caption)
    assert stored.direction == "inbound" and not stored.is_read
    assert stored.payload == wa_message
    assert stored.wamid == payloads.WAMID
    assert stored.timestamp == dt.datetime(2025, 6, 8, 20, 59, 43, tzinfo=dt.UTC)
    assert stored.customer.phone == payloads.PHONE
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED


def test_replies_keep_the_message_they_answer(client, t):
    post(client, payloads.notification(payloads.value([payloads.text("Yes please", context=BUSINESS_CONTEXT)])))
    assert t.Message.objects.get().context_wamid == BUSINESS_CONTEXT["id"]


def test_media_keep_their_id_and_type_for_the_download(client, t):
    post(client, payloads.notification(payloads.value([message("document", DOCUMENT)])))
    stored = t.Message.objects.get()
    assert (stored.media_id, stored.media_mime_type) == ("622684793477189", "application/pdf")
    assert stored.media_url is None


def test_a_reaction_is_linked_to_the_message_it_reacts_to(client, t):
    reacted = "wamid.HBgLMTY0NjcwNDM1OTUVAgASGBQzQUZCMTY0MDc2MUYwNzBDNTY5MAA="
    post(client, payloads.notification(payloads.value([payloads.text(wamid=reacted)])))
    reaction = message("reaction", {"message_id": reacted, "emoji": "\U0001f600"}, wamid="wamid.reaction1")
    removal = message("reaction", {"message_id": reacted}, wamid="wamid.reaction2")
    post(client, payloads.notification(payloads.value([reaction, removal])))

    first, second = t.Message.objects.filter(wa_type="reaction").order_by("id")
    assert (first.message, first.context_wamid) == ("Reacted \U0001f600", reacted)
    assert (second.message, second.context_wamid) == ("Removed a reaction", reacted)
    target = t.Message.objects.get(wamid=first.context_wamid)
    assert target.message == "Does it come in another color?"


def test_an_order_cart_keeps_items_quantities_and_prices(client, t):
    post(client, payloads.notification(payloads.value([message("order", ORDER)])))
    stored = t.Message.objects.get()
    assert cart_lines(stored.payload["order"]) == [
        ("di9ozbzfi4", 2, Decimal("30"), "USD"),
        ("nqryix03ez", 1, Decimal("25"), "USD"),
    ]


def test_cart_lines_skip_lines_that_do_not_say_what_or_how_many():
    order = {
        "product_items": [
            {"product_retailer_id": "a", "quantity": 0},
            "junk",
            {"quantity": 2},
            {"product_retailer_id": "b", "quantity": 3, "item_price": 7.99},
        ]
    }
    assert cart_lines(order) == [("b", 3, Decimal("7.99"), "")]
    assert cart_lines({"product_items": 5}) == cart_lines("junk") == []


def test_one_notification_with_many_messages_stores_them_all_in_order(client, t):
    batch = [payloads.text(f"message {n}", wamid=f"wamid.many{n}", timestamp=str(1749416383 + n)) for n in range(5)]
    post(client, payloads.notification(payloads.value(batch)))
    assert list(t.Message.objects.order_by("id").values_list("message", flat=True)) == [
        f"message {n}" for n in range(5)
    ]
    customer = t.Customer.objects.get()
    assert customer.unread_count == 5
    assert customer.last_message_at == dt.datetime.fromtimestamp(1749416387, dt.UTC)


def test_a_text_with_nul_characters_and_broken_surrogates_is_stored_cleaned(client, t):
    body = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{'
        b'"metadata":{"phone_number_id":"106540352242922"},"contacts":[{"profile":{"name":"Sheena"},"wa_id":"16505551234"}],'
        b'"messages":[{"from":"16505551234","id":"wamid.nul","timestamp":"1749416383","type":"text",'
        b'"text":{"body":"a\\u0000b \\ud800c"}}]}}]}]}'
    )
    assert post(client, body).status_code == 200
    assert t.Message.objects.get().message == "ab ?c"
