"""What each order was paid and refunded, and what is still owed: the only way to write the money ledger.

Refunds give money back; they never make a customer owe again (owed is the total less what was paid).
Every write locks the order's row first, so two payments at once cannot pay more than the total.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

import audit
from agents import tables
from agents.shop import format_money, shop_of
from crm.inputs import object_id
from orders import workflow
from orders.history import record_event
from orders.statuses import SOLD_STATUSES, in_currency

from .models import AMOUNT_MAX_DIGITS, Payment

CENT = Decimal("0.01")
LARGEST_AMOUNT = Decimal(10 ** (AMOUNT_MAX_DIGITS - 2)) - CENT
REFERENCE_MAX_LENGTH = Payment._meta.get_field("reference").max_length
REASON_MAX_LENGTH = Payment._meta.get_field("note").max_length
# Statuses whose orders take no more payments (a cancelled one may: paid before, it is then refunded).
UNDONE_STATUSES = ("refunded",)
PROOF_MEDIA_TYPES = ("image", "document")
STATE_LABELS = {"unpaid": "Unpaid", "part_paid": "Part paid", "paid": "Paid", "refunded": "Refunded"}


class PaymentError(ValidationError):
    """A payment or refund that cannot be recorded, with a message for the seller."""


@dataclass(frozen=True)
class OrderBalance:
    paid: Decimal
    refunded: Decimal
    owed: Decimal
    state: str  # "unpaid" | "part_paid" | "paid" | "refunded"

    def __iter__(self):
        return iter((self.paid, self.refunded, self.owed, self.state))

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class CustomerBalance:
    orders: int  # sold orders (confirmed, not cancelled or refunded) in the shop's currency
    total: Decimal
    paid: Decimal
    owed: Decimal


def clean_amount(value):
    """`value` as a Decimal of cents, or PaymentError: not a number, not positive, past the column's range."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise PaymentError("Enter the amount as a number, like 12.50.") from None
    if not amount.is_finite():
        raise PaymentError("Enter the amount as a number, like 12.50.")
    if amount <= 0:
        raise PaymentError("The amount must be more than zero.")
    if amount > LARGEST_AMOUNT:
        raise PaymentError(f"The amount can be at most {LARGEST_AMOUNT:,}.")
    if amount != amount.quantize(CENT):
        raise PaymentError("The amount can have at most two decimals.")
    return amount.quantize(CENT)


def _clean_text(value, max_length, what):
    text = (value or "").strip()
    if "\x00" in text:
        raise PaymentError(f"The {what} cannot contain a null character.")
    if len(text) > max_length:
        raise PaymentError(f"The {what} can be at most {max_length} characters.")
    return text


def _own_order(agent_tables, order):
    """The agent's row of `order`, locked; another agent's order object is refused."""
    if order._meta.db_table != agent_tables.Order._meta.db_table:
        raise PaymentError("That order is not one of this shop's.")
    return agent_tables.Order.objects.select_for_update().select_related("customer").get(pk=order.pk)


def proof_message(agent_tables, customer_id, message_id):
    """The customer's own image or document with this id in the agent's messages, or None."""
    message_id = object_id(str(message_id))
    if message_id is None:
        return None
    return (
        agent_tables.Message.objects.filter(
            pk=message_id, customer_id=customer_id, direction="inbound", media_type__in=PROOF_MEDIA_TYPES
        )
        .exclude(media_url=None)
        .first()
    )


def any_proof_message(agent_tables, message_id):
    """An image or document some customer of the agent sent, with this id (and its customer), or None."""
    message_id = object_id(str(message_id))
    if message_id is None:
        return None
    return (
        agent_tables.Message.objects.filter(pk=message_id, direction="inbound", media_type__in=PROOF_MEDIA_TYPES)
        .exclude(media_url=None)
        .select_related("customer")
        .first()
    )


def payment_of(agent, order, payment_id):
    """The agent's payment (not a refund) with this id, of `order`, or None."""
    if payment_id is None:
        return None
    return Payment.objects.filter(agent=agent, pk=payment_id, order_id=order.pk, kind=Payment.Kind.PAYMENT).first()


def orders_owing(agent, customer):
    """[(order, OrderBalance)] of the customer's orders that still owe something, newest first (not cancelled)."""
    orders = list(
        tables.for_agent(agent)
        .Order.objects.filter(customer_id=customer.pk, paid_at__isnull=True)
        .exclude(status__in=("cancelled", "refunded"))
        .order_by("-created_at", "-id")
    )
    found = balances(agent, orders)
    return [(order, found[order.pk]) for order in orders if found[order.pk].owed > 0]


# Past this many orders, the sums are read for all the agent's orders at once: one query, however many orders
# (SQLite takes at most 32,766 parameters in a statement).
MANY_ORDERS = 500


def _sums(agent, order_ids):
    """{order id: (paid, refunded)} of the ledger's rows of these orders."""
    order_ids = list(order_ids)
    rows = Payment.objects.filter(agent=agent)
    if len(order_ids) <= MANY_ORDERS:
        rows = rows.filter(order_id__in=order_ids)
    rows = rows.values("order_id", "kind").annotate(amount=Sum("amount"))
    sums = {}
    for row in rows:
        paid, refunded = sums.get(row["order_id"], (Decimal("0"), Decimal("0")))
        if row["kind"] == Payment.Kind.PAYMENT:
            paid += row["amount"]
        else:
            refunded += row["amount"]
        sums[row["order_id"]] = (paid, refunded)
    return sums


def edit_refusal(agent, order):
    """Why the order's items may not change: money came in for them (and was not all given back)."""
    found = balance(agent, order)
    if found.paid > found.refunded:
        return (
            f"Order #{order.pk} has payments recorded for its total: its items can no longer change. "
            "Refund the payments first, or make a new order for the difference."
        )
    return ""


def _balance_of(order, paid, refunded):
    total = order.total_amount or Decimal("0")
    if order.paid_at is not None and paid == 0:
        # Marked paid before the ledger existed (or with no amount): the whole total was paid.
        paid = total
    owed = max(total - paid, Decimal("0"))
    if order.status == "refunded" or (refunded > 0 and refunded >= paid):
        state = "refunded"
    elif paid > 0 and owed == 0:
        state = "paid"
    elif paid > 0:
        state = "part_paid"
    else:
        state = "unpaid"
    return OrderBalance(paid=paid, refunded=refunded, owed=owed, state=state)


def balance(agent, order):
    """(paid, refunded, owed, state) of the agent's `order`."""
    paid, refunded = _sums(agent, [order.pk]).get(order.pk, (Decimal("0"), Decimal("0")))
    return _balance_of(order, paid, refunded)


def balances(agent, orders):
    """{order id: OrderBalance} of several orders of the agent, in one query of the ledger."""
    sums = _sums(agent, [order.pk for order in orders])
    zero = (Decimal("0"), Decimal("0"))
    return {order.pk: _balance_of(order, *sums.get(order.pk, zero)) for order in orders}


def _money(agent, order, amount):
    return format_money(amount, shop_of(agent), order.currency or None)


def record_payment(agent, order, *, amount, method, reference="", proof_message_id=None, actor=None, source="manual"):
    """Record that the customer paid `amount` of `order`; returns the Payment.

    With a `reference`, the same (agent, source, reference) a second time returns the first payment and
    changes nothing. Refuses (PaymentError) more than is owed, an undone order, another agent's order,
    and a proof that is not the order's customer's image or document. Reaching the total marks the order
    paid (orders.workflow.mark_paid). The payment is written into the order's history.
    """
    amount = clean_amount(amount)
    if method not in Payment.Method.values:
        raise PaymentError("Choose how the customer paid.")
    reference = _clean_text(reference, REFERENCE_MAX_LENGTH, "reference")
    source = _clean_text(source, Payment._meta.get_field("source").max_length, "source") or "manual"
    agent_tables = tables.for_agent(agent)
    if reference and (earlier := _by_reference(agent, source, reference, order)):
        return earlier
    with transaction.atomic(using=agent_tables.database):
        order = _own_order(agent_tables, order)
        # The order's lock is held until the ledger's rows are committed (the inner block ends first).
        with transaction.atomic():
            if reference and (earlier := _by_reference(agent, source, reference, order)):
                return earlier
            if order.status in UNDONE_STATUSES:
                raise PaymentError(f"A {order.status} order takes no payment.")
            if (
                proof_message_id is not None
                and proof_message(agent_tables, order.customer_id, proof_message_id) is None
            ):
                raise PaymentError("The proof must be an image or document this customer sent.")
            owed = balance(agent, order).owed
            if owed == 0:
                raise PaymentError(f"Order #{order.pk} owes nothing.")
            if amount > owed:
                raise PaymentError(
                    f"That is more than the {_money(agent, order, owed)} still owed on order #{order.pk}."
                )
            try:
                with transaction.atomic():
                    payment = Payment.objects.create(
                        agent=agent,
                        order_id=order.pk,
                        kind=Payment.Kind.PAYMENT,
                        amount=amount,
                        method=method,
                        source=source,
                        reference=reference,
                        proof_message_id=proof_message_id,
                        created_by=actor,
                    )
            except IntegrityError:  # the same reference, recorded at this moment for another order
                raise PaymentError(f"The reference {reference} is already on another order's payment.") from None
            words = f"Payment of {_money(agent, order, amount)} by {payment.get_method_display().lower()}"
            if reference:
                words += f" (reference {reference})"
            if proof_message_id is not None:
                words += ", with the customer's proof"
            record_event(agent_tables, order, order.status, order.status, actor=actor, note=words, kind="payment")
            audit.record(
                "payment.recorded",
                actor=actor,
                target=order,
                agent=agent.agent_prefix,
                amount=str(amount),
                method=method,
                payment=payment.pk,
            )
            if amount == owed:
                workflow.mark_paid(agent, order, actor=actor)
    return payment


def _by_reference(agent, source, reference, order):
    """The payment recorded before with this reference: of `order` (recording it again changes nothing), or
    of another order (refused: a reference names one payment)."""
    earlier = Payment.objects.filter(agent=agent, kind=Payment.Kind.PAYMENT, source=source, reference=reference).first()
    if earlier is not None and earlier.order_id != order.pk:
        raise PaymentError(f"The reference {reference} is already on the payment of order #{earlier.order_id}.")
    return earlier


def record_refund(agent, payment, *, amount, reason, actor):
    """Give back `amount` of `payment` for `reason`; returns the refund.

    Refuses more than the payment has left unrefunded and another agent's payment. When everything paid
    for the order has been given back, a delivered (or paid and cancelled) order moves to refunded
    through the workflow.
    """
    amount = clean_amount(amount)
    reason = _clean_text(reason, REASON_MAX_LENGTH, "reason")
    if not reason:
        raise PaymentError("Say why the money is given back.")
    agent_tables = tables.for_agent(agent)
    payment = Payment.objects.filter(agent=agent, pk=payment.pk, kind=Payment.Kind.PAYMENT).first()
    if payment is None:
        raise PaymentError("That payment is not one of this shop's.")
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().filter(pk=payment.order_id).first()
        if order is None:
            raise PaymentError("The order of that payment is gone.")
        with transaction.atomic():
            already = payment.refund_set.aggregate(total=Sum("amount"))["total"] or Decimal("0")
            left = payment.amount - already
            if amount > left:
                raise PaymentError(
                    f"That is more than the {_money(agent, order, left)} of this payment not refunded yet."
                )
            refund = Payment.objects.create(
                agent=agent,
                order_id=order.pk,
                kind=Payment.Kind.REFUND,
                amount=amount,
                method=payment.method,
                source=payment.source,
                note=reason,
                refunds=payment,
                created_by=actor,
            )
            note = f"Refund of {_money(agent, order, amount)}: {reason}"
            record_event(agent_tables, order, order.status, order.status, actor=actor, note=note, kind="refund")
            audit.record(
                "payment.refunded",
                actor=actor,
                target=order,
                agent=agent.agent_prefix,
                amount=str(amount),
                payment=payment.pk,
                refund=refund.pk,
            )
            paid, refunded, _, _ = balance(agent, order)
            if refunded >= paid and workflow.refusal(order, "refunded") is None:
                workflow.change_status(agent, order, "refunded", actor=actor, note=f"Refunded in full: {reason}")
    return refund


def payments_of(agent, order):
    """The order's payments, oldest first, each with `refunds_list` (its refunds) and `refundable` (what is left)."""
    rows = list(Payment.objects.filter(agent=agent, order_id=order.pk).order_by("created_at", "id"))
    payments = [row for row in rows if row.kind == Payment.Kind.PAYMENT]
    for payment in payments:
        payment.refunds_list = [row for row in rows if row.refunds_id == payment.pk]
        payment.refundable = payment.amount - sum((row.amount for row in payment.refunds_list), Decimal("0"))
    return payments


def _collectable(agent):
    """The agent's sold orders not yet marked paid, in the shop's currency."""
    return (
        tables.for_agent(agent)
        .Order.objects.filter(status__in=SOLD_STATUSES, paid_at__isnull=True)
        .filter(in_currency(shop_of(agent).currency))
    )


@dataclass(frozen=True)
class OwedRow:
    order: object
    balance: OrderBalance
    age_days: int


def owed_orders(agent, *, oldest_first=True, now=None):
    """The unpaid and part-paid orders (sold: confirmed and not cancelled or refunded) with their age."""
    now = now or timezone.now()
    orders = list(_collectable(agent).select_related("customer"))
    found = balances(agent, orders)
    rows = [OwedRow(order, found[order.pk], (now - order.created_at).days) for order in orders]
    rows = [row for row in rows if row.balance.owed > 0]
    rows.sort(key=lambda row: (row.order.created_at, row.order.pk), reverse=not oldest_first)
    return rows


def waiting_to_be_collected(agent):
    """How much the agent's customers still owe on sold orders, in the shop's currency."""
    orders = list(_collectable(agent).only("id", "total_amount", "paid_at", "status"))
    return sum((found.owed for found in balances(agent, orders).values()), Decimal("0"))


def customer_balance(agent, customer):
    """What `customer` ordered (sold orders, shop's currency), paid and still owes."""
    orders = list(
        tables.for_agent(agent)
        .Order.objects.filter(customer_id=customer.pk, status__in=SOLD_STATUSES)
        .filter(in_currency(shop_of(agent).currency))
        .only("id", "total_amount", "paid_at", "status")
    )
    found = balances(agent, orders)
    return CustomerBalance(
        orders=len(orders),
        total=sum((order.total_amount for order in orders), Decimal("0")),
        paid=sum((row.paid for row in found.values()), Decimal("0")),
        owed=sum((row.owed for row in found.values()), Decimal("0")),
    )


def refunded_by_order(agent):
    """{order id: amount refunded} of the agent's orders that had money given back (orders.reports nets it)."""
    rows = (
        Payment.objects.filter(agent=agent, kind=Payment.Kind.REFUND).values("order_id").annotate(amount=Sum("amount"))
    )
    return {row["order_id"]: row["amount"] for row in rows}


def forget_customer(agent, customer, *, order_ids=(), **kwargs):
    """customer_erased receiver: the payments and refunds of the erased customer's orders go with them."""
    rows = Payment.objects.filter(agent=agent, order_id__in=list(order_ids))
    refunds, _ = rows.filter(kind=Payment.Kind.REFUND).delete()
    payments, _ = rows.delete()
    return {"payments": refunds + payments}
