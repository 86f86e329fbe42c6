"""Fixtures shared by every app's tests, and the guard that keeps tests off the internet.

Who the tests work as (the permission matrix of users and agents, the connected and live shops) is in
crm/tests/fixtures.py, loaded below.
"""

import ipaddress
import socket

import pytest

pytest_plugins = ["crm.tests.fixtures"]

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address):
    if not isinstance(address, tuple):
        return True  # a Unix socket
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OutboundConnectionBlocked(OSError):
    pass


def _guarded_connect(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"tests may not reach {address!r}: only this machine")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"tests may not reach {address!r}: only this machine")
    return _real_connect_ex(self, address)


def pytest_configure(config):
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex


# The suite's PostgreSQL role: an ordinary one (not a superuser, which Row Level Security lets through),
# so that every test runs with the policies as production has them.
APP_ROLE = "crm_app"


def _use_an_ordinary_postgresql_role():
    """Create APP_ROLE if the login role may, and make every PostgreSQL connection SET ROLE to it."""
    import psycopg
    from django.conf import settings

    databases = [d for d in settings.DATABASES.values() if "postgresql" in d["ENGINE"]]
    if not databases:
        return
    default = settings.DATABASES["default"]
    server = {
        "host": default["HOST"] or None,
        "port": default["PORT"] or None,
        "user": default["USER"] or None,
        "password": default["PASSWORD"] or None,
        "dbname": "postgres",
        "autocommit": True,
    }
    with psycopg.connect(**{k: v for k, v in server.items() if v is not None}) as admin:
        if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            return  # already an ordinary role: the policies hold as they are
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone():
            admin.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN CREATEDB")
        for database in databases:
            name = database.get("TEST", {}).get("NAME") or f"test_{database['NAME']}"
            # A test database left by a run as another role could not be dropped by this one.
            owner = admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [name]
            ).fetchone()
            if owner and owner[0] != APP_ROLE:
                admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    for database in databases:
        database["ROLE"] = APP_ROLE


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    _use_an_ordinary_postgresql_role()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test databases, with message search's functions marked leakproof (docs/security.md)."""
    from django.db import connections

    from crm import rls

    with django_db_blocker.unblock():
        for connection in connections.all():
            # Only the databases this run created (their names now carry the test prefix).
            if connection.vendor == "postgresql" and connection.settings_dict["NAME"].startswith("test_"):
                with connection.cursor() as cursor:
                    rls.mark_search_functions_leakproof(cursor)


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def _fake_graph_server():
    from django.conf import settings

    from fakegraph.server import FakeGraphAPI

    server = FakeGraphAPI(app_secret=settings.WHATSAPP_APP_SECRET, status_delays=(0.02, 0.05), timeout_delay=1.0)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_graph(_fake_graph_server, settings):
    """The fake Graph API over real HTTP on a free port, with the app pointed at it; empty for each test.

    Steer it with fake_graph.fail_next(...), add_media(...), set_templates(...); read what the app
    sent from fake_graph.requests / sent_messages(). It posts webhooks only where a test sets
    fake_graph.webhook_url (or registers a phone number with one).
    """
    _fake_graph_server.reset()
    _fake_graph_server.webhook_url = None
    settings.WHATSAPP_GRAPH_URL = _fake_graph_server.url
    yield _fake_graph_server
    _fake_graph_server.wait_for_webhooks(timeout=5)
    _fake_graph_server.reset()


@pytest.fixture
def committed_db(transactional_db):
    """The database without a wrapping transaction, for tests whose data other threads or processes read
    (a live server, a worker process, concurrent requests). Agents created meanwhile are deleted at the end,
    their tables with them: the flush that empties the database cannot truncate across their foreign keys."""
    yield
    from agents.models import Agent

    for agent in Agent.objects.all():
        agent.delete()


@pytest.fixture
def webhook_receiver():
    """A bare HTTP endpoint that keeps what is posted to it, (headers, body) in .received: stands in for
    the app's webhook where a test watches what the fake Graph API posts. Any path; .url is its webhook URL."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    server.received = received
    server.host = f"127.0.0.1:{server.server_address[1]}"
    server.url = f"http://{server.host}/whatsapp/webhook/"
    yield server
    server.shutdown()
    server.server_close()
