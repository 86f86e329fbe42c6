"""What changed in an agent's inbox since a page last asked: the cheap question every open page asks
often (docs/architecture.md, "Live updates").

The state's token is the newest message's id and the number of unread conversations, read in one
statement from two indexes (the messages' primary key, the customers' unread index). A page asks in two
ways: `check` (every 700 ms) holds a signed ticket naming the agent and answers from that one statement
without the session, the user or the agent's row (alerts.middleware); `changes` (on load, and when the
check says the token moved) is an ordinary logged-in request that also names the customer messages that
came since (for notifications) and gives a fresh ticket.
"""

from types import SimpleNamespace

from django.core import signing
from django.db import connections
from django.urls import reverse

from agents import tables
from crm import rls
from crm.inputs import whole_number

from .push import notification_for

NEW_MESSAGES_LIMIT = 10
TICKET_SALT = "alerts.live.ticket"
# A ticket names the agent for this long; the page then gets a new one from a logged-in request, so a
# session that ended stops seeing even whether anything changed within this time.
TICKET_MAX_AGE = 10 * 60


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


def ticket_for(agent):
    """A signed ticket that lets `check` read the agent's state for TICKET_MAX_AGE seconds."""
    return signing.dumps([agent.pk, agent.agent_prefix, agent.database], salt=TICKET_SALT, compress=False)


def check(ticket, token):
    """The cheap question: "same" while `token` is the agent's state, "changed" when it moved, None for
    a ticket that is not one we signed or has expired. InvalidToken for a token we never gave."""
    try:
        agent_id, prefix, database = signing.loads(ticket, salt=TICKET_SALT, max_age=TICKET_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    parse_token(token)
    agent = SimpleNamespace(id=agent_id, pk=agent_id, agent_prefix=prefix, database=database)
    with rls.agent_scope(agent_id):
        newest, unread = snapshot(tables.for_agent(agent))
    return "same" if f"{newest}.{unread}" == token else "changed"


def changes(agent, agent_tables, token, *, show_text):
    """The agent's state (token, unread conversations), a fresh ticket, and the customer messages newer
    than `token` (none for a page that had no token yet). `show_text()` says whether notifications may
    carry the messages' text (asked only when there are some)."""
    seen = parse_token(token)
    newest, unread = snapshot(agent_tables)
    return {
        "token": f"{newest}.{unread}",
        "unread": unread,
        "messages": new_messages(agent_tables, seen, newest, show_text) if seen is not None else [],
        "ticket": ticket_for(agent),
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
