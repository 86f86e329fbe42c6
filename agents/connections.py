"""Closing a database connection once it has served many agents, at the end of a request or task.

A PostgreSQL backend keeps the catalog entries of every table it has touched (about 100 MB per 1,000
agents served, `make bench` measures it) for as long as it lives. So each connection counts the
distinct agents it has served since it opened, and one that has reached AGENT_CONNECTION_MAX_AGENTS
is closed when the request or task ends: the next one starts with an empty cache. CONN_MAX_AGE
bounds its age as usual.
"""

from django.conf import settings
from django.db import connections

_TOUCHED = "agents_touched"
_EVERY_AGENT = "every agent"


def note_agent_touched(database, agent_id):
    """Record that the current thread's connection to `database` serves `agent_id`."""
    wrapper = connections[database]
    touched = wrapper.__dict__.get(_TOUCHED)
    if touched is None:
        touched = wrapper.__dict__[_TOUCHED] = set()
    touched.add(agent_id)


def note_every_agent_touched(database):
    """Record that the current thread's connection to `database` has touched every agent's tables.

    Deleting a row of `agents` makes PostgreSQL run the foreign-key check of every agent's customers
    table on that database: its backend now caches them all, so it is recycled when the request ends.
    """
    note_agent_touched(database, _EVERY_AGENT)


def agents_touched(database):
    """How many distinct agents the current thread's connection to `database` has served."""
    return len(connections[database].__dict__.get(_TOUCHED, ()))


def forget_agents_touched(sender, connection, **kwargs):
    """connection_created receiver: a new connection starts with an empty catalog cache."""
    connection.__dict__.pop(_TOUCHED, None)


def recycle_connections_that_served_many_agents(**kwargs):
    """request_finished / task_finished receiver: close connections past the agent limit."""
    limit = settings.AGENT_CONNECTION_MAX_AGENTS
    for wrapper in connections.all(initialized_only=True):
        touched = wrapper.__dict__.get(_TOUCHED)
        if touched is None or (len(touched) < limit and _EVERY_AGENT not in touched) or wrapper.in_atomic_block:
            continue
        wrapper.close()
        touched.clear()
