"""Keeping the customer informed: a WhatsApp message for each order status change, and order summaries.

Inside the 24-hour window the customer gets a text; outside it, the approved template the agent chose
for that status (orders.models.StatusTemplate), its variables filled from the order. The message is
linked to the order's history event, so the order page shows it with its delivery ticks.

An order summary goes with two reply buttons, "Confirm" and "Change"; the customer's tap comes back
through the webhook to orders.inbound.
"""

import logging
import re

from django.db import transaction

from agents import tables
from agents.customers import first_name
from agents.shop import format_money, shop_of
from whatsapp import send
from whatsapp.message_templates import template_fields

from .history import record_event
from .models import StatusTemplate
from .placing import OrderError, discount_of, stored_totals
from .workflow import STATUS_LABELS

logger = logging.getLogger(__name__)

STATUS_TEXTS = {
    "pending": "we received your order {order} ({total}). We will confirm it shortly.",
    "confirmed": "your order {order} is confirmed. Total: {total}.",
    "processing": "we are preparing your order {order}.",
    "shipped": "your order {order} is on its way.",
    "delivered": "your order {order} was delivered. Thank you for shopping with us!",
    "cancelled": "your order {order} was cancelled. Write to us if you have any questions.",
    "refunded": "your order {order} was refunded ({total}).",
}
# What a template variable may be filled with, by the names a seller is likely to give it.
NAMED_VALUES = {
    "name": "customer_name",
    "customer": "customer_name",
    "customer_name": "customer_name",
    "first_name": "first_name",
    "order": "order_number",
    "order_id": "order_number",
    "order_number": "order_number",
    "number": "order_number",
    "status": "order_status",
    "order_status": "order_status",
    "total": "order_total",
    "amount": "order_total",
    "order_total": "order_total",
}
# Positional variables {{1}}, {{2}}... are filled in this order.
POSITIONAL_VALUES = ("customer_name", "order_number", "order_status", "order_total")

# The ids of an order summary's reply buttons (send_order_summary; orders.inbound reads the taps).
BUTTON_ID = re.compile(r"order-(?P<order>[0-9]{1,10})-(?P<choice>confirm|change)")


def summary_button_id(order, choice):
    return f"order-{order.pk}-{choice}"


def money(order, shop, amount=None):
    """An amount of the order (its total by default) in its currency (a cart's own) or the shop's, written
    in the shop's locale."""
    return format_money(order.total_amount if amount is None else amount, shop, order.currency or None)


def order_named(order, shop):
    """ "#12 from Lisbon Linen" ("#12" while the shop has no name), as the customer reads it."""
    return f"#{order.pk} from {shop.agent.name}" if shop.agent.name else f"#{order.pk}"


def order_values(order, customer, shop):
    return {
        "customer_name": customer.name,
        # A template needs a value: with no name known, the name as stored (their number).
        "first_name": first_name(customer) or customer.name,
        "order_number": str(order.pk),
        "order_status": STATUS_LABELS[order.status].lower(),
        "order_total": money(order, shop),
    }


def status_text(order, customer, shop):
    name = first_name(customer)
    greeting = f"Hi {name}, " if name else "Hi, "
    body = STATUS_TEXTS[order.status].format(order=order_named(order, shop), total=money(order, shop))
    return greeting + body


def template_values(template, order, customer, shop):
    """Values for every variable of `template`, or None when one cannot be filled from the order."""
    available = order_values(order, customer, shop)
    values, positional = {}, iter(POSITIONAL_VALUES)
    for field in template_fields(template):
        if field.component == "button":
            key = "order_number"
        elif field.name.isdigit():
            key = next(positional, None)
        else:
            key = NAMED_VALUES.get(field.name.lower())
        if key is None:
            return None
        values[field.key] = available[key]
    return values


def customer_has_heard_of(order, events):
    """Whether the customer knows of the order: they sent it (a cart), or we sent them something about it (its
    summary, a status message). Telling them of a change is the default only then: a cancelled order they
    never heard of needs no message."""
    return order.source == "cart" or any(event.message_id for event in events)


def notify_status_change(agent, order, event, *, sent_by):
    """Tell the customer about the status change `event`; returns a sentence saying what happened."""
    agent_tables, shop = tables.for_agent(agent), shop_of(agent)
    customer = order.customer
    key = f"order-{order.pk}-event-{event.pk}"
    try:
        if send.window(agent_tables, customer).is_open:
            message = send.send_text(
                agent, customer, status_text(order, customer, shop), sent_by=sent_by, idempotency_key=key
            )
        else:
            choice = StatusTemplate.objects.filter(agent=agent, status=order.status).select_related("template").first()
            if choice is None:
                return _note(
                    event,
                    f"Customer not told: the 24-hour window is closed and no template is chosen for "
                    f"{STATUS_LABELS[order.status].lower()} orders (Orders → Settings).",
                )
            values = template_values(choice.template, order, customer, shop)
            if values is None:
                return _note(
                    event,
                    f"Customer not told: the template {choice.template.name} has variables the order cannot fill.",
                )
            message = send.send_template(agent, customer, choice.template, values, sent_by=sent_by, idempotency_key=key)
    except send.SendError as error:
        return _note(event, f"Customer not told: {error}")
    event.message_id = message.pk
    event.save(update_fields=["message_id"])
    return "The customer is being told on WhatsApp."


LATE_CONFIRM_TEXTS = {
    "confirmed": "it is already confirmed. We will let you know when it is on its way.",
    "processing": "it is already confirmed and we are preparing it.",
    "shipped": "it is already confirmed and on its way.",
    "delivered": "it was already delivered. Nothing more to confirm: thank you!",
    "cancelled": "it was cancelled, so there is nothing to confirm. Write to us if you would like to order again.",
    "refunded": "it was refunded, so there is nothing to confirm. Write to us if you have any questions.",
}


def answer_late_confirm(agent, order, event):
    """Answer a Confirm tapped under the summary of an order that is no longer pending: tell the customer
    what state it is in (they are inside the 24-hour window: they just tapped). Links the answer to `event`."""
    customer, shop = order.customer, shop_of(agent)
    name = first_name(customer)
    text = f"Hi {name}, " if name else "Hi, "
    text += f"thank you for confirming your order {order_named(order, shop)}: {LATE_CONFIRM_TEXTS[order.status]}"
    try:
        message = send.send_text(
            agent, customer, text, sent_by=None, idempotency_key=f"order-{order.pk}-event-{event.pk}"
        )
    except send.SendError as error:
        return _note(event, f"Customer not answered: {error}")
    event.message_id = message.pk
    event.save(update_fields=["message_id"])
    return text


def _note(event, text):
    event.note = f"{event.note} {text}".strip()
    event.save(update_fields=["note"])
    logger.info("order event %s: %s", event.pk, text)
    return text


SUMMARY_LINES = 12  # items listed in a summary; more are counted ("and 3 more items")
SUMMARY_MAX_LENGTH = 1024  # an interactive message's body text, at most (Meta's Cloud API)


def summary_text(order, customer, items, shop, payment_lines=()):
    """The summary the customer reads above the Confirm / Change buttons: the items, then what the discount
    takes off and the delivery fee adds, the total, and how to pay (`payment_lines`). Fewer items are listed
    (the rest counted) while it would pass the 1024 characters an interactive message's body may hold."""
    goods = [item for item in items if item.kind != "fee"]
    shown = SUMMARY_LINES
    while True:
        text = "\n".join(_summary_lines(order, customer, items, shop, goods, shown, payment_lines))
        if len(text) <= SUMMARY_MAX_LENGTH or shown <= 1:
            return text[:SUMMARY_MAX_LENGTH]
        shown -= 1


def _summary_lines(order, customer, items, shop, goods, shown, payment_lines):
    named = f" for {customer.name}" if customer.name != customer.phone else ""
    yield f"Order {order_named(order, shop)}{named}"
    for item in goods[:shown]:
        name = item.name if len(item.name) <= 60 else item.name[:59] + "…"
        yield f"{item.quantity} × {name}: {money(order, shop, item.total)}"
    if len(goods) > shown:
        more = len(goods) - shown
        yield f"…and {more} more item{'s' if more != 1 else ''}"
    totals = stored_totals(order, items)
    fees = [item for item in items if item.kind == "fee"]
    if totals.discount or fees:
        yield f"Items: {money(order, shop, totals.subtotal)}"
    if totals.discount:
        discount = discount_of(order)
        percent = f" ({discount})" if discount and discount.type == "percent" else ""
        yield f"Discount{percent}: −{money(order, shop, totals.discount)}"
    for fee in fees:
        yield f"{fee.name}: {money(order, shop, fee.total)}"
    yield f"Total: {money(order, shop)}"
    if order.shipping_address:
        address = " ".join(order.shipping_address.split())
        yield f"Deliver to: {address if len(address) <= 200 else address[:199] + '…'}"
    yield from payment_lines
    yield "Tap Confirm if it is right, or Change to tell us what to change."


def send_order_summary(agent, order, *, sent_by, idempotency_key, payment_lines=()):
    """Send the customer the pending order's summary with "Confirm" and "Change" buttons, and the lines
    that say how to pay (`payment_lines`, written by checkout.summary).

    Raises OrderError (the order is not pending) or send.SendError (the 24-hour window is closed, no
    number is connected...) with a sentence for the agent; nothing is sent then.
    """
    agent_tables = tables.for_agent(agent)
    if order.status != "pending":
        raise OrderError(f"This order is {order.status}: a summary asks the customer to confirm a pending order.")
    customer = order.customer
    items = list(agent_tables.OrderItem.objects.filter(order=order).order_by("id"))
    buttons = [(summary_button_id(order, "confirm"), "Confirm"), (summary_button_id(order, "change"), "Change")]
    with transaction.atomic(using=agent_tables.database):
        message = send.send_buttons(
            agent,
            customer,
            summary_text(order, customer, items, shop_of(agent), payment_lines),
            buttons,
            sent_by=sent_by,
            idempotency_key=idempotency_key,
        )
        if not agent_tables.OrderEvent.objects.filter(order=order, message_id=message.pk).exists():
            record_event(
                agent_tables,
                order,
                order.status,
                order.status,
                actor=sent_by,
                kind="summary_sent",
                note="Summary sent to the customer to confirm.",
                message_id=message.pk,
            )
    return message
