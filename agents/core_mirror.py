"""The contract's core tables on every shard: `users`, `agents` and `whatsapp_configuration`, shaped as
database/schema/core_tables.sql, holding the rows of the agents whose tables live there (and their users).

So an agent's customers table has its foreign key to `agents` on whatever database it lives, as the
contract says, and a SQL client of a shard finds the contract whole. `agents` on `default` stays the
truth; provisioning and moving keep each shard's copy of an agent's row (agents/provisioning.py).
"""

from django.apps import apps
from django.apps.registry import Apps
from django.db import models
from django.db.models.expressions import DatabaseDefault

from accounts.models import User
from crm import rls

# The core tables as the contract has them, and for agents the columns create_agent() fills beside
# the contract's (the app's name, table version and database of an agent): adopt_database adds the rest.
# (Models are named by table: whatsapp_configuration's is the whatsapp app's, which agents does not import.)
CORE_TABLES = (
    ("users", ("id", "name", "email", "role", "created_at")),
    ("agents", ("id", "agent_prefix", "user", "created_by", "created_at", "name", "table_version", "database")),
    (
        "whatsapp_configuration",
        (
            "id",
            "user",
            "whatsapp_number",
            "webhook_url",
            "api_key",
            "business_account_id",
            "phone_number_id",
            "is_active",
            "created_at",
            "updated_at",
        ),
    ),
)


def ensure_core_tables(connection):
    """Create the core tables (with the core row security) on a shard's `connection` if they are missing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('agents') IS NOT NULL")
        if cursor.fetchone()[0]:
            return
        for statement in core_tables_statements(connection) + rls.CORE_POLICIES_SQL:
            cursor.execute(statement)


def copy_agent_row(connection, agent):
    """Put `agent`'s row (and its users') into a shard's core tables, as they are on `default`."""
    ensure_core_tables(connection)
    users = User.objects.filter(pk__in=[pk for pk in (agent.user_id, agent.created_by_id) if pk is not None])
    with connection.cursor() as cursor:
        for user in users:
            # An address another user had here before (since changed on `default`) is theirs no longer.
            cursor.execute(
                "UPDATE users SET email = 'superseded-' || id || '@invalid' WHERE email = %s AND id <> %s",
                [user.email, user.pk],
            )
            cursor.execute(
                "INSERT INTO users (id, name, email, role, created_at) VALUES (%s, %s, %s, %s, COALESCE(%s, now())) "
                "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, email = EXCLUDED.email, role = EXCLUDED.role",
                [user.pk, user.name, user.email, user.role, _value(user.created_at)],
            )
        cursor.execute(
            "INSERT INTO agents (id, agent_prefix, user_id, created_by, created_at, name, table_version, database) "
            "VALUES (%s, %s, %s, %s, COALESCE(%s, now()), %s, %s, %s) ON CONFLICT (id) DO UPDATE SET user_id = EXCLUDED.user_id, "
            "name = EXCLUDED.name, table_version = EXCLUDED.table_version, database = EXCLUDED.database",
            [
                agent.pk,
                agent.agent_prefix,
                agent.user_id,
                agent.created_by_id,
                _value(agent.created_at),
                agent.name,
                agent.table_version,
                connection.alias,
            ],
        )


def _value(value):
    """None for a value the database has not given back yet (a db_default after an insert)."""
    return None if isinstance(value, DatabaseDefault) else value


def forget_agent_row(connection, agent):
    """Take `agent`'s row out of a shard's core tables (its tables there are gone)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('agents') IS NOT NULL")
        if cursor.fetchone()[0]:
            cursor.execute("DELETE FROM agents WHERE id = %s", [agent.pk])


def core_tables_statements(connection):
    """The statements that create the contract's core tables (users, agents, whatsapp_configuration) as the
    app has them, on `connection`: core_tables.sql, and the copy every shard keeps (agents/core_mirror.py)."""
    editor = connection.schema_editor(collect_sql=True, atomic=False)
    editor.deferred_sql = []
    for model in _core_twins():
        editor.create_model(model)
    statements = [sql.rstrip().removesuffix(";") for sql in editor.collected_sql]
    return statements + [str(sql) for sql in editor.deferred_sql]


def _core_twins():
    """Models of the core tables with CORE_TABLES' columns only (and the constraints on them), in a private
    registry: the schema editor writes for them what `migrate` writes for those columns."""
    registry = Apps()
    twins = {}
    by_table = {model._meta.db_table: model for model in apps.get_models()}
    for table, field_names in CORE_TABLES:
        model = by_table[table]
        attrs = {"__module__": __name__}
        for name in field_names:
            field = model._meta.get_field(name)
            _, _, args, kwargs = field.deconstruct()
            if field.is_relation:
                kwargs["to"] = twins[field.related_model]
            attrs[name] = type(field)(*args, **kwargs)
        kept = set(field_names)
        meta = {
            "apps": registry,
            "app_label": "schema_sql",
            "db_table": model._meta.db_table,
            "constraints": [c.clone() for c in model._meta.constraints if _fields_of(c) <= kept],
            "indexes": [i.clone() for i in model._meta.indexes if _fields_of(i) <= kept],
        }
        attrs["Meta"] = type("Meta", (), meta)
        twins[model] = type(model.__name__, (models.Model,), attrs)
    return list(twins.values())


def _fields_of(extra):
    """The field names a constraint or index refers to."""
    fields = {name.removeprefix("-") for name in getattr(extra, "fields", ())}
    if getattr(extra, "condition", None) is not None:
        fields |= extra.condition.referenced_base_fields
    return fields
