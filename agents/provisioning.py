"""Creating an agent with its four tables, upgrading those tables, and dropping them.

An agent row never exists without its tables, nor tables without a row: both are written in one
transaction. Table names come only from a validated `agt_<id>` prefix.
"""

import uuid
from contextlib import contextmanager

from django.db import connections, models, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor

import audit

from . import tables
from .models import Agent


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


def _item_total_default_sql(connection, prefix):
    """SQL that gives orders_items.total the contract's default, quantity x price.

    A column default cannot refer to other columns, and a generated column would refuse the
    explicit totals the contract's own INSERT writes, so a trigger fills a missing total.
    """
    items = f"{prefix}_orders_items"
    if connection.vendor == "postgresql":
        return [
            f"""CREATE FUNCTION {items}_total() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN NEW.total := NEW.quantity * NEW.price; RETURN NEW; END $$""",
            f"""CREATE TRIGGER {items}_total BEFORE INSERT OR UPDATE ON {items}
                FOR EACH ROW WHEN (NEW.total IS NULL) EXECUTE FUNCTION {items}_total()""",
        ]
    return [
        f"""CREATE TRIGGER {items}_total AFTER INSERT ON {items} FOR EACH ROW WHEN NEW.total IS NULL
            BEGIN UPDATE {items} SET total = NEW.quantity * NEW.price WHERE id = NEW.id; END""",
        f"""CREATE TRIGGER {items}_total_update AFTER UPDATE ON {items} FOR EACH ROW WHEN NEW.total IS NULL
            BEGIN UPDATE {items} SET total = NEW.quantity * NEW.price WHERE id = NEW.id; END""",
    ]


def _agent_foreign_key_sql(connection, agent):
    """customers.agent_id REFERENCES agents(id), where the database can say so.

    Only PostgreSQL can add a constraint to an existing table, and only when the agent's tables
    share a database with the `agents` table.
    """
    if connection.vendor != "postgresql" or agent.database != "default":
        return []
    customers = f"{agent.agent_prefix}_customers"
    return [
        f"ALTER TABLE {customers} ADD CONSTRAINT {customers}_agent_id_fk "
        f"FOREIGN KEY (agent_id) REFERENCES agents (id)"
    ]


def _ensure_extensions(connection):
    """PostgreSQL extensions the agent tables' indexes use (pg_trgm, for message search).

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


def provision_agent_tables(agent, version=None):
    """Create the agent's four tables (at the current version unless told otherwise)."""
    tables.validate_prefix(agent.agent_prefix)
    version = tables.CURRENT_VERSION if version is None else version
    connection = connections[agent.database]
    twin = tables.build(agent.id, agent.agent_prefix, database=agent.database, version=version, managed=True)
    with transaction.atomic(using=agent.database), _schema_editor(connection) as editor:
        _ensure_extensions(connection)
        for model in twin.models:
            editor.create_model(model)
        editor.deferred_sql.extend(_agent_foreign_key_sql(connection, agent))
        editor.deferred_sql.extend(_item_total_default_sql(connection, agent.agent_prefix))
    agent.table_version = version


def create_agent(*, created_by, user=None, name="", database="default", request=None):
    """Create an agent and its tables together: on any failure neither exists. Audited as by `created_by`."""
    with transaction.atomic():
        # The prefix embeds the id, which only the insert gives: a unique placeholder first.
        agent = Agent.objects.create(
            agent_prefix=f"pending_{uuid.uuid4().hex[:20]}",
            user=user,
            created_by=created_by,
            name=name,
            database=database,
        )
        agent.agent_prefix = f"agt_{agent.pk}"
        provision_agent_tables(agent)
        agent.save(update_fields=["agent_prefix", "table_version"])
        audit.record(
            "agent.created", actor=created_by, target=agent, request=request,
            user=user.email if user else None, name=name,
        )
    return agent


def drop_agent_tables(agent):
    """Drop the agent's tables (and their trigger function); the caller owns the transaction."""
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
    tables.cache.discard(agent.id)


def delete_agent(agent, *, actor=None, request=None):
    """Delete an agent; its tables go with it (see drop_tables_of_deleted_agent). Audited with the
    rows that were dropped."""
    with transaction.atomic():
        audit.record(
            "agent.deleted", actor=actor, target=agent, request=request,
            user=agent.user.email if agent.user else None, rows_dropped=row_counts(agent),
        )
        agent.delete()


def drop_tables_of_deleted_agent(sender, instance, **kwargs):
    """pre_delete receiver: however an agent row is deleted, its tables go first, in the same transaction."""
    drop_agent_tables(instance)


def _add_column(editor, model, field):
    if editor.connection.vendor == "sqlite":
        # Django's SQLite editor rebuilds the whole table for a column with a default (and a rebuild
        # drops the old table, firing ON DELETE CASCADE); SQLite itself adds such a column in place.
        BaseDatabaseSchemaEditor.add_field(editor, model, field)
    else:
        editor.add_field(model, field)


def upgrade_agent_tables(agent):
    """Bring the agent's tables to the current version, one version per transaction.

    Returns the versions applied (empty when already current). Safe to run concurrently: the
    agent row is locked while a version is applied, and re-read before each step.
    """
    applied = []
    prefix = tables.validate_prefix(agent.agent_prefix)
    connection = connections[agent.database]
    while True:
        with transaction.atomic(), transaction.atomic(using=agent.database):
            current = Agent.objects.select_for_update().get(pk=agent.pk).table_version
            if current >= tables.CURRENT_VERSION:
                break
            version = current + 1
            twin = tables.build(agent.id, prefix, database=agent.database, version=version, managed=True)
            _ensure_extensions(connection)
            with _schema_editor(connection) as editor:
                changes = tables.version_changes(prefix, version, connection.vendor)
                for spec, change, field_names, extras in changes:
                    model = twin.classes[spec.model_name]
                    if change == "create":
                        editor.create_model(model)
                        continue
                    for name in field_names:
                        _add_column(editor, model, model._meta.get_field(name))
                    for extra in extras:
                        if isinstance(extra, models.Index):
                            editor.add_index(model, extra)
                        else:
                            editor.add_constraint(model, extra)
            Agent.objects.filter(pk=agent.pk).update(table_version=version)
            applied.append(version)
    agent.table_version = tables.CURRENT_VERSION
    tables.cache.discard(agent.id)
    return applied


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
