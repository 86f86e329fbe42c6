"""/healthz (the process answers) and /readyz (every configured database answers; each read replica's
state is reported, but a replica down or behind only sends reads to its primary), for probes.

Answered first in the middleware chain, before host validation, sessions and authentication: a
load balancer's probe sends whatever Host header it likes and carries no cookie.
"""

import logging

from django.conf import settings
from django.db import connections
from django.http import JsonResponse

from crm import rls

from . import replicas

logger = logging.getLogger(__name__)


def database_status(alias):
    """ "ok", or why the database `alias` cannot be used right now (without host names or secrets)."""
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            refused = _row_scope_refused(connection, cursor)
    except Exception as error:
        logger.warning("readiness: database %s is unreachable: %s", alias, error)
        connection.close()  # a broken connection is not reused by the next request
        return f"unreachable ({type(error).__name__})"
    if refused:
        logger.error("readiness: database %s refuses this process's row scope: run migrate", alias)
        return "refuses the row scope (its keys do not follow SECRET_KEY: run migrate)"
    return "ok"


def _row_scope_refused(connection, cursor):
    """Whether the database would show this process no agent's rows: it holds crm_row_scope() but not the
    key this process signs with (SECRET_KEY changed without `migrate`, crm/rls.py)."""
    if connection.vendor != "postgresql":
        return False
    cursor.execute("SELECT to_regprocedure('crm_row_scope()') IS NOT NULL")
    if not cursor.fetchone()[0]:
        return False  # no agent's tables there yet
    with rls.unrestricted():
        cursor.execute("SELECT crm_row_scope()")
        return cursor.fetchone()[0] != rls.ALL


def readiness():
    replica_aliases = set(settings.DATABASE_REPLICAS.values())
    databases = {alias: database_status(alias) for alias in connections.settings if alias not in replica_aliases}
    ready = all(status == "ok" for status in databases.values())
    body = {"status": "ready" if ready else "unavailable", "databases": databases}
    if settings.DATABASE_REPLICAS:
        body["replicas"] = {
            replica: replicas.health(alias).describe() for alias, replica in settings.DATABASE_REPLICAS.items()
        }
    return JsonResponse(body, status=200 if ready else 503)


class HealthCheckMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path == "/healthz":
            response = JsonResponse({"status": "ok"})
        elif request.path == "/readyz":
            response = readiness()
        else:
            return self.get_response(request)
        response["Cache-Control"] = "no-store"
        return response
