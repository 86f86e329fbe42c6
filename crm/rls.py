"""PostgreSQL Row Level Security, the second wall: each transaction says whose rows it may touch.

Every agent table, and every table every agent shares, carries a policy that lets a row be seen only
under the scope of its agent (or under the unrestricted scope 'all'). The scope lives in the setting
`crm.agent_id`, set for the current TRANSACTION only (`set_config(..., true)`): a pooled server
connection (PgBouncer in transaction mode) never carries it to another client, and a connection that
set nothing reads no agent's rows. The setting holds a signed token, `<scope>:<expiry>:<HMAC>`, which
the database checks (`crm_row_scope()`, a SECURITY DEFINER function reading keys the app's web role
cannot read): SQL that sets another agent's id, 'all' or '' by hand gets no row (docs/security.md).

The code says which scope with `scope(...)` (a context variable, so threads and requests never share it):

    NOBODY        a web request that has not said whose data it works on: no agent's row
    '<agent id>'  a request or task working as that agent: its own rows only
    ALL           the admin, the intake, commands and workers outside any request: every agent

A wrapper around every query on PostgreSQL applies it: inside a transaction, once (again after a
rolled-back savepoint took it back); a statement outside any transaction is wrapped in one of its own
that sets the scope first. Tables are created with FORCE ROW LEVEL SECURITY, so the policies hold for
their owner too; only a superuser (or a BYPASSRLS role) bypasses them.
"""

import hashlib
import hmac
import time
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

import psycopg
from django.conf import settings
from django.db import connections, migrations
from django.db.backends.signals import connection_created

SETTING = "crm.agent_id"
ALL = "all"
NOBODY = "none"
# How long a signed scope is accepted after it was made, against the database's transaction start
# (now()): a token seen by someone else is worthless soon after, while clocks may differ a little.
TOKEN_SECONDS = 300

_wanted = ContextVar("crm_row_scope")
# The scope of code outside any request: trusted (commands, workers, the test suite's setup), unless
# the process serves requests only (crm/wsgi.py closes it).
_outside_requests = ALL


def close_outside_requests():
    """Make code outside any request work on no agent's rows (the web process: requests say whose)."""
    global _outside_requests
    _outside_requests = NOBODY


def current():
    return _wanted.get(_outside_requests)


@contextmanager
def scope(value):
    """Run the block with the row scope `value` (ALL, NOBODY, or an agent id)."""
    token = _wanted.set(str(value))
    try:
        yield
    finally:
        _wanted.reset(token)


def agent_scope(agent):
    """Run the block as `agent` (an Agent or its id): only its rows are visible."""
    return scope(getattr(agent, "pk", agent))


def unrestricted():
    return scope(ALL)


def bound(function):
    """`function`, to run later (on commit, say) in the row scope in force now."""
    value = current()

    def run(*args, **kwargs):
        with scope(value):
            return function(*args, **kwargs)

    return run


def work_as(agent):
    """Make the rest of the current request work as `agent` (the middleware ends it with the request)."""
    _wanted.set(str(getattr(agent, "pk", agent)))


# Signing the scope: HMAC-SHA256 under a key derived from SECRET_KEY (and each of its fallbacks, so
# that a rotation keeps old processes working until they restart).


@lru_cache(maxsize=4)
def _derive_keys(secrets):
    return [hmac.new(secret.encode(), b"crm.rls: the row scope key", hashlib.sha256).digest() for secret in secrets]


def signing_keys():
    return _derive_keys((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


def signed(value, now=None):
    """The token that makes the database accept `value` (ALL or an agent id) as the scope."""
    message = f"{value}:{int(now or time.time()) + TOKEN_SECONDS}"
    mac = hmac.new(signing_keys()[0], message.encode(), hashlib.sha256).hexdigest()
    return f"{message}:{mac}"


# Applying the scope to transactions.


def _marker(connection):
    """Where a setting made now lives: the transaction and savepoints it is made in.

    A rolled-back savepoint takes back the settings made inside it, and every transaction starts
    with none. The outermost Atomic object itself (not its id, which Python reuses) identifies the
    transaction.
    """
    outer = connection.atomic_blocks[0] if connection.in_atomic_block else None
    return outer, tuple(connection.savepoint_ids)


def _in_force(connection):
    """The scope the connection's open transaction has now."""
    value, (outer, savepoints) = connection.crm_row_scope
    if outer is None or not connection.in_atomic_block or connection.atomic_blocks[0] is not outer:
        return NOBODY
    if tuple(connection.savepoint_ids[: len(savepoints)]) != savepoints:
        return NOBODY
    return value


def _apply(connection, value):
    # A cursor of its own: the query's cursor may be a server-side one (QuerySet.iterator()), which
    # would only DECLARE the statement. Bound on the server (not Django's client-side binding), so the
    # token never shows in pg_stat_activity's query text; never prepared (PgBouncer would lose it).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            "SELECT set_config(%s, %s, true)", [SETTING, "" if value == NOBODY else signed(value)], prepare=False
        )
    connection.crm_row_scope = (value, _marker(connection))


# Statements that read or write rows. Others need no scope, and some must not run in a transaction
# (CREATE DATABASE, VACUUM), or run where the transaction accepts nothing else (ROLLBACK).
_ROW_STATEMENTS = frozenset(
    ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "DECLARE", "MERGE", "COPY", "TABLE", "VALUES", "EXPLAIN")
)
_NOT_APPLIED = (NOBODY, (None, ()))


def _reads_or_writes_rows(sql):
    words = sql.lstrip(" \t\n(").split(None, 1)
    return bool(words) and words[0].upper() in _ROW_STATEMENTS


def _apply_scope(execute, sql, params, many, context):
    connection = context["connection"]
    if not _reads_or_writes_rows(sql):
        return execute(sql, params, many, context)
    wanted = current()
    if connection.in_atomic_block:
        if _in_force(connection) != wanted:
            _apply(connection, wanted)
        return execute(sql, params, many, context)
    if not connection.get_autocommit():
        # A transaction begun by hand (set_autocommit(False)): nothing tells where it began.
        _apply(connection, wanted)
        return execute(sql, params, many, context)
    if wanted == NOBODY:
        return execute(sql, params, many, context)  # a transaction that set nothing reads no agent's rows
    # One statement in a transaction of its own (psycopg's, which Django's bookkeeping need not know); a
    # failure to begin or end it (a connection gone) raises Django's error, as the statement's would.
    with connection.wrap_database_errors, connection.connection.transaction():
        _apply(connection, wanted)
        return execute(sql, params, many, context)


def install(sender, connection, **kwargs):
    """connection_created receiver: PostgreSQL connections apply the row scope before each query."""
    if connection.vendor != "postgresql":
        return
    connection.crm_row_scope = _NOT_APPLIED
    role = connection.settings_dict.get("ROLE")
    if role:
        with connection.connection.cursor() as cursor:
            cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
    if _apply_scope not in connection.execute_wrappers:
        connection.execute_wrappers.append(_apply_scope)


connection_created.connect(install, dispatch_uid="crm.rls.install")


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
                response.streaming_content = _scoped(response.streaming_content, current())
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


# The database's side: the function every policy asks whose rows are visible, and the keys it checks.

KEYS_TABLE = "crm_row_scope_keys"

ROW_SCOPE_FUNCTION_SQL = [
    # HMAC's two padded keys (RFC 2104), so that the built-in sha256() verifies without an extension.
    f"CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (inner_pad bytea NOT NULL, outer_pad bytea NOT NULL)",
    f"REVOKE ALL ON {KEYS_TABLE} FROM PUBLIC",
    f"""CREATE OR REPLACE FUNCTION crm_row_scope() RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT parts[1] FROM (SELECT string_to_array(current_setting('{SETTING}', true), ':') AS parts) token
    WHERE cardinality(parts) = 3 AND parts[1] ~ '^({ALL}|[0-9]{{1,18}})$' AND parts[2] ~ '^[0-9]{{1,12}}$'
      AND parts[2]::bigint >= extract(epoch FROM now())
      AND EXISTS (SELECT FROM public.{KEYS_TABLE} k WHERE encode(sha256(k.outer_pad
          || sha256(k.inner_pad || convert_to(parts[1] || ':' || parts[2], 'UTF8'))), 'hex') = parts[3])
    $$""",
]


def _pads(key):
    block = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in block), bytes(b ^ 0x5C for b in block)


def prepare_database(connection):
    """Put crm_row_scope() and the current signing keys on `connection`'s database (PostgreSQL); idempotent.

    Run by migrations, after `migrate` and by provisioning on every database that holds agent tables,
    as the role that owns the tables; the keys follow SECRET_KEY and SECRET_KEY_FALLBACKS.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regprocedure('crm_row_scope()') IS NOT NULL")
        if not cursor.fetchone()[0]:
            for sql in ROW_SCOPE_FUNCTION_SQL:
                cursor.execute(sql)
        pads = [_pads(key) for key in signing_keys()]
        cursor.execute(f"SELECT inner_pad, outer_pad FROM {KEYS_TABLE}")
        if sorted((bytes(i), bytes(o)) for i, o in cursor.fetchall()) != sorted(pads):
            cursor.execute(f"DELETE FROM {KEYS_TABLE}")
            cursor.executemany(f"INSERT INTO {KEYS_TABLE} (inner_pad, outer_pad) VALUES (%s, %s)", pads)


def web_role_grants_sql(role):
    """What the owner grants the web processes' role (quoted): rows of every table, present and future,
    never the keys; owning nothing, it can neither drop a policy nor replace crm_row_scope()."""
    return [
        "GRANT USAGE ON SCHEMA public TO " + role,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role,
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO " + role,
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO " + role,
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO " + role,
        f"REVOKE ALL ON {KEYS_TABLE} FROM " + role,
    ]


def prepare_after_migrate(sender, using, **kwargs):
    """post_migrate receiver: the signing keys on the database just migrated (once per migrate)."""
    prepare_database(connections[using])


# The policies: each expression written once, here.

# The scope the database accepts (verified), or NULL; a one-off subquery (an InitPlan), evaluated once
# per query, never per row.
_SCOPE = "(SELECT crm_row_scope())"


def _policy_sql(table, policy, allowed):
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {policy} ON {table}",
        f"CREATE POLICY {policy} ON {table} USING ({allowed}) WITH CHECK ({allowed})",
    ]


def agent_table_policy_sql(table, agent_id):
    """Statements that let `table` (an agent table of agent `agent_id`) be read and written only in
    that agent's scope, or in the unrestricted one (ALL)."""
    allowed = f"{_SCOPE} IN ('{ALL}', '{int(agent_id)}')"
    return _policy_sql(table, f"{table}_agent", allowed)


AGENT_SCOPE = f"coalesce({_SCOPE}, '') ~ '^[0-9]+$'"


# The scoped agent's id, so `column = SCOPED_AGENT_ID` can use an index on the column; NULL outside an
# agent's scope.
SCOPED_AGENT_ID = "(SELECT scope::bigint FROM crm_row_scope() AS scope WHERE scope ~ '^[0-9]+$')"


def keyed_table_policy_sql(table, column="agent_id"):
    """Statements that let the rows of `table`, a table every agent shares whose rows each name their
    agent in `column`, be read and written only in that agent's scope, or in the unrestricted one
    (ALL); a row naming no agent only in the latter. The policy is named `<table>_agent_keyed`."""
    allowed = f"{_SCOPE} = '{ALL}' OR {column} = {SCOPED_AGENT_ID}"
    return _policy_sql(table, f"{table}_agent_keyed", allowed)


def _row_security_operation(table, statements):
    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            prepare_database(schema_editor.connection)
            for sql in statements:
                schema_editor.execute(sql)

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for sql in statements:
                if sql.startswith("CREATE POLICY"):
                    schema_editor.execute(f"DROP POLICY IF EXISTS {sql.split()[2]} ON {table}")
            schema_editor.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
            schema_editor.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")

    return migrations.RunPython(forwards, backwards, elidable=False)


def keyed_row_security(table, column="agent_id"):
    """A migration operation that puts `keyed_table_policy_sql(table, column)` on PostgreSQL (other
    databases have no row security; the access layer is their only wall)."""
    return _row_security_operation(table, keyed_table_policy_sql(table, column))


SCOPED_AGENT_USER = f"(SELECT a.user_id FROM agents a WHERE a.id = {SCOPED_AGENT_ID})"


def configuration_keyed_policy_sql(table, column="configuration_id"):
    """Statements that let the rows of `table`, whose rows each belong to a WhatsApp configuration
    (a business number, shared by its user's agents), be read and written only in the scope of an
    agent of that user, or in the unrestricted one. The policy is named `<table>_configuration`."""
    allowed = (
        f"{_SCOPE} = '{ALL}' OR {column} IN (SELECT c.id FROM whatsapp_configuration c "
        f"WHERE c.user_id = {SCOPED_AGENT_USER})"
    )
    return _policy_sql(table, f"{table}_configuration", allowed)


def configuration_row_security(table, column="configuration_id"):
    """A migration operation that puts `configuration_keyed_policy_sql(table, column)` on PostgreSQL."""
    return _row_security_operation(table, configuration_keyed_policy_sql(table, column))


CORE_POLICIES_SQL = [
    # agents: while working as an agent, only that agent's row.
    "ALTER TABLE agents ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE agents FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS agents_scope ON agents",
    f"CREATE POLICY agents_scope ON agents USING (NOT {AGENT_SCOPE} OR id = {SCOPED_AGENT_ID})",
    # whatsapp_configuration: while working as an agent, only its user's configuration.
    "ALTER TABLE whatsapp_configuration ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE whatsapp_configuration FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS whatsapp_configuration_scope ON whatsapp_configuration",
    f"CREATE POLICY whatsapp_configuration_scope ON whatsapp_configuration "
    f"USING (NOT {AGENT_SCOPE} OR user_id = {SCOPED_AGENT_USER})",
    # users: anyone may be read (logins, names beside messages); while working as an agent, only its
    # own user may be changed.
    "ALTER TABLE users ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE users FORCE ROW LEVEL SECURITY",
    "DROP POLICY IF EXISTS users_read ON users",
    "DROP POLICY IF EXISTS users_change ON users",
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
