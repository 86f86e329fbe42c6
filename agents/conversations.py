"""Keeping a customer's inbox fields (last_message_at, unread_count) true as messages come and go.

Every write that stores a message calls note_new_message() in the same transaction; opening a
conversation calls mark_conversation_read(). Both take the customer row's lock, so a message that
arrives while the agent reads is never counted as read nor lost from the count.
"""

from django.db import transaction
from django.db.models.functions import Coalesce, Greatest


def note_new_message(agent_tables, message):
    """Move the customer's last activity forward and count an unread inbound message."""
    unread = 1 if message.direction == "inbound" and not message.is_read else 0
    agent_tables.Customer.objects.filter(pk=message.customer_id).update(
        last_message_at=Greatest(Coalesce("last_message_at", message.timestamp), message.timestamp),
        unread_count=Coalesce("unread_count", 0) + unread,
    )


def mark_conversation_read(agent_tables, customer):
    """Mark the customer's inbound messages read; return the newest one's wamid (for a read receipt)."""
    Message = agent_tables.Message
    with transaction.atomic(using=agent_tables.database):
        agent_tables.Customer.objects.select_for_update().filter(pk=customer.pk).first()
        unread = Message.objects.unread().filter(customer=customer)
        newest_wamid = (
            unread.exclude(wamid=None).order_by("-timestamp", "-id").values_list("wamid", flat=True).first()
        )
        marked = unread.update(is_read=True)
        agent_tables.Customer.objects.filter(pk=customer.pk).update(unread_count=0)
    return newest_wamid if marked else None
