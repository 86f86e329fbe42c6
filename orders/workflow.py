"""The order status workflow: which moves are allowed (each leaves an entry in orders.history).

pending -> confirmed -> processing -> shipped -> delivered
cancelled from any state before delivered; refunded after delivered, or after cancelled once paid.
"""

from django.db import transaction
from django.utils import timezone

import audit
from agents import tables
from crm import rls

from .history import record_event
from .placing import OrderError

STATUS_LABELS = {
    "pending": "Pending",
    "confirmed": "Confirmed",
    "processing": "Processing",
    "shipped": "Shipped",
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "refunded": "Refunded",
}
FORWARD = {"pending": "confirmed", "confirmed": "processing", "processing": "shipped", "shipped": "delivered"}
OPEN_STATUSES = ("pending", "confirmed", "processing", "shipped")
# What the order page's buttons say for a move to each status.
MOVE_LABELS = {
    "confirmed": "Confirm",
    "processing": "Start processing",
    "shipped": "Mark shipped",
    "delivered": "Mark delivered",
    "cancelled": "Cancel",
    "refunded": "Refund",
}


def allowed_next(order):
    """The statuses `order` may move to now, in the order a seller would want them offered."""
    moves = []
    if order.status in FORWARD:
        moves.append(FORWARD[order.status])
    if order.status in OPEN_STATUSES:
        moves.append("cancelled")
    if order.status == "delivered" or (order.status == "cancelled" and order.paid_at):
        moves.append("refunded")
    return moves


def refusal(order, to_status):
    """Why `order` may not move to `to_status`, or None when it may."""
    if to_status not in STATUS_LABELS:
        return f"{to_status!r} is not an order status."
    if to_status == order.status:
        return f"The order is already {to_status}."
    if to_status in allowed_next(order):
        return None
    if to_status == "refunded" and order.status == "cancelled":
        return "Only a cancelled order that was paid can be refunded."
    if to_status == "refunded":
        return "Only a delivered order, or a paid cancelled one, can be refunded."
    if to_status == "cancelled":
        return f"A {order.status} order can no longer be cancelled."
    return f"A {order.status} order cannot move to {to_status}: next is {', '.join(allowed_next(order)) or 'nothing'}."


def change_status(
    agent,
    order,
    to_status,
    *,
    actor,
    note="",
    on_commit=None,
    request=None,
    actor_name=None,
    source_wamid=None,
    kind="status",
):
    """Move `order` to `to_status` if the workflow allows it; record who, when, from and to.

    Raises OrderError with a message for the agent otherwise. `on_commit(order, event)` runs once the
    change is committed (used to notify the customer). The change is also written to the audit log.
    `actor` None with an `actor_name` is someone outside the app (the customer, replying on WhatsApp);
    `source_wamid` is then their message, which can move the order only once.
    """
    agent_tables = tables.for_agent(agent)
    with transaction.atomic(), transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        reason = refusal(order, to_status)
        if reason:
            raise OrderError(reason)
        from_status = order.status
        order.status = to_status
        order.updated_at = timezone.now()
        order.save(update_fields=["status", "updated_at"])
        event = record_event(
            agent_tables,
            order,
            from_status,
            to_status,
            actor=actor,
            note=note,
            actor_name=actor_name,
            source_wamid=source_wamid,
            kind=kind,
        )
        details = {} if actor is not None else {"by": event.changed_by_name}
        audit.record(
            "order.status_changed",
            actor=actor,
            target=order,
            request=request,
            agent=agent.agent_prefix,
            from_status=from_status,
            to_status=to_status,
            **details,
        )
        if on_commit is not None:
            # Run in this scope: the commit may come after the block that set it (the intake's) has ended.
            transaction.on_commit(rls.bound(lambda: on_commit(order, event)), using=agent_tables.database)
    return order, event


def mark_paid(agent, order, *, actor):
    """Record that the customer paid (which later allows refunding a cancelled order)."""
    agent_tables = tables.for_agent(agent)
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        if order.paid_at is None:
            order.paid_at = timezone.now()
            order.updated_at = order.paid_at
            order.save(update_fields=["paid_at", "updated_at"])
            record_event(
                agent_tables, order, order.status, order.status, actor=actor, note="Marked as paid", kind="paid"
            )
    return order
