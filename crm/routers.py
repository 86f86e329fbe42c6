"""Where agents' tables live: the shard map, the placement of new agents, and the router.

The single place that knows. The core tables (users, agents, configurations, sessions, tasks) live
on `default`; each agent's four tables live on the database its `agents.database` names, one of
settings.AGENT_DATABASES. Everything else reaches an agent's data through `tables.for_agent(agent)`,
whose classes carry that alias and are routed here.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count

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


def agent_counts():
    """{alias: number of agents whose tables it holds}, for every database in the shard map."""
    from agents.models import Agent

    counts = dict(Agent.objects.values_list("database").annotate(Count("id")).order_by())
    return {alias: counts.get(alias, 0) for alias in agent_databases()}


def database_for_new_agent(requested=None):
    """The database for a new agent's tables: `requested` if given, else the least-loaded open one.

    Load is the number of agents a database holds; ties go to the database listed first in
    NEW_AGENT_DATABASES.
    """
    if requested:
        return check_agent_database(requested)
    candidates = settings.NEW_AGENT_DATABASES
    if len(candidates) == 1:
        return check_agent_database(candidates[0])
    from agents.models import Agent

    load = dict(Agent.objects.filter(database__in=candidates).values_list("database").annotate(Count("id")).order_by())
    return check_agent_database(min(candidates, key=lambda alias: load.get(alias, 0)))


class AgentTablesRouter:
    """Sends each generated agent class to its agent's database (`agent_database` on the class).

    Core models go to `default`; `migrate` runs only there and never creates agent tables, which
    provisioning owns.
    """

    def db_for_read(self, model, **hints):
        return getattr(model, "agent_database", None)

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
