"""What the order, customer and conversation pages show of the money ledger (payments.ledger)."""

from django.urls import reverse

from payments import ledger
from payments.forms import PaymentForm, RefundForm


def order_money(agent, agent_tables, order, *, payment_form=None, refund_form=None, refund_of=None):
    """The order page's payment card: the balance, each payment with its proof, refunds and refund form, and
    the form that records a payment (prefilled with what is owed). A form given comes back with its errors."""
    found = ledger.balance(agent, order)
    payments = ledger.payments_of(agent, order)
    proof_ids = [payment.proof_message_id for payment in payments if payment.proof_message_id]
    proofs = {message.pk: message for message in agent_tables.Message.objects.filter(pk__in=proof_ids)}
    for payment in payments:
        proof = proofs.get(payment.proof_message_id)
        payment.proof = proof
        payment.proof_src = reverse("message_media", args=[proof.pk]) if proof is not None else ""
        payment.refund_form = None
        if payment.refundable > 0:
            payment.refund_form = (
                refund_form
                if refund_of == payment.pk
                else RefundForm(auto_id=f"refund-{payment.pk}-%s", initial={"amount": payment.refundable})
            )
    # A refused payment keeps its form on the page, to say why.
    can_pay = (found.owed > 0 and order.status not in ledger.UNDONE_STATUSES) or payment_form is not None
    return {
        "balance": found,
        "payments": payments,
        "can_pay": can_pay,
        "payment_form": payment_form or PaymentForm(initial={"amount": found.owed}),
    }
