"""Where agents' tables live: the shard map and the router (agents.shards places new agents).

The single place that knows. The core tables (users, agents, configurations, sessions, tasks) live
on `default`; each agent's four tables live on the database its `agents.database` names, one of
settings.AGENT_DATABASES. Everything else reaches an agent's data through `tables.for_agent(agent)`,
whose classes carry that alias and are routed here.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import replicas

CORE_DATABASE = "default"
AGENT_TABLES_APP_LABEL = "agent_tables"


class UnknownAgentDatabase(ImproperlyConfigured):
    pass


def agent_databases():
    """Every database alias that may hold agents' tables, `default` first."""
    return list(settings.AGENT_DATABASES)


def check_agent_database(alias):
    """Return `alias` if it is in the shard map; raise UnknownAgentDatabase otherwise."""
    if alias not in settings.AGENT_DATABASES or alias not in settings.DATABASES:
        raise UnknownAgentDatabase(
            f"database {alias!r} is not in the shard map (AGENT_DATABASES: {', '.join(settings.AGENT_DATABASES)})"
        )
    return alias


def holds_core_tables(alias):
    """Whether tables on `alias` can have foreign keys to the core tables (agents, users)."""
    return alias == CORE_DATABASE


class AgentTablesRouter:
    """Sends each generated agent class to its agent's database (`agent_database` on the class).

    Reads inside `crm.replicas.reads_from_replica` may go to the database's replica. Core models go to
    `default`; `migrate` runs only there and never creates agent tables, which
    provisioning owns.
    """

    def db_for_read(self, model, **hints):
        database = getattr(model, "agent_database", None)
        return database and replicas.database_for_read(database)

    def db_for_write(self, model, **hints):
        return getattr(model, "agent_database", None)

    def allow_relation(self, obj1, obj2, **hints):
        first, second = getattr(obj1, "agent_id_value", None), getattr(obj2, "agent_id_value", None)
        if first is None and second is None:
            return None
        return first == second

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == AGENT_TABLES_APP_LABEL:
            return False
        if db != CORE_DATABASE:
            return False
        return None
