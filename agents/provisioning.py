"""Creating an agent with its four tables, upgrading those tables, and dropping them.

An agent row never exists without its tables, nor tables without a row. When the tables live on
`default` beside the row, one transaction writes both. When they live on another database (a
shard) no transaction spans the two: the tables are created and committed first, from inside the
still-open transaction that inserts the row, and dropped again if that transaction then fails; only
a crash in the instant between the two commits can leave tables without a row, and no later agent
can take their name (ids come from a sequence): `check_agent_tables --drop-orphans` removes them.
Deleting works the other way round: the row goes first, the shard's tables right after its commit.
Table names come only from a validated `agt_<id>` prefix.
"""

import logging
import re
import uuid
from contextlib import contextmanager

from django.db import connections, models, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

import audit
from crm import rls, routers

from . import connections as agent_connections
from . import conversations, core_mirror, shards, tables
from .models import Agent, AgentMove

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(PROVISIONING_LOCK, agent id) is held while an agent row is being created
# and while an orphan table set is judged, so that the sweep never takes an agent being born.
PROVISIONING_LOCK = 0x61677400  # "agt\0"


@contextmanager
def _schema_editor(connection):
    """A schema editor that runs inside the caller's transaction.

    Entering Django's editor on SQLite toggles foreign-key enforcement, which SQLite forbids inside
    a transaction; agent-table DDL only creates tables, adds nullable columns and indexes, so it
    needs none of that.
    """
    editor = connection.schema_editor(atomic=False)
    editor.deferred_sql = []
    yield editor
    for sql in editor.deferred_sql:
        editor.execute(sql)
    editor.deferred_sql = []


def item_total_default_sql(connection, prefix):
    """SQL that gives orders_items.total the contract's default, quantity x price.

    A column default cannot refer to other columns, and a generated column would refuse the
    explicit totals the contract's own INSERT writes, so a trigger fills a missing total.
    """
    items = f"{prefix}_orders_items"
    if connection.vendor == "postgresql":
        return [
            f"""CREATE OR REPLACE FUNCTION {items}_total() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN NEW.total := NEW.quantity * NEW.price; RETURN NEW; END $$""",
            f"""CREATE OR REPLACE TRIGGER {items}_total BEFORE INSERT OR UPDATE ON {items}
                FOR EACH ROW WHEN (NEW.total IS NULL) EXECUTE FUNCTION {items}_total()""",
        ]
    return [
        f"""CREATE TRIGGER {items}_total AFTER INSERT ON {items} FOR EACH ROW WHEN NEW.total IS NULL
            BEGIN UPDATE {items} SET total = NEW.quantity * NEW.price WHERE id = NEW.id; END""",
        f"""CREATE TRIGGER {items}_total_update AFTER UPDATE ON {items} FOR EACH ROW WHEN NEW.total IS NULL
            BEGIN UPDATE {items} SET total = NEW.quantity * NEW.price WHERE id = NEW.id; END""",
    ]


def _agent_integrity_sql(connection, agent):
    """Tie customers.agent_id to the agent.

    On the database that holds `agents`, the contract's FOREIGN KEY (PostgreSQL only: SQLite cannot
    add one to an existing table). A foreign key cannot cross databases, so on a shard a CHECK pins
    every row to this agent instead, and the agent row and the tables are created and dropped
    together (this module's docstring says how).
    """
    if connection.vendor != "postgresql":
        return []
    customers = f"{agent.agent_prefix}_customers"
    if routers.holds_core_tables(agent.database):
        return [
            f"ALTER TABLE {customers} ADD CONSTRAINT {customers}_agent_id_fk "
            f"FOREIGN KEY (agent_id) REFERENCES agents (id)"
        ]
    # The shard's copy of the core tables (agents/core_mirror.py) holds the agent's row: the contract's key.
    return [
        f"ALTER TABLE {customers} ADD CONSTRAINT {customers}_agent_id_check CHECK (agent_id = {int(agent.id)})",
        f"ALTER TABLE {customers} ADD CONSTRAINT {customers}_agent_id_fk FOREIGN KEY (agent_id) REFERENCES agents (id)",
    ]


def _ensure_extensions(connection):
    """PostgreSQL extensions the agent tables' indexes use (pg_trgm, for message search), and the function
    their policies ask for the row scope, with the signing keys (crm/rls.py).

    A core migration installs them on the default database at deploy time; this covers any other
    database that holds agent tables. Checked first: CREATE EXTENSION needs a privilege the
    application's role may lack once the extension is there.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    rls.prepare_database(connection)


def row_security_sql(connection, agent, table_names):
    """The policies that keep `table_names` (agent tables) to their agent's scope (crm/rls.py)."""
    if connection.vendor != "postgresql":
        return []
    return [sql for table in table_names for sql in rls.agent_table_policy_sql(table, agent.id)]


def create_tables_sql(agent, version=None, editor=None):
    """The statements that create the agent's tables (current version unless told) on its database.

    Provisioning runs them in one transaction; a bulk loader (bench/) may run many agents' at once.
    `editor`, a collecting schema editor of that database, is for agents/schema_sql.py, which turns
    these statements into the SQL function that creates an agent's tables.
    """
    tables.validate_prefix(agent.agent_prefix)
    version = tables.CURRENT_VERSION if version is None else version
    connection = connections[agent.database]
    twin = tables.build(agent.id, agent.agent_prefix, database=agent.database, version=version, managed=True)
    editor = editor or connection.schema_editor(collect_sql=True, atomic=False)
    editor.deferred_sql = []
    for model in twin.models:
        editor.create_model(model)
    statements = [sql.rstrip().removesuffix(";") for sql in editor.collected_sql]
    statements += [str(sql) for sql in editor.deferred_sql]
    statements += _agent_integrity_sql(connection, agent)
    statements += item_total_default_sql(connection, agent.agent_prefix)
    if version >= tables.ROW_SECURITY_VERSION:
        statements += row_security_sql(connection, agent, tables.table_names(agent.agent_prefix, version))
    return statements


def run_statements(connection, statements):
    """Run DDL statements on `connection`: in one round trip on PostgreSQL, one by one on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(";\n".join(statements))
        else:
            for sql in statements:
                cursor.execute(sql)


def provision_agent_tables(agent, version=None):
    """Create the agent's four tables on its database (at the current version unless told otherwise)."""
    statements = create_tables_sql(agent, version)
    connection = connections[agent.database]
    with transaction.atomic(using=agent.database):
        _ensure_extensions(connection)
        if connection.vendor == "postgresql" and not routers.holds_core_tables(agent.database):
            core_mirror.copy_agent_row(connection, agent)
        run_statements(connection, statements)
    agent_connections.note_agent_touched(agent.database, agent.id)
    agent.table_version = tables.CURRENT_VERSION if version is None else version


def _lock_agent_id(agent_id):
    """Hold the provisioning lock of `agent_id` until the core database's transaction ends."""
    connection = connections[routers.CORE_DATABASE]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [PROVISIONING_LOCK, agent_id % 2**31])


def create_agent(*, created_by, user=None, name="", database=None, request=None):
    """Create an agent and its tables together: on any failure neither exists. Audited as by `created_by`.

    `database` chooses where its tables live; by default the least-loaded of NEW_AGENT_DATABASES.
    """
    database = shards.database_for_new_agent(database)
    # Tables on another database commit on their own, before the row does (unless the caller holds
    # a transaction there): then a failure of the row's transaction must drop them again.
    separate_commit = database != routers.CORE_DATABASE and not connections[database].in_atomic_block
    agent, tables_committed = None, False
    try:
        with transaction.atomic(using=routers.CORE_DATABASE):
            agent = _insert_agent_row(
                user=user, created_by=created_by, name=name, database=database, table_version=tables.CURRENT_VERSION
            )
            if separate_commit:
                _lock_agent_id(agent.pk)
            provision_agent_tables(agent)
            tables_committed = separate_commit
            audit.record(
                "agent.created",
                actor=created_by,
                target=agent,
                request=request,
                user=user.email if user else None,
                name=name,
            )
    except BaseException:
        if tables_committed:
            _drop_tables_after_failure(agent)
        raise
    return agent


def _insert_agent_row(**fields):
    """Insert the agent row, with its final prefix, before any DDL.

    The prefix embeds the id: on PostgreSQL the id is drawn from the sequence first, so the row is
    written once (each write to `agents` walks the trigger pair every agent's foreign key adds to it,
    and the DDL that follows invalidates its cached description). Elsewhere, or when the sequence
    cannot be found, a unique placeholder is replaced once the insert has given the id.
    """
    connection = connections[routers.CORE_DATABASE]
    agent_id = None
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval(pg_get_serial_sequence('agents', 'id'))")
            agent_id = cursor.fetchone()[0]
    if agent_id is not None:
        return Agent.objects.create(id=agent_id, agent_prefix=f"agt_{agent_id}", **fields)
    agent = Agent.objects.create(agent_prefix=f"pending_{uuid.uuid4().hex[:20]}", **fields)
    agent.agent_prefix = f"agt_{agent.pk}"
    agent.save(update_fields=["agent_prefix"])
    return agent


def _drop_tables_after_failure(agent):
    try:
        drop_agent_tables(agent)
    except Exception:
        # The sweep (check_agent_tables --drop-orphans) finds them: no row will ever claim this id.
        logger.exception("could not drop the tables of %s after its creation failed", agent.agent_prefix)


def drop_agent_tables(agent):
    """Drop the agent's tables (and their trigger function) from its database."""
    prefix = tables.validate_prefix(agent.agent_prefix)
    connection = connections[agent.database]
    quote = connection.ops.quote_name
    with transaction.atomic(using=agent.database), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Deferred foreign-key checks pending on these tables would block DROP TABLE.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in reversed(tables.table_names(prefix)):
            cursor.execute(f"DROP TABLE IF EXISTS {quote(table)}")
        if connection.vendor == "postgresql":
            cursor.execute(f"DROP FUNCTION IF EXISTS {prefix}_orders_items_total()")
            if not routers.holds_core_tables(agent.database):
                core_mirror.forget_agent_row(connection, agent)
    tables.cache.discard(agent.id)


def delete_agent(agent, *, actor=None, request=None):
    """Delete an agent; its tables go with it (see drop_tables_of_deleted_agent). Audited with the
    rows that were dropped."""
    with transaction.atomic(using=routers.CORE_DATABASE):
        audit.record(
            "agent.deleted",
            actor=actor,
            target=agent,
            request=request,
            user=agent.user.email if agent.user else None,
            rows_dropped=row_counts(agent),
        )
        agent.delete()


def drop_tables_of_deleted_agent(sender, instance, using, **kwargs):
    """pre_delete receiver: however an agent row is deleted, its tables go too.

    Beside the row, in the same transaction. On a shard, once the row's deletion has committed: a
    drop that fails then leaves orphan tables for the sweep, never a row without tables.
    """
    agent_connections.note_every_agent_touched(using)
    if instance.database == using:
        drop_agent_tables(instance)
    else:
        transaction.on_commit(lambda: drop_agent_tables(instance), using=using, robust=True)


def _add_column(editor, model, field):
    if editor.connection.vendor == "sqlite":
        # Django's SQLite editor rebuilds the whole table for a column with a default (and a rebuild
        # drops the old table, firing ON DELETE CASCADE); SQLite itself adds such a column in place.
        BaseDatabaseSchemaEditor.add_field(editor, model, field)
    else:
        editor.add_field(model, field)


def _version_already_applied(connection, prefix, version):
    """Whether the tables already have everything `version` adds.

    It happens when a shard committed a step whose record on `default` then failed: the step is
    recorded again, not re-applied.
    """
    if version == tables.ROW_SECURITY_VERSION and connection.vendor == "postgresql":
        return _row_security_in_place(connection, tables.table_names(prefix, version))
    if version == tables.SIGNED_SCOPE_VERSION and connection.vendor == "postgresql":
        return _policies_check_signed_scope(connection, tables.table_names(prefix, version))
    introspection = connection.introspection
    with connection.cursor() as cursor:
        for spec, change, field_names, extras in tables.version_changes(prefix, version, connection.vendor):
            table = f"{prefix}_{spec.suffix}"
            if not _table_exists(connection, table):
                return False
            if change == "create":
                continue
            columns = {column.name for column in introspection.get_table_description(cursor, table)}
            names = set(introspection.get_constraints(cursor, table))
            if not set(field_names) <= columns or not {extra.name for extra in extras} <= names:
                return False
    return True


def _row_security_in_place(connection, table_names):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relname = ANY(%s) AND relrowsecurity AND relforcerowsecurity",
            [table_names],
        )
        return cursor.fetchone()[0] == len(table_names)


def _policies_check_signed_scope(connection, table_names):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_policy WHERE polrelid::regclass::text = ANY(%s) "
            "AND pg_get_expr(polqual, polrelid) LIKE '%%crm_row_scope()%%'",
            [table_names],
        )
        return cursor.fetchone()[0] == len(table_names)


def _table_exists(connection, table):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        else:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
        return bool(cursor.fetchone()[0])


def upgrade_agent_tables(agent):
    """Bring the agent's tables to the current version, one version per transaction.

    Returns the versions applied (empty when already current). Safe to run concurrently: the
    agent row is locked while a version is applied, and re-read before each step.
    """
    applied = []
    prefix = tables.validate_prefix(agent.agent_prefix)
    connection = connections[routers.check_agent_database(agent.database)]
    while True:
        with transaction.atomic(using=routers.CORE_DATABASE), transaction.atomic(using=agent.database):
            current = Agent.objects.select_for_update().get(pk=agent.pk).table_version
            if current >= tables.CURRENT_VERSION:
                break
            version = current + 1
            if not _version_already_applied(connection, prefix, version):
                _apply_version(connection, agent, version)
            Agent.objects.filter(pk=agent.pk).update(table_version=version)
            applied.append(version)
    agent_connections.note_agent_touched(agent.database, agent.id)
    agent.table_version = tables.CURRENT_VERSION
    tables.cache.discard(agent.id)
    return applied


def _apply_version(connection, agent, version):
    _ensure_extensions(connection)
    with _schema_editor(connection) as editor:
        version_steps(editor, agent, version)


def version_steps(editor, agent, version):
    """Bring the agent's tables from `version` - 1 to `version` through `editor` (agents/schema_sql.py
    passes a collecting one to write the same steps as SQL)."""
    connection = editor.connection
    twin = tables.build(agent.id, agent.agent_prefix, database=agent.database, version=version, managed=True)
    if version in (tables.ROW_SECURITY_VERSION, tables.SIGNED_SCOPE_VERSION):
        editor.deferred_sql.extend(row_security_sql(connection, agent, tables.table_names(agent.agent_prefix, version)))
    for spec, change, field_names, extras in tables.version_changes(agent.agent_prefix, version, connection.vendor):
        model = twin.classes[spec.model_name]
        if change == "create":
            editor.create_model(model)
            if version > tables.ROW_SECURITY_VERSION:
                editor.deferred_sql.extend(row_security_sql(connection, agent, [model._meta.db_table]))
            continue
        for name in field_names:
            _add_column(editor, model, model._meta.get_field(name))
        for extra in extras:
            if isinstance(extra, models.Index):
                editor.add_index(model, extra)
            else:
                editor.add_constraint(model, extra)
    if version == tables.REPLY_STATE_VERSION:
        # The new columns are filled from the messages already there, in the same step (and SQL file).
        editor.deferred_sql.append(conversations.all_reply_states_sql(twin))


def existing_tables(agents):
    """{agent id: set of its table names that exist}, in one catalog query per database."""
    found = {agent.id: set() for agent in agents}
    by_database = {}
    for agent in agents:
        by_database.setdefault(agent.database, []).append(agent)
    for database, group in by_database.items():
        wanted = {name: agent.id for agent in group for name in tables.table_names(agent.agent_prefix)}
        if not wanted:
            continue
        connection = connections[database]
        placeholders = ", ".join(["%s"] * len(wanted))
        if connection.vendor == "postgresql":
            sql = (
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
                f"AND relname IN ({placeholders})"
            )
        else:
            sql = f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({placeholders})"
        with connection.cursor() as cursor:
            cursor.execute(sql, list(wanted))
            for (name,) in cursor.fetchall():
                found[wanted[name]].add(name)
    return found


def row_counts(agent):
    """{table suffix: exact row count} for one agent, or {} when its tables are missing."""
    if len(existing_tables([agent])[agent.id]) < len(tables.TABLES):
        return {}
    agent_tables = tables.for_agent(agent)
    return {spec.suffix: agent_tables.classes[spec.model_name].objects.count() for spec in tables.TABLES}


AGENT_TABLE_NAME = re.compile(r"(agt_[0-9]+)_")


def orphan_prefixes(database):
    """Prefixes of agent tables on `database` that no agent living there claims, oldest first.

    Left by a crash between a shard's commit and the core database's (see the module docstring).
    Lists every table of the database: an operator's tool, not for a request.
    """
    connection = connections[database]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace = current_schema()::regnamespace "
                "AND relname ~ '^agt_[0-9]+_'"
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'agt_[0-9]*_*'")
        prefixes = {match.group(1) for (name,) in cursor.fetchall() if (match := AGENT_TABLE_NAME.match(name))}
    claimed = set(
        Agent.objects.filter(database=database, agent_prefix__in=prefixes).values_list("agent_prefix", flat=True)
    )
    # A move under way (agents.moving) owns its copy on the target until it switches.
    claimed |= set(
        AgentMove.objects.filter(
            target=database, finished_at__isnull=True, agent__agent_prefix__in=prefixes
        ).values_list("agent__agent_prefix", flat=True)
    )
    return sorted(prefixes - claimed, key=lambda prefix: int(prefix[4:]))


def drop_orphan_tables(database, prefix):
    """Drop an orphan's tables from `database`; return False (and drop nothing) if an agent claims them."""
    agent_id = int(tables.validate_prefix(prefix)[4:])
    with transaction.atomic(using=routers.CORE_DATABASE):
        # Waits for a creation of this very agent still in flight, then judges what it left.
        _lock_agent_id(agent_id)
        if Agent.objects.filter(agent_prefix=prefix, database=database).exists():
            return False
        if AgentMove.objects.filter(agent_id=agent_id, target=database, finished_at__isnull=True).exists():
            return False
        drop_agent_tables(Agent(id=agent_id, agent_prefix=prefix, database=database))
    return True
