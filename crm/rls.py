"""PostgreSQL Row Level Security, the second wall: each request and task says whose rows it may touch.

Every agent table carries a policy that compares the session setting `crm.agent_id` with that
table's agent (a constant: each table belongs to one agent), and the contract's core tables carry
policies that narrow `agents`, `whatsapp_configuration` and changes to `users` to that agent while a
request works as it. The setting holds:

    ''            (unset) trusted code outside any request: commands, workers, the test suite's setup
    'none'        a web request that has not said whose data it works on: no agent table row at all
    '<agent id>'  a request or task working as that agent: its own tables only
    'all'         the admin, and the intake's routing: every agent

The code says which with `scope(...)` (a context variable, so threads and requests never share it);
a wrapper around every query on PostgreSQL applies it to the connection before the query runs, only
when it changed, and every connection a request worked on as an agent is put back to 'none' when the
request ends, so a pooled connection never carries one request's scope into the next. Tables are created with FORCE ROW
LEVEL SECURITY, so the policies hold for their owner too; only a superuser (or a BYPASSRLS role)
bypasses them: production connects as an ordinary role (docs/security.md).
"""

from contextlib import contextmanager
from contextvars import ContextVar

from django.core.signals import request_finished
from django.db import connections, migrations
from django.db.backends.signals import connection_created

SETTING = "crm.agent_id"
ALL = "all"
NOBODY = "none"
_SCOPE = f"coalesce(current_setting('{SETTING}', true), '')"

_wanted = ContextVar("crm_row_scope", default="")
# What a new connection's session has: the setting unset.
_UNSET = ("", (None, ()))
# Not known: the next query applies its scope whatever it is.
_UNKNOWN = (None, (None, ()))


@contextmanager
def scope(value):
    """Run the block with the row scope `value` (ALL, NOBODY, or an agent id)."""
    token = _wanted.set(str(value))
    try:
        yield
    finally:
        _wanted.reset(token)


def agent_scope(agent):
    """Run the block as `agent` (an Agent or its id): only its tables' rows are visible."""
    return scope(getattr(agent, "pk", agent))


def unrestricted():
    return scope(ALL)


def bound(function):
    """`function`, to run later (on commit, say) in the row scope in force now."""
    value = _wanted.get()

    def run(*args, **kwargs):
        with scope(value):
            return function(*args, **kwargs)

    return run


def work_as(agent):
    """Make the rest of the current request work as `agent` (the middleware ends it with the request)."""
    _wanted.set(str(getattr(agent, "pk", agent)))


# Applying the scope to connections.


def _marker(connection):
    """Where a setting made now would survive: the open transaction and savepoints it is made in.

    A rolled-back transaction or savepoint takes back the settings made inside it; one made outside
    any transaction is kept by the session. The outermost Atomic object itself (not its id, which
    Python reuses) identifies the transaction.
    """
    outer = connection.atomic_blocks[0] if connection.in_atomic_block else None
    return outer, tuple(connection.savepoint_ids)


def _still_applied(connection, marker):
    outer, savepoints = marker
    if outer is None:
        return True
    if not connection.in_atomic_block or connection.atomic_blocks[0] is not outer:
        return False
    return tuple(connection.savepoint_ids[: len(savepoints)]) == savepoints


def _apply(connection, value):
    # A cursor of its own: the query's cursor may be a server-side one (QuerySet.iterator()), which
    # would only DECLARE the statement, not run it.
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, false)", [SETTING, value])
    connection.crm_row_scope = (value, _marker(connection))


# Statements that read no rows: a rollback must run even in a transaction that accepts nothing else.
_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE", "COMMIT", "BEGIN", "SET ")


def _apply_scope(execute, sql, params, many, context):
    wanted = _wanted.get()
    connection = context["connection"]
    applied = connection.crm_row_scope
    if (applied[0] != wanted or not _still_applied(connection, applied[1])) and not sql.startswith(
        _TRANSACTION_CONTROL
    ):
        _apply(connection, wanted)
    return execute(sql, params, many, context)


def install(sender, connection, **kwargs):
    """connection_created receiver: PostgreSQL connections apply the row scope before each query."""
    if connection.vendor != "postgresql":
        return
    connection.crm_row_scope = _UNSET
    role = connection.settings_dict.get("ROLE")
    if role:
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
    if _apply_scope not in connection.execute_wrappers:
        connection.execute_wrappers.append(_apply_scope)


def reset_connections(**kwargs):
    """Put every connection a request worked on as an agent (or as the admin) back to NOBODY: a pooled
    connection never carries one request's rows into the next. One already at NOBODY (or unset) is
    left alone, which keeps a request that never said whose rows it works on (the webhook) free of
    scope statements on a kept connection."""
    for connection in connections.all(initialized_only=True):
        if getattr(connection, "crm_row_scope", _UNSET)[0] in ("", NOBODY) or connection.connection is None:
            continue
        if connection.needs_rollback:
            # A broken transaction accepts nothing; its rollback (or the next query) settles it.
            connection.crm_row_scope = _UNKNOWN
            continue
        try:
            _apply(connection, NOBODY)
        except Exception:
            # Not applied: the next query on this connection applies its own scope first.
            connection.crm_row_scope = _UNKNOWN


connection_created.connect(install, dispatch_uid="crm.rls.install")
request_finished.connect(reset_connections, dispatch_uid="crm.rls.reset_connections")


class RowScopeMiddleware:
    """Each request starts with no agent's rows (NOBODY), from its first query to its last (the session
    saved on the way out included: this middleware comes first); views that work as an agent say so
    (agents.access.agent_required), and the admin works on every agent (staff only, decided once the
    user is known, just before the view)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _wanted.set(NOBODY)
        try:
            response = self.get_response(request)
            if response.streaming:
                response.streaming_content = _scoped(response.streaming_content, _wanted.get())
            return response
        finally:
            _wanted.reset(token)

    def process_view(self, request, view, args, kwargs):
        if request.path.startswith("/admin/") and request.user.is_staff:
            _wanted.set(ALL)


def _scoped(chunks, value):
    """A streamed body produced under the request's scope (it is read after the view returned)."""
    with scope(value):
        yield from chunks


# The policies.


def agent_table_policy_sql(table, agent_id):
    """Statements that let `table` (an agent table of agent `agent_id`) be read and written only in
    that agent's scope, or in the unrestricted ones ('' and ALL)."""
    allowed = f"{_SCOPE} IN ('', '{ALL}', '{int(agent_id)}')"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {table}_agent ON {table}",
        f"CREATE POLICY {table}_agent ON {table} USING ({allowed}) WITH CHECK ({allowed})",
    ]


AGENT_SCOPE = f"{_SCOPE} ~ '^[0-9]+$'"


# The scoped agent's id as a one-off subquery (an InitPlan), so `column = SCOPED_AGENT_ID` can use an
# index on the column; NULL outside an agent's scope.
SCOPED_AGENT_ID = f"(SELECT CASE WHEN {_SCOPE} ~ '^[0-9]+$' THEN {_SCOPE}::bigint END)"


def keyed_table_policy_sql(table, column="agent_id"):
    """Statements that let the rows of `table`, a table every agent shares whose rows each name their
    agent in `column`, be read and written only in that agent's scope, or in the unrestricted ones
    ('' and ALL). The policy is named `<table>_agent_keyed`."""
    allowed = f"{_SCOPE} IN ('', '{ALL}') OR {column} = {SCOPED_AGENT_ID}"
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {table}_agent_keyed ON {table}",
        f"CREATE POLICY {table}_agent_keyed ON {table} USING ({allowed}) WITH CHECK ({allowed})",
    ]


def keyed_row_security(table, column="agent_id"):
    """A migration operation that puts `keyed_table_policy_sql(table, column)` on PostgreSQL (other
    databases have no row security; the access layer is their only wall)."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in keyed_table_policy_sql(table, column):
                schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP POLICY IF EXISTS {table}_agent_keyed ON {table}")
            schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    return migrations.RunPython(forwards, backwards, elidable=False)


SCOPED_AGENT_USER = f"(SELECT a.user_id FROM agents a WHERE a.id::text = {_SCOPE})"

CORE_POLICIES_SQL = [
    # agents: while working as an agent, only that agent's row.
    "ALTER TABLE agents ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE agents FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY agents_scope ON agents USING (NOT {AGENT_SCOPE} OR id::text = {_SCOPE})",
    # whatsapp_configuration: while working as an agent, only its user's configuration.
    "ALTER TABLE whatsapp_configuration ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE whatsapp_configuration FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY whatsapp_configuration_scope ON whatsapp_configuration "
    f"USING (NOT {AGENT_SCOPE} OR user_id = {SCOPED_AGENT_USER})",
    # users: anyone may be read (logins, names beside messages); while working as an agent, only its
    # own user may be changed.
    "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE users FORCE ROW LEVEL SECURITY",
    "CREATE POLICY users_read ON users FOR SELECT USING (true)",
    f"CREATE POLICY users_change ON users USING (NOT {AGENT_SCOPE} OR id = {SCOPED_AGENT_USER}) "
    f"WITH CHECK (NOT {AGENT_SCOPE} OR id = {SCOPED_AGENT_USER})",
]

CORE_POLICIES_REVERSE_SQL = [
    "DROP POLICY IF EXISTS agents_scope ON agents",
    "ALTER TABLE agents NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE agents DISABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS whatsapp_configuration_scope ON whatsapp_configuration",
    "ALTER TABLE whatsapp_configuration NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE whatsapp_configuration DISABLE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS users_read ON users",
    "DROP POLICY IF EXISTS users_change ON users",
    "ALTER TABLE users NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE users DISABLE ROW LEVEL SECURITY",
]


# Under a row security policy PostgreSQL uses an index for a condition only when its functions are
# LEAKPROOF (they cannot reveal a row the policy hides, e.g. through an error message). Message search
# is UPPER(message) LIKE '%words%', answered by a trigram index on UPPER(message): neither function
# can leak a row (upper() never fails; LIKE fails only on a malformed pattern, which is ours), but only
# a superuser may say so. Without it search still works, by scanning the agent's messages.
SEARCH_FUNCTIONS = ("upper(text)", "textlike(text, text)")


def mark_search_functions_leakproof(cursor):
    """Mark the search functions LEAKPROOF if the login role may (a superuser); returns whether it did."""
    cursor.execute("SELECT rolsuper, current_user::text, session_user::text FROM pg_roles WHERE rolname = session_user")
    superuser, role, login = cursor.fetchone()
    if not superuser:
        return False
    cursor.execute("RESET ROLE")  # the app's ordinary role (DATABASE_ROLE) may not; its login may
    for function in SEARCH_FUNCTIONS:
        cursor.execute(f"ALTER FUNCTION {function} LEAKPROOF")
    if role != login:
        cursor.execute(f'SET ROLE "{role}"')
    return True
