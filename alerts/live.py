"""What changed in an agent's inbox since a page last asked: the cheap question every open page asks
often (docs/architecture.md, "Live updates").

The answer's token is the newest message's id and the number of unread conversations, read in one
statement from two indexes (the messages' primary key, the customers' unread index). While the page's
token is still the agent's, nothing else is read. When it moved, the answer names the customer messages
that came since (for notifications) and the page reloads its live parts.
"""

from django.db import connections
from django.urls import reverse

from crm.inputs import whole_number

from .push import notification_for

NEW_MESSAGES_LIMIT = 10


class InvalidToken(ValueError):
    pass


def snapshot(agent_tables):
    """(the newest message's id, how many conversations have unread messages), in one round trip."""
    connection = connections[agent_tables.database]
    quote = connection.ops.quote_name
    messages = quote(agent_tables.Message._meta.db_table)
    customers = quote(agent_tables.Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT max(id) FROM {messages}), (SELECT count(*) FROM {customers} WHERE unread_count > 0)"
        )
        newest, unread = cursor.fetchone()
    return newest or 0, unread


def parse_token(token):
    """The newest message id a token says the page has seen, or None for no token (a page just loaded)."""
    if not token:
        return None
    newest, _, unread = token.partition(".")
    newest, unread = whole_number(newest), whole_number(unread)
    if newest is None or unread is None:
        raise InvalidToken("This live-update token is not one this page was given: reload the page.")
    return newest


def changes(agent_tables, token, *, show_text):
    """None while `token` is still the agent's; else the new token, the unread count and the customer
    messages newer than the token (none for a page that had no token yet). `show_text()` says whether
    notifications may carry the messages' text (asked only when there are some)."""
    seen = parse_token(token)
    newest, unread = snapshot(agent_tables)
    current = f"{newest}.{unread}"
    if current == token:
        return None
    return {
        "token": current,
        "unread": unread,
        "messages": new_messages(agent_tables, seen, newest, show_text) if seen is not None else [],
        "inbox_url": reverse("inbox"),
    }


def new_messages(agent_tables, seen, newest, show_text):
    """The newest unread customer messages with an id past `seen`, newest first, as notifications."""
    if newest <= seen:
        return []
    rows = list(
        agent_tables.Message.objects.unread()
        .filter(pk__gt=seen)
        .exclude(wa_type="system")
        .select_related("customer")
        .order_by("-id")[:NEW_MESSAGES_LIMIT]
    )
    with_text = show_text() if rows else False
    return [{"id": row.pk, **notification_for(row, show_text=with_text)} for row in rows]
