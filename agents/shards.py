"""How many agents each database of the shard map holds, and which database a new agent's tables go to."""

from django.conf import settings
from django.db.models import Count

from crm.routers import agent_databases, check_agent_database

from .models import Agent


def agent_counts():
    """{alias: number of agents whose tables it holds}, for every database in the shard map."""
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
    load = dict(Agent.objects.filter(database__in=candidates).values_list("database").annotate(Count("id")).order_by())
    return check_agent_database(min(candidates, key=lambda alias: load.get(alias, 0)))
