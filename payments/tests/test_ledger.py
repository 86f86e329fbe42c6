"""The ledger: payments add up to the total, never past it; refunds stay within their payment; balances."""

import threading
from decimal import Decimal

import pytest
from django.db import connections

from agents import tables
from orders import placing, reports, workflow
from orders.placing import LineItem
from payments import ledger
from payments.ledger import PaymentError
from payments.models import Payment


def make_order(agent, customer, total="100", status="confirmed"):
    order = placing.create_order(agent, customer, [LineItem("Linen shirt", 1, Decimal(total))], actor=None)
    tables.for_agent(agent).Order.objects.filter(pk=order.pk).update(status=status)
    return tables.for_agent(agent).Order.objects.get(pk=order.pk)


def reloaded(agent, order):
    return tables.for_agent(agent).Order.objects.get(pk=order.pk)


def notes(agent, order):
    return list(
        tables.for_agent(agent).OrderEvent.objects.filter(order=order).order_by("id").values_list("kind", "note")
    )


def test_partial_payments_add_up_and_the_last_marks_the_order_paid(agent_a, maria):
    order = make_order(agent_a, maria)
    assert tuple(ledger.balance(agent_a, order)) == (0, 0, Decimal("100"), "unpaid")

    ledger.record_payment(agent_a, order, amount="30", method="bank_transfer", reference="TR-1", actor=agent_a.user)
    assert tuple(ledger.balance(agent_a, order)) == (Decimal("30"), 0, Decimal("70"), "part_paid")
    assert reloaded(agent_a, order).paid_at is None

    ledger.record_payment(agent_a, order, amount=Decimal("70.00"), method="cash", actor=agent_a.user)
    order = reloaded(agent_a, order)
    assert tuple(ledger.balance(agent_a, order)) == (Decimal("100"), 0, Decimal("0"), "paid")
    assert order.paid_at is not None
    kinds = [kind for kind, _ in notes(agent_a, order)]
    assert kinds == ["created", "payment", "payment", "paid"]
    assert ("paid", "Marked as paid") in notes(agent_a, order)
    assert any("Payment of $30.00 by bank transfer (reference TR-1)" in note for _, note in notes(agent_a, order))


@pytest.mark.parametrize(
    "amount, message",
    [
        ("100.01", r"more than the \$100.00 still owed"),
        ("0", "more than zero"),
        ("-5", "more than zero"),
        ("1.005", "two decimals"),
        ("1e13", "at most"),
        ("NaN", "as a number"),
        ("12\x00", "as a number"),
    ],
)
def test_an_amount_past_what_is_owed_or_not_an_amount_is_refused(agent_a, maria, amount, message):
    order = make_order(agent_a, maria)
    with pytest.raises(PaymentError, match=message):
        ledger.record_payment(agent_a, order, amount=amount, method="cash")
    assert not Payment.objects.exists()


def test_an_overpayment_after_a_part_is_refused_and_changes_nothing(agent_a, maria):
    order = make_order(agent_a, maria)
    ledger.record_payment(agent_a, order, amount="60", method="cash")
    with pytest.raises(PaymentError, match=r"more than the \$40.00 still owed"):
        ledger.record_payment(agent_a, order, amount="40.01", method="cash")
    assert Payment.objects.count() == 1
    assert ledger.balance(agent_a, order).owed == Decimal("40")


def test_a_paid_or_refunded_order_takes_no_payment(agent_a, maria):
    paid = make_order(agent_a, maria)
    ledger.record_payment(agent_a, paid, amount="100", method="cash")
    with pytest.raises(PaymentError, match="owes nothing"):
        ledger.record_payment(agent_a, paid, amount="1", method="cash")
    refunded = make_order(agent_a, maria, status="refunded")
    with pytest.raises(PaymentError, match="refunded order takes no payment"):
        ledger.record_payment(agent_a, refunded, amount="1", method="cash")


def test_record_payment_is_idempotent_on_its_reference(agent_a, maria):
    order = make_order(agent_a, maria)
    first = ledger.record_payment(agent_a, order, amount="40", method="link", reference="pay_123", source="gateway")
    again = ledger.record_payment(agent_a, order, amount="40", method="link", reference="pay_123", source="gateway")
    assert again.pk == first.pk
    assert Payment.objects.count() == 1
    assert [kind for kind, _ in notes(agent_a, order)].count("payment") == 1
    # The same reference from another source is another payment.
    ledger.record_payment(agent_a, order, amount="10", method="cash", reference="pay_123")
    assert ledger.balance(agent_a, order).paid == Decimal("50")


def test_a_reference_already_on_another_orders_payment_is_refused(agent_a, maria):
    first, second = make_order(agent_a, maria), make_order(agent_a, maria)
    ledger.record_payment(agent_a, first, amount="10", method="bank_transfer", reference="TX1")

    with pytest.raises(PaymentError, match=f"TX1 is already on the payment of order #{first.pk}"):
        ledger.record_payment(agent_a, second, amount="100", method="bank_transfer", reference="TX1")
    assert ledger.balance(agent_a, second).paid == 0 and Payment.objects.count() == 1


def test_what_is_waiting_is_summed_over_more_orders_than_a_statement_takes_ids(agent_a, maria, monkeypatch):
    orders = [make_order(agent_a, maria, total="10") for _ in range(4)]
    ledger.record_payment(agent_a, orders[0], amount="4", method="cash")
    few = ledger.waiting_to_be_collected(agent_a)
    monkeypatch.setattr(ledger, "MANY_ORDERS", 2)  # the sums then come from all the agent's rows at once
    assert ledger.waiting_to_be_collected(agent_a) == few == Decimal("36")


def test_an_order_with_money_in_can_no_longer_change_its_items(agent_a, maria):
    order = make_order(agent_a, maria)
    ledger.record_payment(agent_a, order, amount="60", method="cash")

    with pytest.raises(placing.OrderError, match="has payments recorded"):
        placing.update_order(agent_a, order, [LineItem("Linen shirt", 3, Decimal("100"))], actor=None)
    assert reloaded(agent_a, order).total_amount == Decimal("100")
    assert ledger.balance(agent_a, order).owed == Decimal("40")


def test_refunds_stay_within_their_payment_and_a_full_refund_moves_the_order_to_refunded(agent_a, maria):
    order = make_order(agent_a, maria, status="delivered")
    first = ledger.record_payment(agent_a, order, amount="60", method="cash")
    second = ledger.record_payment(agent_a, order, amount="40", method="bank_transfer")

    with pytest.raises(PaymentError, match=r"more than the \$40.00 of this payment"):
        ledger.record_refund(agent_a, second, amount="40.01", reason="Damaged", actor=None)
    with pytest.raises(PaymentError, match="Say why"):
        ledger.record_refund(agent_a, second, amount="1", reason="  ", actor=None)
    ledger.record_refund(agent_a, second, amount="40", reason="Damaged", actor=agent_a.user)
    with pytest.raises(PaymentError, match=r"more than the \$0.00"):
        ledger.record_refund(agent_a, second, amount="1", reason="Again", actor=None)
    assert reloaded(agent_a, order).status == "delivered"
    assert tuple(ledger.balance(agent_a, order)) == (Decimal("100"), Decimal("40"), Decimal("0"), "paid")

    ledger.record_refund(agent_a, first, amount="60", reason="Returned", actor=agent_a.user)
    order = reloaded(agent_a, order)
    assert order.status == "refunded"
    assert ledger.balance(agent_a, order).state == "refunded"
    history = notes(agent_a, order)
    assert ("refund", "Refund of $40.00: Damaged") in history
    assert history[-1] == ("status", "Refunded in full: Returned")


def test_a_full_refund_of_an_order_not_delivered_leaves_its_status(agent_a, maria):
    order = make_order(agent_a, maria, status="processing")
    payment = ledger.record_payment(agent_a, order, amount="100", method="cash")
    ledger.record_refund(agent_a, payment, amount="100", reason="Out of stock", actor=None)
    assert reloaded(agent_a, order).status == "processing"
    assert ledger.balance(agent_a, order).state == "refunded"


def test_a_paid_cancelled_order_refunded_in_full_becomes_refunded(agent_a, maria):
    order = make_order(agent_a, maria)
    payment = ledger.record_payment(agent_a, order, amount="100", method="cash")
    workflow.change_status(agent_a, order, "cancelled", actor=None)
    ledger.record_refund(agent_a, payment, amount="100", reason="Cancelled", actor=None)
    assert reloaded(agent_a, order).status == "refunded"


def test_another_agents_order_and_payment_are_refused(agent_a, agent_b, maria):
    order = make_order(agent_a, maria)
    payment = ledger.record_payment(agent_a, order, amount="10", method="cash")
    b_tables = tables.for_agent(agent_b)
    b_customer = b_tables.Customer.objects.create(name="Bea", phone="+15550100099")
    b_order = make_order(agent_b, b_customer)
    with pytest.raises(PaymentError, match="not one of this shop's"):
        ledger.record_payment(agent_a, b_order, amount="1", method="cash")
    with pytest.raises(PaymentError, match="not one of this shop's"):
        ledger.record_refund(agent_b, payment, amount="1", reason="Nope", actor=None)
    assert Payment.objects.count() == 1


def test_a_proof_must_be_the_customers_own_image_or_document(agent_a, maria):
    t = tables.for_agent(agent_a)
    order = make_order(agent_a, maria)
    text = t.Message.objects.filter(customer=maria).get()
    image = t.Message.objects.create(
        customer=maria, direction="inbound", media_type="image", media_url="media/receipt.jpg", wa_type="image"
    )
    for not_a_proof in (text.pk, 10**30, "x"):
        with pytest.raises(PaymentError, match="image or document this customer sent"):
            ledger.record_payment(agent_a, order, amount="10", method="bank_transfer", proof_message_id=not_a_proof)
    payment = ledger.record_payment(agent_a, order, amount="10", method="bank_transfer", proof_message_id=image.pk)
    assert payment.proof_message_id == image.pk


def test_customer_balance_and_what_is_waiting_to_be_collected(agent_a, maria):
    first = make_order(agent_a, maria, total="100")
    make_order(agent_a, maria, total="50")
    make_order(agent_a, maria, total="999", status="cancelled")
    make_order(agent_a, maria, total="999", status="pending")
    ledger.record_payment(agent_a, first, amount="25", method="cash")
    found = ledger.customer_balance(agent_a, maria)
    assert (found.orders, found.total, found.paid, found.owed) == (2, Decimal("150"), Decimal("25"), Decimal("125"))
    assert ledger.waiting_to_be_collected(agent_a) == Decimal("125")
    rows = ledger.owed_orders(agent_a)
    assert [(row.order.total_amount, row.balance.state) for row in rows] == [
        (Decimal("100"), "part_paid"),
        (Decimal("50"), "unpaid"),
    ]


def test_revenue_is_net_of_refunds(agent_a, maria):
    order = make_order(agent_a, maria, total="100", status="delivered")
    payment = ledger.record_payment(agent_a, order, amount="100", method="cash")
    ledger.record_refund(agent_a, payment, amount="30", reason="One sleeve torn", actor=None)
    assert reports.summary(agent_a).revenue == Decimal("70")
    assert sum(row.revenue for row in reports.by_period(agent_a, "day")) == Decimal("70")


@pytest.mark.postgres
def test_simultaneous_payments_cannot_pay_more_than_the_total(committed_db, make_agent):
    agent = make_agent()
    t = tables.for_agent(agent)
    customer = t.Customer.objects.create(name="Ana", phone="+15550100042")
    order = make_order(agent, customer, total="100")
    start = threading.Barrier(6)
    outcomes = []

    def pay(n):
        try:
            start.wait()
            ledger.record_payment(agent, order, amount="40", method="cash", reference=f"r{n}")
            outcomes.append("paid")
        except PaymentError:
            outcomes.append("refused")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["paid", "paid", "refused", "refused", "refused", "refused"]
    assert ledger.balance(agent, order).paid == Decimal("80")
