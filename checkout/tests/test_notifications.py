"""Meta's payment notifications through the real webhook (a live server, real HTTP): each stored once and
applied once; an unknown reference or another agent's order is stored unmatched and never applied."""

import json
import time
from decimal import Decimal

import pytest
import requests
from django.conf import settings
from django.urls import reverse

from agents import tables
from checkout import meta, ways
from checkout.models import PaymentEvent, PaymentRequest
from crm.tests.fixtures import MARIA_WA_ID, PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem
from payments import ledger
from payments.models import Payment
from whatsapp import signatures
from whatsapp.models import WebhookEvent
from whatsapp.tests.payloads import notification, value


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.fixture
def sent_order(live_shop, maria, fake_graph):
    """Maria's order of $16.00, sent to her to review and pay (its order_details message on her phone)."""
    agent = live_shop.agent
    ways.save_settings(agent, actor=live_shop.user, meta_configuration="shop-a-razorpay")
    order = placing.create_order(agent, maria, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=live_shop.user)
    message = meta.send_for_payment(agent, order, sent_by=live_shop.user, idempotency_key="pay-1")
    assert wait_until(lambda: tables.for_agent(agent).Message.objects.get(pk=message.pk).wamid)
    # The fake's sent and delivered statuses in first: on SQLite the live server's threads share the test
    # database's one connection, so a payment posted while they arrive would interleave with them.
    settled(fake_graph)
    message.refresh_from_db()
    return order, message


def paid(order):
    return tables.for_agent(order.customer.agent).Order.objects.get(pk=order.pk).paid_at is not None


def settled(fake_graph):
    assert fake_graph.wait_for_webhooks()
    assert [delivery["status"] for delivery in fake_graph.deliveries] == [200] * len(fake_graph.deliveries)


def order_of(shop, order_id):
    return tables.for_agent(shop.agent).Order.objects.get(pk=order_id)


def test_a_successful_payment_marks_the_order_paid_once_however_often_it_comes(live_shop, sent_order, fake_graph):
    order, message = sent_order
    transaction_id = fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "success", times=3)
    settled(fake_graph)
    [event] = PaymentEvent.objects.filter(agent=live_shop.agent)
    assert (event.order_id, event.transaction_id, event.status, event.amount, event.currency, event.applied) == (
        order.pk,
        transaction_id,
        "success",
        Decimal("16.00"),
        "USD",
        True,
    )
    order = order_of(live_shop, order.pk)
    assert order.paid_at is not None
    assert order.events.filter(kind="paid").count() == 1
    [notice] = order.events.filter(kind="payment_notice")
    assert notice.note == f"Paid: $16.00 in WhatsApp (transaction {transaction_id}, upi)"
    [payment] = Payment.objects.filter(agent=live_shop.agent)
    assert (payment.order_id, payment.amount, payment.method, payment.source, payment.reference) == (
        order.pk,
        Decimal("16.00"),
        "whatsapp_pay",
        "whatsapp",
        transaction_id,
    )
    assert ledger.balance(live_shop.agent, order).state == "paid"


def test_a_customer_who_pays_twice_is_recorded_once_in_the_ledger(live_shop, sent_order, fake_graph):
    order, message = sent_order
    first = fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "success")
    second = fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "success")
    settled(fake_graph)
    assert first != second
    assert sorted(PaymentEvent.objects.values_list("transaction_id", "applied")) == sorted(
        [(first, True), (second, False)]
    )
    assert list(Payment.objects.values_list("reference", "amount")) == [(first, Decimal("16.00"))]
    assert ledger.balance(live_shop.agent, order_of(live_shop, order.pk)).paid == Decimal("16.00")


def test_a_replayed_payment_event_changes_nothing(live_shop, sent_order, fake_graph):
    from whatsapp import intake

    order, message = sent_order
    fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "success")
    settled(fake_graph)
    stored = WebhookEvent.objects.filter(body__contains='"payment"').get()
    intake.replay_events([stored.pk])
    assert PaymentEvent.objects.count() == 1
    events = order_of(live_shop, order.pk).events
    assert [events.filter(kind=kind).count() for kind in ("paid", "payment", "payment_notice")] == [1, 1, 1]
    assert Payment.objects.count() == 1


@pytest.mark.parametrize("outcome", ["pending", "failed"])
def test_a_pending_or_failed_payment_is_stored_once_and_leaves_the_order_unpaid(
    live_shop, sent_order, fake_graph, outcome
):
    order, message = sent_order
    fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, outcome, times=2)
    settled(fake_graph)
    [event] = PaymentEvent.objects.all()
    assert (event.order_id, event.status, event.applied) == (order.pk, outcome, False)
    order = order_of(live_shop, order.pk)
    assert order.paid_at is None and not order.events.filter(kind="paid").exists()
    [notice] = order.events.filter(kind="payment_notice")
    assert notice.note.startswith("Payment pending" if outcome == "pending" else "Payment failed")
    if outcome == "failed":
        assert event.error == "The bank declined the payment." and notice.note.endswith(event.error)


def test_a_failed_then_successful_payment_pays_the_order(live_shop, sent_order, fake_graph):
    order, message = sent_order
    fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "failed")
    fake_graph.customer_pays(PHONE_NUMBER_ID, MARIA_WA_ID, message.wamid, "success")
    settled(fake_graph)
    assert sorted(PaymentEvent.objects.values_list("status", "applied")) == [("failed", False), ("success", True)]
    assert order_of(live_shop, order.pk).paid_at is not None


def post_status(live_server, status):
    """A `statuses` entry, posted signed to the webhook over HTTP as Meta posts it."""
    body = json.dumps(notification(value(statuses=[status], phone_number_id=PHONE_NUMBER_ID))).encode()
    return requests.post(
        live_server.url + reverse("whatsapp_webhook"),
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signatures.sign(body, settings.WHATSAPP_APP_SECRET),
        },
        timeout=10,
    )


def post_payment(live_server, reference_id, transaction_id="pay_outside", cents=1600):
    """A payment notification written from Meta's documentation, posted signed to the webhook over HTTP."""
    status = {
        "id": "gBGGFlB5YjhvAgnhuF1qIUvCo7A",
        "recipient_id": MARIA_WA_ID,
        "type": "payment",
        "status": "captured",
        "payment": {
            "reference_id": reference_id,
            "amount": {"value": cents, "offset": 100},
            "transaction": {
                "id": transaction_id,
                "pg_transaction_id": "pg_1",
                "type": "razorpay",
                "status": "success",
                "created_timestamp": 1750030073,
                "updated_timestamp": 1750030080,
                "method": {"type": "upi"},
            },
            "currency": "USD",
        },
        "timestamp": "1750030080",
    }
    response = post_status(live_server, status)
    assert response.status_code == 200


def test_an_unknown_reference_is_stored_unmatched(live_shop, live_server, sent_order):
    order, _ = sent_order
    post_payment(live_server, "order-999999-1")
    [event] = PaymentEvent.objects.all()
    assert (event.agent_id, event.order_id, event.applied) == (live_shop.agent.pk, None, False)
    assert order_of(live_shop, order.pk).paid_at is None
    assert "names no order of this shop" in WebhookEvent.objects.get(body__contains="order-999999-1").summary


def test_another_agents_order_is_never_paid_by_this_agents_notification(live_shop, live_server, sent_order, agent_b):
    order, _ = sent_order
    b_tables = tables.for_agent(agent_b)
    b_customer = b_tables.Customer.objects.create(name="Bia", phone="+5511900000000")
    b_order = placing.create_order(agent_b, b_customer, [LineItem("Lamp", 2, Decimal("8.00"))], actor=agent_b.user)
    PaymentRequest.objects.create(
        agent=agent_b, order_id=b_order.pk, reference_id="b-order-1", amount=16, currency="USD", configuration="b"
    )
    post_payment(live_server, "b-order-1")
    [event] = PaymentEvent.objects.all()
    assert (event.agent_id, event.order_id, event.applied) == (live_shop.agent.pk, None, False)
    assert b_tables.Order.objects.get(pk=b_order.pk).paid_at is None
    assert order_of(live_shop, order.pk).paid_at is None


def test_a_payment_notification_without_a_transaction_is_refused_without_a_500(live_shop, live_server):
    status = {"id": "x", "type": "payment", "status": "captured", "payment": {"reference_id": "order-1-1"}}
    response = post_status(live_server, status)
    assert response.status_code == 200
    assert not PaymentEvent.objects.exists()
    assert "transaction id" in WebhookEvent.objects.get().error


def test_a_payment_of_another_amount_says_what_the_order_asked_for(live_shop, live_server, sent_order):
    order, _ = sent_order
    post_payment(live_server, f"a{live_shop.agent.pk}-o{order.pk}-1", cents=1500)
    [event] = PaymentEvent.objects.all()
    assert (event.order_id, event.amount, event.applied) == (order.pk, Decimal("15.00"), True)
    [notice] = order_of(live_shop, order.pk).events.filter(kind="payment_notice")
    assert notice.note == "Paid: $15.00 in WhatsApp (transaction pay_outside, upi); the order asked for $16.00"


def test_a_success_that_fails_to_apply_leaves_no_notice_and_a_replay_applies_it(
    live_shop, live_server, sent_order, monkeypatch
):
    from checkout import notifications
    from whatsapp import intake

    order, _ = sent_order

    def broken(agent, order, event):
        raise RuntimeError("the ledger is down")

    monkeypatch.setattr(notifications, "apply_success", broken)
    post_payment(live_server, f"a{live_shop.agent.pk}-o{order.pk}-1")
    assert not PaymentEvent.objects.exists() and order_of(live_shop, order.pk).paid_at is None

    monkeypatch.undo()
    intake.replay_events([WebhookEvent.objects.get(body__contains="pay_outside").pk])
    [event] = PaymentEvent.objects.all()
    assert event.applied and order_of(live_shop, order.pk).paid_at is not None


@pytest.mark.parametrize("cents", [-1, None])
def test_a_success_without_a_real_amount_is_stored_and_not_applied(live_shop, live_server, sent_order, cents):
    order, _ = sent_order
    post_payment(live_server, f"a{live_shop.agent.pk}-o{order.pk}-1", cents=cents)
    [event] = PaymentEvent.objects.all()
    assert (event.order_id, event.amount, event.applied) == (order.pk, None, False)
    assert order_of(live_shop, order.pk).paid_at is None and not Payment.objects.exists()


@pytest.mark.parametrize(
    "status",
    [
        {"type": "payment", "status": {"a": 1}, "payment": {"reference_id": "r", "transaction": {"id": "t"}}},
        {
            "type": "payment",
            "status": "captured",
            "payment": {"reference_id": "r", "transaction": {"id": "t", "status": "paid"}},
        },
        {"type": "payment", "payment": ["r"]},
        {"type": {"payment": 1}, "id": "wamid.x", "status": "sent"},
    ],
)
def test_a_malformed_payment_status_is_an_error_of_the_event_never_a_crash(live_shop, live_server, status):
    response = post_status(live_server, status)
    assert response.status_code == 200
    assert not PaymentEvent.objects.exists()
    assert "Error:" not in WebhookEvent.objects.get().error
