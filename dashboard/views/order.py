"""One order: created beside a conversation (or from the customer page), its page (with its payments:
dashboard.views.payments records them), its status moves, item edits, the summary sent for the customer to confirm, and the messages about it.

Each view parses the form, calls one function of the orders domain (placing, workflow, notify) and
renders or redirects; a move the workflow refuses is shown with the workflow's own sentence.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.access import agent_required
from agents.customers import first_name, get_customer_or_404
from agents.shop import shop_of
from checkout import meta, summary
from checkout.models import PaymentSettings
from checkout.notifications import payment_events
from checkout.ways import CheckoutError, settings_of, way_for
from crm.inputs import object_id
from dashboard.money import order_money
from dashboard.polling import nothing_changed
from dashboard.rendering import readable_text
from dashboard.threads import present, thread_token
from dashboard.views.common import bad_request, is_htmx
from invoices import documents as invoices
from orders import catalog, notify, placing, reading, workflow
from orders.forms import ItemRow, OrderForm
from orders.models import StatusTemplate
from orders.placing import OrderError
from orders.workflow import MOVE_LABELS, STATUS_LABELS
from whatsapp import send
from whatsapp.costs import order_costs

SUGGESTIONS = 12
# Moves that undo an order: their buttons look dangerous and ask before they go.
UNDOING = ("cancelled", "refunded")


def get_order_or_404(agent_tables, order_id):
    """The agent's order with this id (and its customer); another agent's id is simply not found."""
    order = agent_tables.Order.objects.select_related("customer").filter(pk=order_id).first()
    if order is None:
        raise Http404("No such order.")
    return order


# Creating ------------------------------------------------------------------------------------------


def _form_context(request, customer, form, *, panel):
    window = send.window(request.agent_tables, customer)
    return {
        "customer": customer,
        "first_name": first_name(customer),
        "form": form,
        "shop": shop_of(request.agent),
        "order_currency": None,  # the shop's; an order being edited may carry its own (a cart's)
        "blank_row": ItemRow(),
        "suggestions": catalog.item_suggestions(request.agent, limit=SUGGESTIONS),
        "panel": panel,
        "window": window,
        "action_url": reverse("order_create", args=[customer.pk]),
        "submit_label": "Create order",
        "recent_orders": list(
            request.agent_tables.Order.objects.filter(customer=customer).order_by("-created_at", "-id")[:3]
        ),
    }


def _new_order_form(request, customer):
    return OrderForm(shipping_address=placing.address_for_new_order(request.agent, customer))


def panel_context(request, customer):
    """What the conversation page needs to show the new-order panel beside the thread (?order=new)."""
    return _form_context(request, customer, _new_order_form(request, customer), panel=True)


def _wants_panel(request):
    return (request.POST if request.method == "POST" else request.GET).get("panel") == "1"


@agent_required
def order_create(request, customer_id):
    """The new-order form for a customer: the panel beside the thread (htmx), or a page of its own."""
    customer = get_customer_or_404(request.agent_tables, customer_id)
    panel = _wants_panel(request) and is_htmx(request)
    template = "orders/_panel.html" if panel else "orders/create.html"
    form = OrderForm(request.POST) if request.method == "POST" else _new_order_form(request, customer)
    if request.method != "POST" or form.edit_rows():
        return render(request, template, {"section": "orders", **_form_context(request, customer, form, panel=panel)})
    order = _place(request, form, placing.create_order, customer)
    if order is None:
        # htmx swaps only successful answers: the panel shows its errors with a 200.
        return render(
            request,
            template,
            {"section": "orders", **_form_context(request, customer, form, panel=panel)},
            status=200 if panel else 400,
        )
    summary = _send_summary_if_asked(request, order)
    if panel:
        return render(
            request,
            "orders/_panel.html",
            {"customer": customer, "created": order, "summary": summary, "item_count": len(form.items), "panel": True},
        )
    messages.success(request, " ".join(filter(None, [f"Order #{order.pk} was created for {customer.name}.", summary])))
    return redirect("order_detail", order.pk)


@require_GET
@agent_required
def order_from_message(request, message_id):
    """The new-order page filled with what a customer's message asks for (orders.reading): matched items
    with their price, each unmatched phrase above the form for the seller to pick an item. Nothing is
    created here: the form posts to order_create when the seller presses Create order."""
    pk = object_id(message_id)
    if pk is None:
        return bad_request(request, NOT_A_MESSAGE)
    message = get_object_or_404(request.agent_tables.Message.objects.select_related("customer"), pk=pk)
    text = readable_text(message)
    if not text:
        return bad_request(request, NO_WORDS_TO_READ)
    proposal = reading.propose(request.agent, text)
    form = OrderForm.from_proposal(
        proposal, shipping_address=placing.address_for_new_order(request.agent, message.customer)
    )
    context = _form_context(request, message.customer, form, panel=False)
    context.update({"section": "orders", "proposal": proposal, "read_message": message, "read_text": text})
    return render(request, "orders/create.html", context)


NOT_A_MESSAGE = (
    'This link names no message. Open the conversation and use "Make an order from this" on the customer\'s message.'
)
NO_WORDS_TO_READ = (
    "This message has no words to read an order from: only what a customer wrote can be read (a text, or the "
    "caption of their photo, video, voice note or document)."
)


def _place(request, form, place, target):
    """`place` (placing.create_order or update_order) with the valid form's items, notes and address, or None
    when the form or placing refuses (the reason is then on the form)."""
    if not form.is_valid():
        return None
    try:
        return place(
            request.agent,
            target,
            form.items,
            actor=request.user,
            notes=form.notes,
            shipping_address=form.shipping_address,
            discount=form.discount,
        )
    except OrderError as error:
        form.errors.append(error.message)
        return None


def _send_summary_if_asked(request, order):
    """The sentence to show about the summary asked for with the new order, or "" when none was asked."""
    if request.POST.get("send_summary") != "on":
        return ""
    try:
        summary.send_order_summary(
            request.agent,
            order,
            way=request.POST.get("way", ""),
            sent_by=request.user,
            idempotency_key=f"order-{order.pk}-created-summary",
        )
    except (OrderError, send.SendError, CheckoutError) as error:
        return f"The summary was not sent: {_sentence(error)}"
    return f"The summary is on its way to {order.customer.name}, with Confirm and Change buttons."


def _sentence(error):
    return error.message if isinstance(error, OrderError) else str(error)


@agent_required
def order_item_suggestions(request):
    """The catalog's products, then the item names the agent sold before, that start with what is typed."""
    prefix = request.GET.get("item_name", "")[:100]
    return render(
        request,
        "orders/_suggestions.html",
        {
            "suggestions": catalog.item_suggestions(request.agent, prefix, limit=SUGGESTIONS),
        },
    )


# The order page ------------------------------------------------------------------------------------


def _order_messages(agent_tables, order, events):
    """The WhatsApp messages about the order: its cart, what we sent about it, the customer's replies."""
    ids = [event.message_id for event in events if event.message_id]
    wamids = [event.source_wamid for event in events if event.source_wamid]
    if order.source_wamid:
        wamids.append(order.source_wamid)
    if not ids and not wamids:
        return []
    return list(
        agent_tables.Message.objects.filter(
            Q(pk__in=ids) | Q(wamid__in=wamids), customer_id=order.customer_id
        ).order_by("timestamp", "id")
    )


def _messages_context(request, order, events):
    found = _order_messages(request.agent_tables, order, events)
    token = thread_token(found)
    return {
        "order": order,
        "bubbles": present(request.agent_tables, order.customer, found),
        "messages_token": token,
        "messages_url": reverse("order_messages", args=[order.pk]) + f"?v={token}",
        "poll_seconds": settings.DASHBOARD_POLL_SECONDS,
        "message_by_id": {m.pk: m for m in found},
    }


def _moves(order):
    return [(status, MOVE_LABELS[status], status in UNDOING) for status in workflow.allowed_next(order)]


def _how_the_customer_is_told(request, order, window):
    """A sentence on how a status message would reach the customer now."""
    if window.is_open:
        return f"{order.customer.name} wrote in the last 24 hours: they get a WhatsApp message in plain words."
    chosen = set(StatusTemplate.objects.filter(agent=request.agent).values_list("status", flat=True))
    missing = [STATUS_LABELS[status].lower() for status in workflow.allowed_next(order) if status not in chosen]
    text = (
        "More than 24 hours have passed since they wrote, so WhatsApp only allows an approved template: "
        "the one chosen for the new status in Order settings."
    )
    if missing:
        text += f" None is chosen for {', '.join(missing)} yet: they would not be told of that."
    return text


def _change_requested(events):
    """The customer's latest unanswered request for a change (after it: no edit, no new summary)."""
    for event in reversed(events):
        if event.kind in ("edited", "summary_sent") or event.kind == "status" and event.from_status != event.to_status:
            return None
        if event.kind == "change_requested":
            return event
    return None


def _items_context(order, items):
    """The order's items, its fee lines, and what its discount and fees do to its total."""
    return {
        "items": [item for item in items if item.kind != "fee"],
        "fees": [item for item in items if item.kind == "fee"],
        "totals": placing.stored_totals(order, items),
        "discount": placing.discount_of(order),
    }


def _payment_context(request, order):
    """The ways to pay the summary can carry, what Meta said of payments in WhatsApp, and the invoice."""
    ways = settings_of(request.agent)
    return {
        "payment_ways": [(way, PaymentSettings.Way(way).label) for way in ways.ways()],
        "payment_way": way_for(ways),
        "payment_events": payment_events(request.agent, order),
        "can_request_payment": meta.can_request_payment(request.agent, order),
        "invoice": invoices.state_of(request.agent, order),
    }


# The order's page; a refused move's sentence, or a payment or refund form with its errors, when given.
def order_page(request, order, *, error="", status=200, **money_forms):
    events = list(request.agent_tables.OrderEvent.objects.filter(order=order).order_by("created_at", "id"))
    items = list(request.agent_tables.OrderItem.objects.filter(order=order).order_by("id"))
    window = send.window(request.agent_tables, order.customer)
    context = {**_messages_context(request, order, events), **_payment_context(request, order)}
    return render(
        request,
        "orders/detail.html",
        {
            "section": "orders",
            "order": order,
            "customer": order.customer,
            **_items_context(order, items),
            "events": [(event, context["message_by_id"].get(event.message_id)) for event in events],
            "moves": _moves(order),
            "edit_refusal": placing.edit_refusal(request.agent, order),
            "window": window,
            "how_told": _how_the_customer_is_told(request, order, window),
            "change_requested": _change_requested(events),
            "summary_sent": any(event.kind == "summary_sent" for event in events),
            "customer_knows": notify.customer_has_heard_of(order, events),
            "idempotency_key": uuid.uuid4().hex,
            "status_error": error,
            "status_label": STATUS_LABELS[order.status],
            "costs": order_costs(request.agent_tables, order),
            **order_money(request.agent, request.agent_tables, order, **money_forms),
            **context,
        },
        status=status,
    )


@agent_required
def order_detail(request, order_id):
    return order_page(request, get_order_or_404(request.agent_tables, order_id))


@agent_required
def order_messages(request, order_id):
    """The messages about the order alone, for polling: 204 while nothing changed (ticks included)."""
    order = get_order_or_404(request.agent_tables, order_id)
    context = _messages_context(request, order, list(request.agent_tables.OrderEvent.objects.filter(order=order)))
    if context["messages_token"] == request.GET.get("v"):
        return nothing_changed()
    return render(request, "orders/_order_messages.html", context)


@require_POST
@agent_required
def order_change_status(request, order_id):
    order = get_order_or_404(request.agent_tables, order_id)
    to_status = request.POST.get("to", "")
    told = []

    def tell_customer(order, event):
        told.append(meta.notify_status_change(request.agent, order, event, sent_by=request.user))

    try:
        order, _ = workflow.change_status(
            request.agent,
            order,
            to_status,
            actor=request.user,
            request=request,
            on_commit=tell_customer if request.POST.get("tell_customer") == "on" else None,
        )
    except OrderError as error:
        return order_page(request, order, error=error.message, status=400)
    text = f"Order #{order.pk} is now {STATUS_LABELS[order.status].lower()}."
    if told:
        text += f" {told[0]}"
    messages.success(request, text)
    return redirect("order_detail", order.pk)


@require_POST
@agent_required
def order_send_summary(request, order_id):
    order = get_order_or_404(request.agent_tables, order_id)
    try:
        summary.send_order_summary(
            request.agent,
            order,
            way=request.POST.get("way", ""),
            sent_by=request.user,
            idempotency_key=f"order-{order.pk}-summary-{request.POST.get('idempotency_key', '')}",
        )
    except (OrderError, send.SendError, CheckoutError) as error:
        messages.error(request, f"The summary was not sent: {_sentence(error)}")
    else:
        messages.success(
            request, f"The summary is on its way to {order.customer.name}: they can tap Confirm or Change."
        )
    return redirect(reverse("order_detail", args=[order.pk]) + "#order-messages")


@require_POST
@agent_required
def order_request_payment(request, order_id):
    """Send the order to review and pay in WhatsApp (Meta's order_details message)."""
    order = get_order_or_404(request.agent_tables, order_id)
    try:
        meta.send_for_payment(
            request.agent,
            order,
            sent_by=request.user,
            idempotency_key=f"order-{order.pk}-pay-{request.POST.get('idempotency_key', '')}",
        )
    except (send.SendError, CheckoutError) as error:
        messages.error(request, f"The request to pay was not sent: {error}")
    else:
        messages.success(request, f"{order.customer.name} can now review and pay order #{order.pk} in WhatsApp.")
    return redirect(reverse("order_detail", args=[order.pk]) + "#order-messages")


@require_POST
@agent_required
def order_send_products(request, order_id):
    """Send the customer the order's products from the catalog (to look at again, or to add to a cart)."""
    order = get_order_or_404(request.agent_tables, order_id)
    try:
        catalog.send_order_products(
            request.agent,
            order,
            sent_by=request.user,
            idempotency_key=f"order-{order.pk}-products-{request.POST.get('idempotency_key', '')}",
        )
    except send.SendError as error:
        messages.error(request, f"The products were not sent: {error}")
    else:
        messages.success(request, f"The order's products are on their way to {order.customer.name}.")
    return redirect(reverse("order_detail", args=[order.pk]) + "#order-messages")


@agent_required
def order_edit(request, order_id):
    """Change the items, notes and address of an order that is still editable (not shipped yet)."""
    order = get_order_or_404(request.agent_tables, order_id)
    if refusal := placing.edit_refusal(request.agent, order):
        messages.error(request, refusal)
        return redirect("order_detail", order.pk)
    if request.method != "POST":
        items = request.agent_tables.OrderItem.objects.filter(order=order).order_by("id")
        return _edit_page(request, order, OrderForm(order=order, items=items))
    form = OrderForm(request.POST)
    if form.edit_rows():
        return _edit_page(request, order, form)
    if _place(request, form, placing.update_order, order) is None:
        return _edit_page(request, order, form, status=400)
    messages.success(request, f"Order #{order.pk} was saved. Its total is computed from its items.")
    return redirect("order_detail", order.pk)


def _edit_page(request, order, form, *, status=200):
    context = _form_context(request, order.customer, form, panel=False)
    context.update(
        {
            "section": "orders",
            "order": order,
            "action_url": reverse("order_edit", args=[order.pk]),
            "order_currency": order.currency,
            "submit_label": "Save changes",
        }
    )
    return render(request, "orders/edit.html", context, status=status)
