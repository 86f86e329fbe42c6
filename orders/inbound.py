"""What a customer's WhatsApp message does to orders: a cart becomes a draft order, and a tap on the
"Confirm" or "Change" button of an order summary confirms the order or asks the agent for a change.

whatsapp.intake calls `apply_inbound_message` for each order or interactive message it newly stores.
Everything here is idempotent, keyed by the message's wamid, so a second delivery changes nothing.
"""

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from agents import tables
from crm import rls
from whatsapp import payloads

from . import history, notify, workflow
from .carts import draft_order_from_cart
from .placing import OrderError

logger = logging.getLogger(__name__)

ORDER_MESSAGE_TYPES = ("order", "interactive")


def apply_inbound_message(agent, message):
    """Let a stored inbound message act on orders: the draft order of a cart, or the history entry a
    summary's button left; None when the message does nothing to orders (or cannot: an unusable cart)."""
    if message.direction != "inbound" or message.wa_type not in ORDER_MESSAGE_TYPES:
        return None
    if message.wa_type == "order":
        return draft_order_from_cart(agent, message)
    return apply_button_reply(agent, message)


def act_on_stored_message(agent, message):
    """The intake's handler (whatsapp.hooks): let a newly stored message act on orders, in its own savepoint.

    Returns a notice for the webhook event's summary when a cart could not become a draft order or a reply
    could not reach its order; None otherwise.
    """
    if message.wa_type == "order":
        what = f"cart {message.wamid} did not become a draft order"
    else:
        what = f"reply {message.wamid} did not reach its order"
    try:
        with transaction.atomic(using=tables.for_agent(agent).database):
            done = apply_inbound_message(agent, message)
    except Exception as error:
        logger.warning("message %s could not act on orders", message.wamid, exc_info=error)
        return f"{what} ({error.__class__.__name__}: {error})"
    if done is None and message.wa_type == "order":
        return f"{what} (the cart is not usable)"
    return None


def button_choice(message):
    """(order id, "confirm" or "change") of a tap on an order summary's button, else None."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    reply = payloads.reply(payload.get("interactive"))
    match = notify.BUTTON_ID.fullmatch(reply.id) if reply.kind == "button_reply" and reply.id else None
    return (int(match["order"]), match["choice"]) if match else None


def apply_button_reply(agent, message):
    """Act on the customer's tap on "Confirm" or "Change" under an order summary; returns the history
    entry it left, or None when the message is no such tap (or is about someone else's order).

    Confirm moves a pending order to confirmed (by the customer, on WhatsApp) and tells them it is;
    on an order that is no longer pending, or whose items changed after the summary tapped, it is only
    noted. Change is noted for the agent.
    """
    choice = button_choice(message)
    if choice is None:
        return None
    agent_tables = tables.for_agent(agent)
    order_id, answer = choice
    order = agent_tables.Order.objects.filter(pk=order_id, customer_id=message.customer_id).first()
    if order is None:
        logger.info("button reply %s names order %s, which is not this customer's", message.wamid, order_id)
        return None
    done = agent_tables.OrderEvent.objects.filter(source_wamid=message.wamid).first()
    if done is not None:
        return done
    who = f"{message.customer.name} (customer, on WhatsApp)"
    try:
        with transaction.atomic(using=agent_tables.database):
            outdated = answer == "confirm" and _edited_since_summary(agent_tables, order, message)
            if answer == "confirm" and order.status == "pending" and not outdated:
                return _confirm(agent, order, message, who)
            if outdated:
                note = (
                    "The customer tapped Confirm under an earlier summary, but the items changed since: "
                    "send them the new summary."
                )
                kind = "customer_reply"
            elif answer == "confirm":
                note = f"The customer tapped Confirm, but the order is already {order.status}: they were told so."
                kind = "customer_reply"
            else:
                note = "The customer asked to change the order (tapped Change on WhatsApp)."
                kind = "change_requested"
            event = history.record_event(
                agent_tables,
                order,
                order.status,
                order.status,
                actor=None,
                actor_name=who,
                note=note,
                kind=kind,
                source_wamid=message.wamid,
            )
            agent_tables.Order.objects.filter(pk=order.pk).update(updated_at=timezone.now())
            if answer == "confirm" and not outdated:
                _answer_on_commit(agent, agent_tables, order, event)
            return event
    except IntegrityError:
        # The same reply, delivered twice at once: the other delivery recorded it.
        return agent_tables.OrderEvent.objects.filter(source_wamid=message.wamid).first()


def _edited_since_summary(agent_tables, order, message):
    """Whether the order's items were edited after the summary whose button the customer tapped."""
    tapped = (
        agent_tables.Message.objects.filter(wamid=message.context_wamid, direction="outbound").first()
        if message.context_wamid
        else None
    )
    sent = (
        agent_tables.OrderEvent.objects.filter(order=order, kind="summary_sent", message_id=tapped.pk).first()
        if tapped
        else None
    )
    if sent is None:
        return False  # which summary was tapped is unknown: the order as it stands is what they saw last
    return agent_tables.OrderEvent.objects.filter(order=order, kind="edited", pk__gt=sent.pk).exists()


def _confirm(agent, order, message, who):
    try:
        _, event = workflow.change_status(
            agent,
            order,
            "confirmed",
            actor=None,
            actor_name=who,
            source_wamid=message.wamid,
            note="Confirmed by the customer on WhatsApp.",
            kind="customer_confirmed",
            on_commit=lambda order, event: notify.notify_status_change(agent, order, event, sent_by=None),
        )
    except OrderError:
        # Moved on meanwhile (the agent confirmed or cancelled it): noted, not applied.
        agent_tables = tables.for_agent(agent)
        order.refresh_from_db()
        event = history.record_event(
            agent_tables,
            order,
            order.status,
            order.status,
            actor=None,
            actor_name=who,
            note=f"The customer tapped Confirm, but the order is already {order.status}: they were told so.",
            kind="customer_reply",
            source_wamid=message.wamid,
        )
        _answer_on_commit(agent, agent_tables, order, event)
    return event


def _answer_on_commit(agent, agent_tables, order, event):
    """Once the tap is recorded, tell the customer the state of the order they confirmed too late."""
    transaction.on_commit(
        rls.bound(lambda: notify.answer_late_confirm(agent, order, event)), using=agent_tables.database
    )
