"""What a successful payment does to its order: the one place to change when payments go to a ledger."""

from orders import workflow


def apply_success(agent, order, event):
    """Mark `order` paid for the successful payment `event` (a PaymentEvent); returns whether it changed the
    order (False when it was already paid)."""
    if order.paid_at is not None:
        return False
    workflow.mark_paid(agent, order, actor=None)
    return True
