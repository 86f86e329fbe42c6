"""Meta's payment notifications for an `order_details` message: a `statuses` entry of type "payment" in the
messages webhook, received through whatsapp.intake (whatsapp.hooks.register_status_type_handler).

Each is stored once per transaction and transaction status (re-deliveries and replays change nothing), on
the order whose reference_id the agent it came to sent (else unmatched), and a success marks that order paid.
"""

from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction

from agents.models import Agent
from agents.shop import format_money, shop_of
from orders.history import record_event
from whatsapp.inbound import MalformedMessage

from .models import PaymentEvent, PaymentRequest
from .payments_applied import apply_success

# Meta's top-level status when the transaction says nothing: captured is a success.
PAYMENT_STATUSES = {"captured": "success", "pending": "pending", "failed": "failed"}
LARGEST_AMOUNT = Decimal("999999999999.99")
WORDS = {"success": "Paid", "pending": "Payment pending", "failed": "Payment failed"}


def receive_payment_status(agent_tables, status):
    """Store and apply one payment notification; returns a sentence for the webhook event's summary."""
    payment = status.get("payment")
    if not isinstance(payment, dict):
        raise MalformedMessage("a payment status needs a payment object")
    transaction_ = payment.get("transaction") if isinstance(payment.get("transaction"), dict) else {}
    reference_id = _text(payment.get("reference_id"), 100, "reference_id")
    transaction_id = _text(transaction_.get("id"), 100, "transaction id")
    state = transaction_.get("status") or PAYMENT_STATUSES.get(str(status.get("status")))
    if state not in PaymentEvent.Status.values:
        raise MalformedMessage(f"payment status {state!r} is not success, pending or failed")
    method = transaction_.get("method") if isinstance(transaction_.get("method"), dict) else {}
    error = transaction_.get("error") if isinstance(transaction_.get("error"), dict) else {}
    currency = payment.get("currency") if isinstance(payment.get("currency"), str) else ""
    agent = Agent.objects.get(pk=agent_tables.agent_id)
    request = PaymentRequest.objects.filter(agent=agent, reference_id=reference_id).first()
    order = agent_tables.Order.objects.filter(pk=request.order_id).first() if request else None
    # One transaction on the core database for the notice and what it does: a failure while applying it
    # leaves no notice behind (a re-delivery or a replay applies it then), never a notice stored but not applied.
    with transaction.atomic():
        try:
            with transaction.atomic():
                event = PaymentEvent.objects.create(
                    agent=agent,
                    order_id=order.pk if order else None,
                    reference_id=reference_id,
                    transaction_id=transaction_id,
                    status=state,
                    amount=_amount(payment.get("amount")),
                    currency=currency.strip()[:3].upper(),
                    method=str(method.get("type") or "")[:32],
                    error=str(error.get("reason") or error.get("code") or "")[:300],
                )
        except IntegrityError:
            return f"payment {transaction_id} {state}: already received"
        if order is None:
            return f"payment {transaction_id} {state}: reference {reference_id} names no order of this shop"
        shop = shop_of(agent)
        amount = format_money(event.amount, shop, event.currency or None) if event.amount is not None else "?"
        words = f"{WORDS[state]}: {amount} in WhatsApp (transaction {transaction_id}"
        words += f", {event.method})" if event.method else ")"
        if event.error:
            words += f": {event.error}"
        if event.amount is not None and (event.amount, event.currency) != (request.amount, request.currency):
            words += f"; the order asked for {format_money(request.amount, shop, request.currency)}"
        record_event(agent_tables, order, order.status, order.status, actor=None, kind="payment_notice", note=words)
        if state == PaymentEvent.Status.SUCCESS:
            event.applied = apply_success(agent, order, event)
            event.save(update_fields=["applied"])
        return f"payment {transaction_id} {state} for order {order.pk}"


def _text(value, length, name):
    if not isinstance(value, str) or not value.strip() or len(value) > length:
        raise MalformedMessage(f"a payment status needs its {name}")
    return value.strip()


def _amount(amount):
    """{value, offset} as a Decimal, or None when Meta's amount is missing or out of the column's range."""
    if not isinstance(amount, dict):
        return None
    value, offset = amount.get("value"), amount.get("offset")
    try:
        if isinstance(value, bool) or isinstance(offset, bool) or int(offset) <= 0:
            return None
        result = (Decimal(int(value)) / Decimal(int(offset))).quantize(Decimal("0.01"))
    except (TypeError, ValueError, InvalidOperation):
        return None
    return result if 0 <= result <= LARGEST_AMOUNT else None


def payment_events(agent, order):
    """The payment notifications received for `order`, oldest first."""
    return list(PaymentEvent.objects.filter(agent=agent, order_id=order.pk).order_by("received_at", "id"))


def forget_customer(agent, customer, *, order_ids=(), **kwargs):
    """customer_erased receiver: the payment requests and notifications of the erased customer's orders."""
    order_ids = list(order_ids)
    events, _ = PaymentEvent.objects.filter(agent=agent, order_id__in=order_ids).delete()
    requests, _ = PaymentRequest.objects.filter(agent=agent, order_id__in=order_ids).delete()
    return {"payment_notices": events, "payment_requests": requests}
