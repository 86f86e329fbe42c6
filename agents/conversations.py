"""Keeping a customer's inbox fields true as messages come and go, and the inbox as a work queue.

Every write that stores a message calls note_new_message() in the same transaction; opening a
conversation calls mark_conversation_read(). Both take the customer row's lock, so a message that
arrives while the agent reads is never counted as read nor lost from the count.

The work queue (schema version 8):
- `awaiting_reply_since` is the time of the customer's oldest message that no answer followed, NULL when
  nothing waits: the conversation "needs a reply". It is never moved by hand, only recomputed from the
  messages (refresh_reply_state) whenever a message is stored, sent again, or fails. A customer's message
  counts unless it is a reaction or a WhatsApp system notice; an answer is any outbound message that has
  not failed (text, media, template, buttons; queued counts, as the seller has answered), except a
  reaction. A failed send is no answer, so the conversation needs a reply again until it is resent.
- `conversation_done_at`: the seller marked the conversation done; `snoozed_until`: hidden until then.
  A customer's new message (one that counts, as above) reopens it: both are cleared.
"""

import datetime as dt

from django.db import connections, transaction
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

# What the derivation leaves out: a reaction neither asks nor answers, a system notice is WhatsApp's.
NOT_ASKING = ("reaction", "system")
NOT_ANSWERING = ("reaction",)
SNOOZE_PRESETS = {"hour": "For 1 hour", "tomorrow": "Until tomorrow 9:00", "next_week": "Until next week"}


def asks(message):
    """Whether a message is the customer writing: it may need a reply, and it reopens the conversation."""
    return message.direction == "inbound" and (message.wa_type or "") not in NOT_ASKING


def note_new_message(agent_tables, message):
    """Move the customer's last activity forward, count an unread inbound message, and keep the queue true."""
    unread = 1 if message.direction == "inbound" and not message.is_read else 0
    reopen = {"conversation_done_at": None, "snoozed_until": None} if asks(message) else {}
    agent_tables.Customer.objects.filter(pk=message.customer_id).update(
        last_message_at=Greatest(Coalesce("last_message_at", message.timestamp), message.timestamp),
        unread_count=Coalesce("unread_count", 0) + unread,
        **reopen,
    )
    refresh_reply_state(agent_tables, [message.customer_id])


def note_new_messages(agent_tables, messages):
    """note_new_message() for many messages stored in one transaction, at a fraction of the cost.

    One UPDATE per customer, all sent in one round trip (the intake stores messages in batches and
    Django's expression compiler would cost more than the database). Customers are updated in id
    order, so two writers never wait on each other's rows.
    """
    per_customer = {}
    for message in messages:
        newest, unread, reopen = per_customer.get(message.customer_id, (message.timestamp, 0, False))
        unread += 1 if message.direction == "inbound" and not message.is_read else 0
        per_customer[message.customer_id] = (max(newest, message.timestamp), unread, reopen or asks(message))
    if not per_customer:
        return
    Customer = agent_tables.Customer
    connection = connections[agent_tables.database]
    column = Customer._meta.get_field("last_message_at")
    sql = (
        f"UPDATE {connection.ops.quote_name(Customer._meta.db_table)} SET "
        "last_message_at = CASE WHEN last_message_at IS NULL OR last_message_at < %s THEN %s ELSE last_message_at END, "
        "unread_count = COALESCE(unread_count, 0) + %s, "
        "conversation_done_at = CASE WHEN %s THEN NULL ELSE conversation_done_at END, "
        "snoozed_until = CASE WHEN %s THEN NULL ELSE snoozed_until END WHERE id = %s"
    )
    rows = []
    for customer_id, (newest, unread, reopen) in sorted(per_customer.items()):
        at = column.get_db_prep_value(newest, connection)
        rows.append((at, at, unread, reopen, reopen, customer_id))
    _execute_each(connection, sql, rows)
    refresh_reply_state(agent_tables, sorted(per_customer))


def _execute_each(connection, sql, rows):
    with connection.cursor() as cursor:
        if len(rows) == 1:
            cursor.execute(sql, rows[0])  # cheaper than a pipeline of one
        else:
            cursor.executemany(sql, rows)


def _reply_state_sql(agent_tables, customer):
    """The UPDATE that recomputes awaiting_reply_since; `customer` is `%s` (one id) or the table's id column."""
    quote = connections[agent_tables.database].ops.quote_name
    customers, messages = quote(agent_tables.Customer._meta.db_table), quote(agent_tables.Message._meta.db_table)
    answer = (
        f"a.customer_id = {customer} AND a.direction = 'outbound' AND (a.status IS NULL OR a.status <> 'failed') "
        f"AND (a.wa_type IS NULL OR a.wa_type NOT IN ({_sql_list(NOT_ANSWERING)}))"
    )
    # With a literal id each inner query runs once (PostgreSQL: an InitPlan) through the thread index.
    return (
        f"UPDATE {customers} SET awaiting_reply_since = (SELECT MIN(m.timestamp) FROM {messages} m "
        f"WHERE m.customer_id = {customer} AND m.direction = 'inbound' "
        f"AND (m.wa_type IS NULL OR m.wa_type NOT IN ({_sql_list(NOT_ASKING)})) "
        f"AND (NOT EXISTS (SELECT 1 FROM {messages} a WHERE {answer}) "
        f"OR m.timestamp > (SELECT MAX(a.timestamp) FROM {messages} a WHERE {answer})))"
    )


def _sql_list(values):
    return ", ".join(f"'{value}'" for value in values)


def refresh_reply_state(agent_tables, customer_ids):
    """Recompute whether each customer waits for a reply, from their messages alone (never drifts)."""
    if not customer_ids:
        return
    sql = _reply_state_sql(agent_tables, "%s") + " WHERE id = %s"
    _execute_each(connections[agent_tables.database], sql, [(pk, pk, pk, pk) for pk in sorted(set(customer_ids))])


def all_reply_states_sql(agent_tables):
    """The UPDATE that does refresh_reply_state() for every customer with messages (the version-8 upgrade)."""
    table = connections[agent_tables.database].ops.quote_name(agent_tables.Customer._meta.db_table)
    return _reply_state_sql(agent_tables, f"{table}.id") + " WHERE last_message_at IS NOT NULL"


def refresh_all_reply_states(agent_tables):
    """refresh_reply_state() for every customer with messages (an adopted database)."""
    with connections[agent_tables.database].cursor() as cursor:
        cursor.execute(all_reply_states_sql(agent_tables))


def note_failed_sends(agent_tables, message_ids):
    """A send failed: its conversation may need a reply again."""
    customer_ids = agent_tables.Message.objects.filter(pk__in=message_ids).values_list("customer_id", flat=True)
    refresh_reply_state(agent_tables, list(customer_ids))


# The seller's side of the queue: done, snoozed, open again.


def mark_done(agent_tables, customer, *, now=None):
    agent_tables.Customer.objects.filter(pk=customer.pk).update(
        conversation_done_at=now or timezone.now(), snoozed_until=None
    )


def reopen(agent_tables, customer):
    agent_tables.Customer.objects.filter(pk=customer.pk).update(conversation_done_at=None, snoozed_until=None)


def snooze_until(preset, *, now=None):
    """When a snooze preset ends, in the active (the seller's browser's) time zone; None for an unknown preset."""
    local = timezone.localtime(now or timezone.now())
    nine = dt.time(9, 0)
    if preset == "hour":
        return local + dt.timedelta(hours=1)
    if preset == "tomorrow":
        return _at(local.date() + dt.timedelta(days=1), nine, local.tzinfo)
    if preset == "next_week":
        return _at(local.date() + dt.timedelta(days=7 - local.weekday()), nine, local.tzinfo)  # next Monday
    return None


def _at(day, time, zone):
    return timezone.make_aware(dt.datetime.combine(day, time), zone)


def snooze(agent_tables, customer, until):
    agent_tables.Customer.objects.filter(pk=customer.pk).update(conversation_done_at=None, snoozed_until=until)


def queue_state(customer, *, now=None):
    """ "done", "snoozed" or "open": where the conversation stands in the seller's queue."""
    if customer.conversation_done_at:
        return "done"
    if customer.snoozed_until and customer.snoozed_until > (now or timezone.now()):
        return "snoozed"
    return "open"


def queue_filters(now):
    """{filter name: Q over customers with messages} for the inbox's work-queue filters."""
    awake = Q(snoozed_until__isnull=True) | Q(snoozed_until__lte=now)
    is_open = Q(conversation_done_at__isnull=True) & awake
    return {
        "needs_reply": is_open & Q(awaiting_reply_since__isnull=False),
        "unread": Q(unread_count__gt=0),
        "open": is_open,
        "done": Q(conversation_done_at__isnull=False),
        "snoozed": Q(conversation_done_at__isnull=True, snoozed_until__gt=now),
    }


def queue_counts(agent_tables, *, now=None):
    """{filter name: how many conversations it shows} plus "all", in one query."""
    filters = queue_filters(now or timezone.now())
    return agent_tables.Customer.objects.with_messages().aggregate(
        all=Count("id"), **{name: Count("id", filter=condition) for name, condition in filters.items()}
    )


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
