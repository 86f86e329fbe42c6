"""Keeping a customer's inbox fields (last_message_at, unread_count) true as messages come and go.

Every write that stores a message calls note_new_message() in the same transaction; opening a
conversation calls mark_conversation_read(). Both take the customer row's lock, so a message that
arrives while the agent reads is never counted as read nor lost from the count.
"""

from django.db import connections, transaction
from django.db.models.functions import Coalesce, Greatest


def note_new_message(agent_tables, message):
    """Move the customer's last activity forward and count an unread inbound message."""
    unread = 1 if message.direction == "inbound" and not message.is_read else 0
    agent_tables.Customer.objects.filter(pk=message.customer_id).update(
        last_message_at=Greatest(Coalesce("last_message_at", message.timestamp), message.timestamp),
        unread_count=Coalesce("unread_count", 0) + unread,
    )


def note_new_messages(agent_tables, messages):
    """note_new_message() for many messages stored in one transaction, at a fraction of the cost.

    One UPDATE per customer, all sent in one round trip (the intake stores messages in batches and
    Django's expression compiler would cost more than the database). Customers are updated in id
    order, so two writers never wait on each other's rows.
    """
    per_customer = {}
    for message in messages:
        newest, unread = per_customer.get(message.customer_id, (message.timestamp, 0))
        unread += 1 if message.direction == "inbound" and not message.is_read else 0
        per_customer[message.customer_id] = (max(newest, message.timestamp), unread)
    if not per_customer:
        return
    Customer = agent_tables.Customer
    connection = connections[agent_tables.database]
    column = Customer._meta.get_field("last_message_at")
    sql = (
        f"UPDATE {connection.ops.quote_name(Customer._meta.db_table)} SET "
        "last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < %s THEN %s ELSE last_message_at END, "
        "unread_count = COALESCE(unread_count, 0) + %s WHERE id = %s"
    )
    rows = []
    for customer_id, (newest, unread) in sorted(per_customer.items()):
        at = column.get_db_prep_value(newest, connection)
        rows.append((at, at, unread, customer_id))
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])  # cheaper than a pipeline of one
        else:
            cursor.executemany(sql, rows)


def mark_conversation_read(agent_tables, customer):
    """Mark the customer's inbound messages read; return the newest one's wamid (for a read receipt)."""
    Message = agent_tables.Message
    with transaction.atomic(using=agent_tables.database):
        agent_tables.Customer.objects.select_for_update().filter(pk=customer.pk).first()
        unread = Message.objects.unread().filter(customer=customer)
        newest_wamid = unread.exclude(wamid=None).order_by("-timestamp", "-id").values_list("wamid", flat=True).first()
        marked = unread.update(is_read=True)
        agent_tables.Customer.objects.filter(pk=customer.pk).update(unread_count=0)
    return newest_wamid if marked else None
