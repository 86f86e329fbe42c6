"""Review and pay in WhatsApp: the order_details and order_status request bodies, as Meta publishes them
(documentation/whatsapp/payments/payments-in/pg, Steps 1 and 6), checked by the fake Graph API too."""

from decimal import Decimal

import pytest

from checkout import meta, ways
from checkout.models import PaymentRequest
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import placing, workflow
from orders.placing import Discount, LineItem


@pytest.fixture
def meta_shop(connected_shop):
    ways.save_settings(
        connected_shop.agent, actor=connected_shop.user, meta_configuration="shop-a-razorpay", meta_gateway="razorpay"
    )
    return connected_shop


def send_for_payment(shop, order, django_capture_on_commit_callbacks, key="k1"):
    with django_capture_on_commit_callbacks(execute=True):
        message = meta.send_for_payment(shop.agent, order, sent_by=shop.user, idempotency_key=key)
    message.refresh_from_db()
    return message


def test_the_order_details_body_is_metas_review_and_pay(
    meta_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = placing.create_order(
        meta_shop.agent,
        maria,
        [
            LineItem("Blue mug", 2, Decimal("8.00")),
            LineItem("Gift wrap", 1, Decimal("1.50")),
            LineItem("Delivery", 1, Decimal("4.00"), kind="fee"),
        ],
        actor=meta_shop.user,
        discount=Discount("amount", Decimal("2.00")),
    )
    message = send_for_payment(meta_shop, order, django_capture_on_commit_callbacks)
    assert message.status == "sent"  # the fake Graph API accepted it: its checks of Meta's rules passed
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert (sent["messaging_product"], sent["recipient_type"], sent["to"], sent["type"]) == (
        "whatsapp",
        "individual",
        "+5511987654321",
        "interactive",
    )
    interactive = sent["interactive"]
    assert interactive["type"] == "order_details"
    assert interactive["body"]["text"].startswith(f"Order #{order.pk} from Shop A")
    assert interactive["action"] == {
        "name": "review_and_pay",
        "parameters": {
            "reference_id": f"a{order.customer.agent_id}-o{order.pk}-1",
            "type": "physical-goods",
            "payment_settings": [
                {
                    "type": "payment_gateway",
                    "payment_gateway": {"type": "razorpay", "configuration_name": "shop-a-razorpay"},
                }
            ],
            "currency": "USD",
            "total_amount": {"value": 1950, "offset": 100},
            "order": {
                "status": "pending",
                "items": [
                    {"name": "Blue mug", "amount": {"value": 800, "offset": 100}, "quantity": 2},
                    {"name": "Gift wrap", "amount": {"value": 150, "offset": 100}, "quantity": 1},
                ],
                "subtotal": {"value": 1750, "offset": 100},
                "tax": {"value": 0, "offset": 100},
                "shipping": {"value": 400, "offset": 100, "description": "Delivery"},
                "discount": {"value": 200, "offset": 100},
            },
        },
    }
    request = PaymentRequest.objects.get(agent=meta_shop.agent, order_id=order.pk)
    assert (request.reference_id, request.amount, request.message_id) == (
        f"a{order.customer.agent_id}-o{order.pk}-1",
        Decimal("19.50"),
        message.pk,
    )
    assert order.events.filter(kind="payment_requested", message_id=message.pk).count() == 1


def test_the_same_request_twice_sends_one_order_details(
    meta_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = placing.create_order(
        meta_shop.agent, maria, [LineItem("Blue mug", 1, Decimal("8.00"))], actor=meta_shop.user
    )
    first = send_for_payment(meta_shop, order, django_capture_on_commit_callbacks)
    second = send_for_payment(meta_shop, order, django_capture_on_commit_callbacks)
    assert first.pk == second.pk and len(fake_graph.sent_messages()) == 1
    assert PaymentRequest.objects.filter(order_id=order.pk).count() == 1


def test_a_shop_without_meta_payments_cannot_send_for_payment(connected_shop, maria):
    order = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("8.00"))], actor=connected_shop.user
    )
    assert not meta.can_request_payment(connected_shop.agent, order)
    with pytest.raises(ways.CheckoutError):
        meta.send_for_payment(connected_shop.agent, order, sent_by=connected_shop.user, idempotency_key="k")


def test_an_order_with_a_payment_recorded_is_not_sent_to_review_and_pay(meta_shop, maria):
    from payments import ledger

    agent = meta_shop.agent
    order = placing.create_order(agent, maria, [LineItem("Mug", 10, Decimal("10.00"))], actor=meta_shop.user)
    assert meta.can_request_payment(agent, order)
    ledger.record_payment(agent, order, amount="60", method="bank_transfer")

    assert not meta.can_request_payment(agent, order)
    with pytest.raises(ways.CheckoutError, match="Part of this order is paid already"):
        meta.send_for_payment(agent, order, sent_by=meta_shop.user, idempotency_key="k")
    assert not PaymentRequest.objects.exists()


def test_a_status_change_of_an_order_sent_for_payment_is_an_order_status(
    meta_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = placing.create_order(
        meta_shop.agent, maria, [LineItem("Blue mug", 1, Decimal("8.00"))], actor=meta_shop.user
    )
    send_for_payment(meta_shop, order, django_capture_on_commit_callbacks)
    for status in ("confirmed", "processing", "shipped", "delivered"):
        with django_capture_on_commit_callbacks(execute=True):
            order, _ = workflow.change_status(
                meta_shop.agent,
                order,
                status,
                actor=meta_shop.user,
                on_commit=lambda order, event: meta.notify_status_change(
                    meta_shop.agent, order, event, sent_by=meta_shop.user
                ),
            )
    sent = fake_graph.sent_messages(PHONE_NUMBER_ID)[1:]
    assert [m["interactive"]["type"] for m in sent] == ["order_status"] * 4
    assert [m["interactive"]["action"] for m in sent] == [
        {
            "name": "review_order",
            "parameters": {"reference_id": f"a{order.customer.agent_id}-o{order.pk}-1", "order": {"status": status}},
        }
        for status in ("processing", "processing", "shipped", "completed")
    ]
    assert (
        sent[0]["interactive"]["body"]["text"]
        == f"Hi Maria, your order #{order.pk} from Shop A is confirmed. Total: $8.00."
    )


def test_a_status_change_of_an_order_never_sent_for_payment_is_a_text(
    meta_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = placing.create_order(
        meta_shop.agent, maria, [LineItem("Blue mug", 1, Decimal("8.00"))], actor=meta_shop.user
    )
    with django_capture_on_commit_callbacks(execute=True):
        workflow.change_status(
            meta_shop.agent,
            order,
            "confirmed",
            actor=meta_shop.user,
            on_commit=lambda order, event: meta.notify_status_change(
                meta_shop.agent, order, event, sent_by=meta_shop.user
            ),
        )
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["type"] == "text"
