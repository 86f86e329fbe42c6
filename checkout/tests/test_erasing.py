"""Erasing a customer takes the money records of their orders with them: the ledger's payments and
refunds, the payment requests and Meta's notices; another customer's stay."""

from decimal import Decimal

from agents import tables
from agents.customer_data import erase_customer
from checkout.models import PaymentEvent, PaymentRequest
from orders import placing
from orders.placing import LineItem
from payments import ledger
from payments.models import Payment


def paid_order(agent, customer, reference):
    order = placing.create_order(agent, customer, [LineItem("Mug", 1, Decimal("10"))], actor=None)
    payment = ledger.record_payment(agent, order, amount="10", method="cash")
    PaymentRequest.objects.create(
        agent=agent, order_id=order.pk, reference_id=reference, amount=10, currency="USD", configuration="c"
    )
    PaymentEvent.objects.create(
        agent=agent, order_id=order.pk, reference_id=reference, transaction_id=reference, status="success"
    )
    return order, payment


def test_erasing_a_customer_deletes_the_payments_requests_and_notices_of_their_orders(agent_a, maria):
    bruno = tables.for_agent(agent_a).Customer.objects.create(name="Bruno", phone="+5511900000001")
    _, payment = paid_order(agent_a, maria, "r-maria")
    ledger.record_refund(agent_a, payment, amount="4", reason="Chipped", actor=None)
    kept, _ = paid_order(agent_a, bruno, "r-bruno")

    counts = erase_customer(agent_a, tables.for_agent(agent_a), maria, actor=None)

    assert (counts["payments"], counts["payment_requests"], counts["payment_notices"]) == (2, 1, 1)
    assert set(Payment.objects.values_list("order_id", flat=True)) == {kept.pk}
    assert list(PaymentRequest.objects.values_list("reference_id", flat=True)) == ["r-bruno"]
    assert list(PaymentEvent.objects.values_list("reference_id", flat=True)) == ["r-bruno"]
