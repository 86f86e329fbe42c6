"""An order's history: the entry every change leaves (order_events), and the kinds of entry there are."""

# The kinds of history entries (order_events.kind): a status move, or something noted on the order.
EVENT_KINDS = {
    "created": "Created",
    "status": "Status changed",
    "edited": "Items edited",
    "paid": "Marked as paid",
    "payment": "Payment recorded",
    "refund": "Refund recorded",
    "summary_sent": "Summary sent",
    "customer_confirmed": "Confirmed by the customer",
    "change_requested": "Customer asked for a change",
    "customer_reply": "Customer replied",
    "payment_requested": "Sent to review and pay",
    "payment_notice": "Payment notice from WhatsApp",
    "invoice_sent": "Invoice sent",
}


def record_event(
    agent_tables,
    order,
    from_status,
    to_status,
    *,
    actor,
    note="",
    message_id=None,
    kind="status",
    actor_name=None,
    source_wamid=None,
):
    """One history entry of `order`: a move from `from_status` to `to_status`, or (equal statuses) a note.

    `actor` is the user who acted, or None for WhatsApp (then `actor_name` may say who: the customer).
    """
    return agent_tables.OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        changed_by=getattr(actor, "pk", None),
        changed_by_name=actor_name or _actor_name(actor),
        note=note,
        message_id=message_id,
        kind=kind,
        source_wamid=source_wamid,
    )


def _actor_name(actor):
    if actor is None:
        return "WhatsApp"
    return getattr(actor, "name", "") or getattr(actor, "email", "") or str(actor)
