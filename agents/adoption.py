"""Taking over a PostgreSQL database that was built outside this app from the data contract.

The contract's core tables (users, agents, whatsapp_configuration) are recognised, not re-created:
the app's columns are added beside the contract's, and `migrate --fake-initial` records the initial
migrations as applied while it creates Django's own tables. Every existing agent's tables are then
brought to the contract's exact version 1 (indexes and checks it lacks) and upgraded to the current
version like any other agent's. Agents that `SELECT create_agent(...)` made (database/schema/) already
carry their version: the first adoption upgrades them if need be and counts the conversations a SQL
client wrote into them. Native enum columns (role, media_type, order_status) and varchar ones both
work as they are. Data is kept; running it again changes nothing.
"""

import copy

from django.apps import apps
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.utils import DatabaseError

from accounts.models import User

from . import conversations, provisioning, tables
from .fields import UTCDateTimeField
from .models import Agent
from .signals import core_tables_adopted

# The contract's core tables; their models come from the apps that own them (accounts, agents, whatsapp).
CORE_TABLES = ("users", "agents", "whatsapp_configuration")


class AdoptionError(Exception):
    pass


def adopt_database(report=print):
    """Take over the `default` database; returns the number of agents whose tables it could not adopt."""
    if connection.vendor != "postgresql":
        raise AdoptionError("adoption works on PostgreSQL databases only")
    with connection.cursor() as cursor:
        existing = set(connection.introspection.table_names(cursor))
    missing = [table for table in CORE_TABLES if table not in existing]
    if missing:
        raise AdoptionError(f"this is not a contract database: table(s) {', '.join(missing)} missing")
    first_adoption = "django_migrations" not in existing

    with transaction.atomic():
        for model in _core_models():
            for column in _add_app_columns(model):
                report(f"{model._meta.db_table}: added column {column}")
        _prepare_users(report)
        # The apps that own a core table put its rows in their own shape (whatsapp encrypts the tokens).
        core_tables_adopted.send(sender=Agent, report=report)
    call_command("migrate", fake_initial=True, interactive=False, verbosity=0)
    report("core tables recognised; Django's own tables created (migrate --fake-initial)")
    return _adopt_agents(report, first_adoption)


def _core_models():
    by_table = {model._meta.db_table: model for model in apps.get_models()}
    return [by_table[table] for table in CORE_TABLES]


def _columns(table):
    with connection.cursor() as cursor:
        return {column.name for column in connection.introspection.get_table_description(cursor, table)}


def _constraint_names(table):
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


def _add_app_columns(model):
    """Add the model's columns (and constraints) that the contract's table lacks; return their names."""
    table = model._meta.db_table
    columns = _columns(table)
    added = []
    with connection.schema_editor(atomic=False) as editor:
        for field in model._meta.local_concrete_fields:
            if field.column not in columns:
                editor.add_field(model, _with_default_for_existing_rows(field))
                added.append(field.column)
        names = _constraint_names(table)
        for constraint in model._meta.constraints:
            if constraint.name not in names:
                editor.add_constraint(model, constraint)
    return added


def _with_default_for_existing_rows(field):
    """The field, or a copy with "" as default when it is NOT NULL text without one (users.password):
    the rows already there need a value; _prepare_users then gives them a real one."""
    if field.null or field.has_default() or field.has_db_default():
        return field
    if not field.empty_strings_allowed:
        raise AdoptionError(f"cannot add {field.model._meta.db_table}.{field.column} to existing rows: no default")
    field = copy.copy(field)
    field.default = ""
    return field


def _prepare_users(report):
    """Lower-case emails (logins compare lower-cased) and give password-less users an unusable one."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(email) FROM users GROUP BY lower(email) HAVING count(*) > 1")
        clashes = [email for (email,) in cursor.fetchall()]
        if clashes:
            raise AdoptionError(f"users whose emails differ only in case: {', '.join(clashes)}; merge them first")
        cursor.execute("UPDATE users SET email = lower(email) WHERE email <> lower(email)")
    waiting = User.objects.filter(password="")
    count = 0
    for user in waiting.iterator():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        count += 1
    if count:
        report(f"users: {count} without a password yet (set one with `manage.py changepassword EMAIL`)")


def _adopt_agents(report, first_adoption):
    agents = Agent.objects.order_by("id")
    if not first_adoption:
        agents = agents.filter(table_version=0)
    problems = 0
    for agent in agents:
        try:
            outcome = _adopt_agent(agent) if agent.table_version == 0 else _adopt_sql_made_agent(agent)
        except (AdoptionError, tables.InvalidAgentPrefix, DatabaseError) as error:
            problems += 1
            report(f"{agent.agent_prefix}: NOT adopted: {error}")
        else:
            report(f"{agent.agent_prefix}: {outcome}")
    return problems


def _adopt_agent(agent):
    prefix = tables.validate_prefix(agent.agent_prefix)
    found = provisioning.existing_tables([agent])[agent.id]
    contract_tables = set(tables.table_names(prefix, version=1))
    if not found:
        # An agent row without tables: give it what every agent has.
        with transaction.atomic():
            provisioning.provision_agent_tables(agent)
            agent.save(update_fields=["table_version"])
        return f"had no tables: created them at version {tables.CURRENT_VERSION}"
    if not contract_tables <= found:
        raise AdoptionError(f"only some of its tables exist ({', '.join(sorted(found))})")
    with transaction.atomic():
        _bring_to_version_one(agent)
        Agent.objects.filter(pk=agent.pk).update(table_version=1)
    applied = provisioning.upgrade_agent_tables(agent)
    _count_conversations(agent)
    return f"tables adopted at version 1, upgraded to {tables.CURRENT_VERSION} (applied {applied or 'nothing'})"


def _adopt_sql_made_agent(agent):
    """An agent made by create_agent() in SQL before the app ever ran here: its tables are those of its
    version, but rows written by SQL since then left the customers' inbox fields unfilled."""
    made_at = agent.table_version
    applied = provisioning.upgrade_agent_tables(agent)
    _count_conversations(agent)
    return f"made by create_agent() in SQL at version {made_at} (applied {applied or 'nothing'}); conversations counted"


def _bring_to_version_one(agent):
    """Give contract-built tables what version 1 has beside the contract's columns: keys, indexes,
    checks, UTC defaults, the order item total trigger."""
    prefix = agent.agent_prefix
    twin = tables.build(agent.id, prefix, version=1, managed=True)
    with connection.schema_editor(atomic=False) as editor:
        for spec in tables.TABLES:
            if spec.since > 1:
                continue
            model = twin.classes[spec.model_name]
            table = model._meta.db_table
            lacking = [
                field.column for field in model._meta.local_concrete_fields if field.column not in _columns(table)
            ]
            if lacking:
                raise AdoptionError(f"{table} lacks the contract's column(s) {', '.join(lacking)}")
            with connection.cursor() as cursor:
                constraints = connection.introspection.get_constraints(cursor, table)
            for extra in model._meta.indexes + model._meta.constraints:
                if extra.name not in constraints:
                    if isinstance(extra, models.Index):
                        editor.add_index(model, extra)
                    else:
                        editor.add_constraint(model, extra)
            for field in model._meta.local_concrete_fields:
                _ensure_field_index(editor, model, field, constraints)
                if isinstance(field, UTCDateTimeField) and field.has_db_default():
                    editor.execute(
                        f"ALTER TABLE {table} ALTER COLUMN {editor.quote_name(field.column)} "
                        "SET DEFAULT (CURRENT_TIMESTAMP AT TIME ZONE 'UTC')"
                    )
        for sql in provisioning.item_total_default_sql(connection, prefix):
            editor.execute(sql)


def _count_conversations(agent):
    """Fill each customer's inbox fields (last_message_at, unread_count, awaiting_reply_since) from the
    messages already there, as agents/conversations.py keeps them for every message stored from now on."""
    prefix = agent.agent_prefix
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {prefix}_customers AS c SET last_message_at = m.newest, unread_count = m.unread "
            f"FROM (SELECT customer_id, max(timestamp) AS newest, count(*) FILTER "
            f"(WHERE direction = 'inbound' AND NOT coalesce(is_read, false)) AS unread "
            f"FROM {prefix}_messages GROUP BY customer_id) AS m WHERE m.customer_id = c.id"
        )
    conversations.refresh_all_reply_states(tables.for_agent(agent))


def _ensure_field_index(editor, model, field, constraints):
    """The unique constraint or index a version-1 field declares, unless the table has one already."""
    covering = [info for info in constraints.values() if (info["columns"] or [None])[0] == field.column]
    if field.unique and not field.primary_key and not any(info["unique"] for info in covering):
        editor.add_constraint(
            model, models.UniqueConstraint(fields=[field.name], name=f"{model._meta.db_table}_{field.column}_key")
        )
    elif field.is_relation and field.db_index and not covering:
        editor.add_index(model, models.Index(fields=[field.name], name=f"{model._meta.db_table}_{field.column}_idx"))
