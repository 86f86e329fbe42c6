"""The fake Graph API plays payments in WhatsApp: it holds order_details and order_status messages to the
rules Meta publishes (payments-in/pg), and posts Meta's payment status webhooks when the customer pays."""

import copy
import json

import pytest
import requests

HEADERS = {"Authorization": "Bearer t"}
ORDER_DETAILS = {
    "messaging_product": "whatsapp",
    "recipient_type": "individual",
    "to": "14155550123",
    "type": "interactive",
    "interactive": {
        "type": "order_details",
        "body": {"text": "Order #7"},
        "action": {
            "name": "review_and_pay",
            "parameters": {
                "reference_id": "order-7-1",
                "type": "physical-goods",
                "payment_settings": [
                    {"type": "payment_gateway", "payment_gateway": {"type": "razorpay", "configuration_name": "cfg"}}
                ],
                "currency": "INR",
                "total_amount": {"value": 21000, "offset": 100},
                "order": {
                    "status": "pending",
                    "items": [
                        {
                            "retailer_id": "1234567",
                            "name": "Bread",
                            "amount": {"value": 10000, "offset": 100},
                            "quantity": 2,
                        }
                    ],
                    "subtotal": {"value": 20000, "offset": 100},
                    "tax": {"value": 1000, "offset": 100},
                    "shipping": {"value": 1000, "offset": 100},
                    "discount": {"value": 1000, "offset": 100},
                },
            },
        },
    },
}


def payment_statuses(receiver):
    """The payment statuses posted, one per delivery (the message's own sent and delivered left out)."""
    found = []
    for _, body in receiver.received:
        for status in json.loads(body)["entry"][0]["changes"][0]["value"].get("statuses", []):
            if status.get("type") == "payment":
                found.append(status)
    return found


def send(fake_graph, body):
    return requests.post(f"{fake_graph.url}/v24.0/1001/messages", json=body, headers=HEADERS, timeout=5)


def broken(change):
    body = copy.deepcopy(ORDER_DETAILS)
    change(body["interactive"]["action"]["parameters"])
    return body


def test_metas_own_example_is_accepted(fake_graph):
    assert send(fake_graph, ORDER_DETAILS).status_code == 200


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(reference_id="has space"),
        lambda p: p.update(type="services"),
        lambda p: p.update(payment_settings=[]),
        lambda p: p["total_amount"].update(value=20999),
        lambda p: p["order"]["subtotal"].update(value=1),
        lambda p: p["order"]["items"][0].update(quantity=1.5),
        lambda p: p["order"]["items"][0]["amount"].update(offset=1000),
        lambda p: p["order"].update(status="captured"),
        lambda p: p["order"].pop("tax"),
    ],
)
def test_an_order_details_that_breaks_metas_rules_is_refused(fake_graph, change):
    response = send(fake_graph, broken(change))
    assert response.status_code == 400 and response.json()["error"]["code"] == 131009


def test_an_order_status_needs_a_known_status(fake_graph):
    body = {
        **ORDER_DETAILS,
        "interactive": {
            "type": "order_status",
            "body": {"text": "Shipped"},
            "action": {
                "name": "review_order",
                "parameters": {"reference_id": "order-7-1", "order": {"status": "shipped"}},
            },
        },
    }
    assert send(fake_graph, body).status_code == 200
    body["interactive"]["action"]["parameters"]["order"]["status"] = "delivered"
    assert send(fake_graph, body).status_code == 400


def test_the_customer_paying_posts_metas_payment_status(fake_graph, webhook_receiver):
    fake_graph.register_phone_number("1001", webhook_url=webhook_receiver.url)
    wamid = send(fake_graph, ORDER_DETAILS).json()["messages"][0]["id"]
    transaction_id = fake_graph.customer_pays("1001", "14155550123", wamid, "success", times=2)
    assert fake_graph.wait_for_webhooks()
    status, again = payment_statuses(webhook_receiver)
    assert status == again  # a re-delivery: the same notification again
    assert (status["type"], status["status"], status["recipient_id"]) == ("payment", "captured", "14155550123")
    payment = status["payment"]
    assert (payment["reference_id"], payment["amount"], payment["currency"]) == (
        "order-7-1",
        {"value": 21000, "offset": 100},
        "INR",
    )
    assert payment["transaction"]["id"] == transaction_id
    assert (payment["transaction"]["type"], payment["transaction"]["status"]) == ("razorpay", "success")
    assert payment["transaction"]["method"] == {"type": "upi"}


def test_a_failed_payment_carries_the_gateways_reason(fake_graph, webhook_receiver):
    fake_graph.register_phone_number("1001", webhook_url=webhook_receiver.url)
    wamid = send(fake_graph, ORDER_DETAILS).json()["messages"][0]["id"]
    fake_graph.customer_pays("1001", "14155550123", wamid, "failed")
    assert fake_graph.wait_for_webhooks()
    [status] = payment_statuses(webhook_receiver)
    assert status["status"] == "pending" and status["payment"]["transaction"]["status"] == "failed"
    assert status["payment"]["transaction"]["error"]["reason"] == "The bank declined the payment."


def test_only_an_order_details_message_can_be_paid(fake_graph):
    with pytest.raises(ValueError):
        fake_graph.customer_pays("1001", "14155550123", "wamid.nothing", "success")
