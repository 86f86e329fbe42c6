"""Money on an order: recording a payment (from the order page, or with a customer's image or document as its
proof from the conversation), refunding one, and the report of what customers still owe.

Each view parses its form and calls one function of payments.ledger; what the ledger refuses (more than is
owed, more than a payment left) comes back as the form's error.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents.access import agent_required
from agents.customers import first_name
from agents.shop import format_money, shop_of
from crm.csv_export import csv_lines, csv_response
from crm.inputs import object_id
from dashboard.views.common import bad_request, choice
from dashboard.views.order import get_order_or_404, order_page
from orders.workflow import STATUS_LABELS
from payments import ledger
from payments.forms import PaymentForm, ProofPaymentForm, RefundForm
from payments.ledger import PaymentError

# The owed report's orders: oldest first (the longest waiting) or newest first.
SORTS = ("oldest", "newest")


@require_POST
@agent_required
def order_record_payment(request, order_id):
    """The order page's "Mark paid": an amount (all that is owed, or part), how it was paid, a reference."""
    order = get_order_or_404(request.agent_tables, order_id)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = ledger.record_payment(request.agent, order, actor=request.user, **form.cleaned_data)
        except PaymentError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, _recorded(request.agent, order, payment))
            return redirect("order_detail", order.pk)
    return order_page(request, order, payment_form=form, status=400)


def _recorded(agent, order, payment):
    found = ledger.balance(agent, order)
    text = f"Payment of {format_money(payment.amount, shop_of(agent), order.currency or None)} recorded."
    if found.owed:
        return f"{text} Still owed: {format_money(found.owed, shop_of(agent), order.currency or None)}."
    return f"{text} Order #{order.pk} is paid."


@require_POST
@agent_required
def payment_refund(request, order_id, payment_id):
    """Give back part or all of one payment of the order, with the reason."""
    order = get_order_or_404(request.agent_tables, order_id)
    payment = ledger.payment_of(request.agent, order, object_id(str(payment_id)))
    if payment is None:
        raise Http404("No such payment.")
    form = RefundForm(request.POST, auto_id=f"refund-{payment.pk}-%s")
    if form.is_valid():
        try:
            refund = ledger.record_refund(request.agent, payment, actor=request.user, **form.cleaned_data)
        except PaymentError as error:
            form.add_error("amount", error.message)
        else:
            shop = shop_of(request.agent)
            messages.success(
                request, f"Refund of {format_money(refund.amount, shop, order.currency or None)} recorded."
            )
            return redirect("order_detail", order.pk)
    return order_page(request, order, refund_form=form, refund_of=payment.pk, status=400)


def _proof_or_404(request, message_id):
    message_id = object_id(str(message_id))
    message = ledger.any_proof_message(request.agent_tables, message_id)
    if message is None:
        raise Http404("No such image or document from a customer.")
    return message


@agent_required
def payment_from_message(request, message_id):
    """ "Use as payment proof" on a customer's image or document: which of their orders, and how much."""
    message = _proof_or_404(request, message_id)
    choices, owed_by_id = _orders_owing(request.agent, message.customer)
    if request.method != "POST":
        chosen = object_id(request.GET.get("order", ""))
        chosen = chosen if chosen in owed_by_id else next(iter(owed_by_id), None)
        form = ProofPaymentForm(orders=choices, initial={"order": chosen, "amount": owed_by_id.get(chosen)})
        return _proof_page(request, message, form, owed_by_id)
    form = ProofPaymentForm(request.POST, orders=choices)
    if form.is_valid():
        data = dict(form.cleaned_data)
        order = get_order_or_404(request.agent_tables, data.pop("order"))
        try:
            payment = ledger.record_payment(
                request.agent, order, actor=request.user, proof_message_id=message.pk, **data
            )
        except PaymentError as error:
            form.add_error("amount", error.message)
        else:
            messages.success(request, _recorded(request.agent, order, payment))
            return redirect("order_detail", order.pk)
    return _proof_page(request, message, form, owed_by_id, status=400)


def _proof_page(request, message, form, owed_by_id, status=200):
    return render(
        request,
        "orders/payment_from_message.html",
        {
            "section": "inbox",
            "message": message,
            "customer": message.customer,
            "first_name": first_name(message.customer),
            "media_src": reverse("message_media", args=[message.pk]),
            "form": form,
            "owed_by_id": owed_by_id,
        },
        status=status,
    )


def _orders_owing(agent, customer):
    """The customer's orders that owe something, as form choices, and what each owes by id."""
    shop = shop_of(agent)
    owing = ledger.orders_owing(agent, customer)
    choices = [(order.pk, _order_label(order, found, shop)) for order, found in owing]
    return choices, {order.pk: found.owed for order, found in owing}


def _order_label(order, found, shop):
    owed = format_money(found.owed, shop, order.currency or None)
    return f"Order #{order.pk}, {STATUS_LABELS[order.status].lower()}: {owed} owed"


@agent_required
def owed_report(request):
    """The unpaid and part-paid orders (confirmed, not cancelled), with how long each has waited."""
    sort = choice(request, "sort", SORTS, "oldest")
    if sort is None:
        return bad_request(request, "The report is sorted oldest or newest first.")
    rows = ledger.owed_orders(request.agent, oldest_first=sort == "oldest")
    return render(
        request,
        "orders/owed.html",
        {
            "section": "reports",
            "rows": rows,
            "sort": sort,
            "total": sum((row.balance.owed for row in rows), 0),
            "other_sort": "newest" if sort == "oldest" else "oldest",
            "csv_url": reverse("owed_export") + f"?sort={sort}",
        },
    )


@agent_required
def owed_export(request):
    """The owed report as CSV, in the report's order."""
    sort = choice(request, "sort", SORTS, "oldest")
    if sort is None:
        return bad_request(request, "The report is sorted oldest or newest first.")
    rows = ledger.owed_orders(request.agent, oldest_first=sort == "oldest")
    return csv_response(csv_lines(OWED_HEADER, _owed_lines(rows, shop_of(request.agent).currency)), "owed")


OWED_HEADER = [
    "order",
    "customer",
    "phone",
    "status",
    "created",
    "age_days",
    "total",
    "paid",
    "owed",
    "state",
    "currency",
]


def _owed_lines(rows, currency):
    for row in rows:
        order, found = row.order, row.balance
        yield [
            order.pk,
            order.customer.name,
            order.customer.phone,
            order.status,
            order.created_at.isoformat(),
            row.age_days,
            f"{order.total_amount:.2f}",
            f"{found.paid:.2f}",
            f"{found.owed:.2f}",
            found.state,
            order.currency or currency,
        ]
