"""The acknowledgement path's round trips: on a kept connection a delivery costs one INSERT, nothing more,
and a kept connection that died in between (a server restart) is replaced without losing the delivery.
(Where a request leaves its connection's row scope: crm/tests/test_row_level_security.py.)"""

import psycopg
import pytest
from django.db import connection, connections

from crm import rls
from whatsapp.models import WebhookEvent

from . import payloads
from .payloads import post

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def acknowledge_only(settings):
    """Deliveries are stored and answered, as in production; the worker processes them later."""
    settings.WHATSAPP_PROCESS_INLINE = False


def new_request():
    """What Django does with a kept connection (the shipped CONN_MAX_AGE and CONN_HEALTH_CHECKS) when a
    request starts: it is to be health checked before its next query. (The test client leaves
    request_started out, and the suite does not keep connections.)"""
    connection.health_check_enabled = True
    connection.health_check_done = False


@pytest.fixture
def counted(monkeypatch):
    """How many health checks and row-scope statements the connection runs."""
    calls = {"health checks": 0, "scope statements": 0}
    is_usable, apply = type(connections["default"]).is_usable, rls._apply

    def counted_is_usable(self):
        calls["health checks"] += 1
        return is_usable(self)

    def counted_apply(*args):
        calls["scope statements"] += 1
        return apply(*args)

    monkeypatch.setattr(type(connections["default"]), "is_usable", counted_is_usable)
    monkeypatch.setattr(rls, "_apply", counted_apply)
    return calls


def deliver(client, number):
    return post(client, payloads.notification(payloads.value([payloads.text(wamid=f"wamid.connection-{number}")])))


def test_a_delivery_on_a_kept_connection_runs_no_health_check_and_one_scope_statement(client, committed_agent, counted):
    assert deliver(client, 1).status_code == 200  # the connection is now kept, as between two deliveries
    counted.update({"health checks": 0, "scope statements": 0})

    new_request()
    assert deliver(client, 2).status_code == 200

    # The event is stored in the unrestricted scope (no agent owns it yet), set in the INSERT's own transaction.
    assert counted == {"health checks": 0, "scope statements": 1}
    assert WebhookEvent.objects.count() == 2


def test_a_kept_connection_that_died_is_replaced_and_the_delivery_stored(client, committed_agent, caplog):
    assert deliver(client, 1).status_code == 200
    dead = connection.connection.info.backend_pid
    # Another session (the login role, not the app's) ends the kept one, as a server restart would.
    params = {k: v for k, v in connection.get_connection_params().items() if k not in ("cursor_factory", "context")}
    with psycopg.connect(**params, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dead])

    new_request()
    response = deliver(client, 2)

    assert response.status_code == 200
    assert connection.connection.info.backend_pid != dead
    bodies = WebhookEvent.objects.order_by("id").values_list("body", flat=True)
    assert len(bodies) == 2
    assert "wamid.connection-1" in bodies[0] and "wamid.connection-2" in bodies[1]
    assert "kept database connection was dead" in caplog.text
