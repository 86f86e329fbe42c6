"""The sandbox customer reviews and pays an order the shop sent as order_details: Pay posts Meta's payment
status webhook, Fail posts a failed one, and a bad choice is a sentence, never a 500."""

import json
from decimal import Decimal

from django.urls import reverse

from agents import tables
from checkout import meta, ways
from orders import placing
from orders.placing import LineItem

from .test_sandbox import chat_params


def payment_statuses(receiver):
    return [
        status
        for _, body in receiver.received
        for status in json.loads(body)["entry"][0]["changes"][0]["value"].get("statuses", [])
        if status.get("type") == "payment"
    ]


def test_the_customer_pays_or_fails_to_pay_in_the_sandbox(
    client,
    settings,
    connected_shop,
    fake_graph,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    settings.WHATSAPP_SANDBOX = True
    agent, configuration = connected_shop.agent, connected_shop.configuration
    params = chat_params(configuration)
    agent_tables = tables.for_agent(agent)
    customer = agent_tables.Customer.objects.create(name="John Carter", phone="+14155550123")
    agent_tables.Message.objects.create(customer=customer, message="Hi!", direction="inbound")
    ways.save_settings(agent, actor=agent.user, meta_configuration="shop-a")
    order = placing.create_order(agent, customer, [LineItem("Mug", 2, Decimal("8.00"))], actor=agent.user)
    with django_capture_on_commit_callbacks(execute=True):
        sent = meta.send_for_payment(agent, order, sent_by=agent.user, idempotency_key="pay")
    sent.refresh_from_db()

    chat = client.get(reverse("sandbox:chat"), params, HTTP_HOST=webhook_receiver.host).content.decode()
    assert 'aria-label="Review and pay"' in chat and "Total: USD 16.00" in chat
    assert '<button type="submit" name="outcome" value="success">Pay USD 16.00</button>' in chat
    fake_graph.wait_for_webhooks()
    webhook_receiver.received.clear()

    for outcome in ("failed", "success"):
        response = client.post(
            reverse("sandbox:pay"), {**params, "wamid": sent.wamid, "outcome": outcome}, HTTP_HOST=webhook_receiver.host
        )
        assert response.status_code == 302
    assert fake_graph.wait_for_webhooks()
    assert [status["payment"]["transaction"]["status"] for status in payment_statuses(webhook_receiver)] == [
        "failed",
        "success",
    ]
    chat = client.get(reverse("sandbox:chat"), params, HTTP_HOST=webhook_receiver.host).content.decode()
    assert "You paid." in chat and "Pay USD 16.00" not in chat

    response = client.post(reverse("sandbox:pay"), {**params, "wamid": sent.wamid, "outcome": "twice"}, follow=True)
    assert "Choose a business number, your phone number and Pay or Fail first." in response.content.decode()
    response = client.post(
        reverse("sandbox:pay"), {**params, "wamid": "wamid.other", "outcome": "success"}, follow=True
    )
    assert response.status_code == 200 and "no order_details message" in response.content.decode()
