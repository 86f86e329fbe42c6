"""Interactive messages with reply buttons: sent in Meta's shape, refused when malformed, tapped by the
customer on the fake Graph API (which posts the `button_reply` webhook as Meta does)."""

import datetime as dt
import json

import pytest
import requests
from django.utils import timezone

from crm.tests.fixtures import PHONE_NUMBER_ID
from dashboard.rendering import describe
from whatsapp import send

MARIA = "5511987654321"
BUTTONS = [("order-7-confirm", "Confirm"), ("order-7-change", "Change")]


def send_buttons(shop, customer, body="Order #7: 2 × Blue mug", buttons=BUTTONS, key="buttons-1", **kwargs):
    return send.send_buttons(shop.agent, customer, body, buttons, sent_by=shop.user, idempotency_key=key, **kwargs)


def test_a_message_with_reply_buttons_is_sent_in_metas_interactive_shape(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_buttons(connected_shop, maria, footer="Demo Shop")

    message.refresh_from_db()
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5511987654321",
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": "Order #7: 2 × Blue mug"},
            "footer": {"text": "Demo Shop"},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": "order-7-confirm", "title": "Confirm"}},
                    {"type": "reply", "reply": {"id": "order-7-change", "title": "Change"}},
                ]
            },
        },
    }
    assert (message.status, message.wa_type) == ("sent", "interactive")
    assert message.message == "Order #7: 2 × Blue mug\nDemo Shop\n[Confirm · Change]"
    [on_the_phone] = fake_graph.conversation(PHONE_NUMBER_ID, MARIA)
    assert on_the_phone["buttons"] == [
        {"id": "order-7-confirm", "title": "Confirm"},
        {"id": "order-7-change", "title": "Change"},
    ]
    assert on_the_phone["text"] == "Order #7: 2 × Blue mug\nDemo Shop"

    described = describe(message)
    assert (described.kind, described.text, described.buttons) == (
        "buttons",
        "Order #7: 2 × Blue mug",
        ["Confirm", "Change"],
    )
    assert described.preview().startswith("🔘 Order #7")


@pytest.mark.parametrize(
    "body, buttons, error",
    [
        ("", BUTTONS, "needs a text"),
        ("x" * 1025, BUTTONS, "at most 1,024 characters"),
        ("Order", [], "1 to 3 reply buttons"),
        ("Order", BUTTONS * 2, "1 to 3 reply buttons"),
        ("Order", [("a", "Confirm"), ("b", "confirm")], "of its own"),
        ("Order", [("a", "Confirm"), ("a", "Change")], "of its own"),
        ("Order", [("a", "A label longer than twenty")], "1 to 20 characters"),
        ("Order", [(" a", "Confirm")], "without spaces"),
        ("Order", [("a" * 257, "Confirm")], "without spaces"),
    ],
)
def test_malformed_button_messages_are_refused_and_nothing_is_written(connected_shop, maria, body, buttons, error):
    before = connected_shop.tables.Message.objects.count()
    with pytest.raises(send.SendError, match=error):
        send_buttons(connected_shop, maria, body=body, buttons=buttons)
    assert connected_shop.tables.Message.objects.count() == before


def test_buttons_are_free_form_and_need_the_24_hour_window(connected_shop, maria):
    connected_shop.tables.Message.objects.update(timestamp=timezone.now() - dt.timedelta(hours=25))
    with pytest.raises(send.SendError) as refused:
        send_buttons(connected_shop, maria)
    assert refused.value.code == "window_closed"


def test_a_long_header_or_footer_is_refused(connected_shop, maria):
    with pytest.raises(send.SendError, match="The footer can be at most 60"):
        send_buttons(connected_shop, maria, footer="f" * 61)
    with pytest.raises(send.SendError, match="The header can be at most 60"):
        send_buttons(connected_shop, maria, header="h" * 61)


def test_a_header_is_sent_as_text(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        send_buttons(connected_shop, maria, header="Your order")
    assert fake_graph.sent_messages()[0]["interactive"]["header"] == {"type": "text", "text": "Your order"}


def post_message(fake_graph, body):
    return requests.post(
        f"{fake_graph.url}/v24.0/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": "Bearer token"},
        timeout=5,
    )


@pytest.mark.parametrize(
    "interactive, details",
    [
        ({"type": "list", "body": {"text": "x"}, "action": {}}, "not supported"),
        ({"type": "button", "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]}}, "body"),
        ({"type": "button", "body": {"text": "x" * 1025}, "action": {"buttons": []}}, "1024"),
        (
            {
                "type": "button",
                "body": {"text": "x"},
                "footer": {"text": "f" * 61},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "a", "title": "A"}}]},
            },
            "Footer",
        ),
        ({"type": "button", "body": {"text": "x"}, "action": {"buttons": []}}, "1 to 3"),
        (
            {
                "type": "button",
                "body": {"text": "x"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "a", "title": "Same"}},
                        {"type": "reply", "reply": {"id": "b", "title": "Same"}},
                    ]
                },
            },
            "unique title",
        ),
        (
            {
                "type": "button",
                "body": {"text": "x"},
                "action": {
                    "buttons": [
                        {"type": "reply", "reply": {"id": "a", "title": "One"}},
                        {"type": "reply", "reply": {"id": "a", "title": "Two"}},
                    ]
                },
            },
            "unique id",
        ),
    ],
)
def test_the_fake_graph_refuses_malformed_interactive_messages_as_meta_does(fake_graph, interactive, details):
    response = post_message(
        fake_graph, {"messaging_product": "whatsapp", "to": MARIA, "type": "interactive", "interactive": interactive}
    )
    assert response.status_code == 400
    assert details in response.json()["error"]["error_data"]["details"]


def test_the_customer_taps_a_button_and_the_app_gets_metas_button_reply(fake_graph, webhook_receiver):
    fake_graph.register_phone_number(
        PHONE_NUMBER_ID, display_phone_number="+15550100001", webhook_url=webhook_receiver.url
    )
    response = post_message(
        fake_graph,
        {
            "messaging_product": "whatsapp",
            "to": MARIA,
            "type": "interactive",
            "interactive": {
                "type": "button",
                "body": {"text": "Order #7"},
                "action": {"buttons": [{"type": "reply", "reply": {"id": "order-7-confirm", "title": "Confirm"}}]},
            },
        },
    )
    wamid = response.json()["messages"][0]["id"]
    assert fake_graph.wait_for_webhooks()
    webhook_receiver.received.clear()

    control = fake_graph.url + "/_fake/customer_replies"
    reply = requests.post(
        control,
        json={"phone_number_id": PHONE_NUMBER_ID, "wa_id": MARIA, "wamid": wamid, "button_id": "order-7-confirm"},
        timeout=5,
    ).json()
    assert fake_graph.wait_for_webhooks()

    [(_, body)] = webhook_receiver.received
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    [message] = value["messages"]
    assert message == {
        "context": {"from": "15550100001", "id": wamid},
        "from": MARIA,
        "id": reply["wamid"],
        "timestamp": message["timestamp"],
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": "order-7-confirm", "title": "Confirm"}},
    }
    assert fake_graph.conversation(PHONE_NUMBER_ID, MARIA)[-1]["text"] == "Confirm"
    assert (
        requests.post(
            control,
            json={"phone_number_id": PHONE_NUMBER_ID, "wa_id": MARIA, "wamid": wamid, "button_id": "nope"},
            timeout=5,
        ).status_code
        == 400
    )
    assert (
        requests.post(
            control,
            json={
                "phone_number_id": PHONE_NUMBER_ID,
                "wa_id": MARIA,
                "wamid": "wamid.x",
                "button_id": "order-7-confirm",
            },
            timeout=5,
        ).status_code
        == 400
    )
