"""Reads from a real streaming replica (scripts/run-replica, started by .ci/run): the customers list and
the CSV exports read it, a session that has just written reads the primary, and a replica that is down
or lags is left for the primary, which /readyz reports."""

import os
import socket
import time

import psycopg
import pytest
from django.db import connections
from django.db.utils import load_backend

from crm import replicas

REPLICA_PORT = int(os.environ.get("TEST_REPLICA_PORT", "5433"))
REPLICA = "default_replica"

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", "shard2"])]


def _superuser_on_replica():
    return psycopg.connect(
        host="127.0.0.1", port=REPLICA_PORT, user="postgres", dbname="postgres", autocommit=True, connect_timeout=2
    )


def _wait_for(condition, timeout=10.0, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Replica:
    """The running replica, pointed at by DATABASE_REPLICAS while the test runs."""

    def __init__(self, admin):
        self.admin = admin

    def caught_up(self):
        """Wait until the replica has replayed everything the primary has written so far."""
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (position,) = cursor.fetchone()
        _wait_for(
            lambda: self.admin.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [position]).fetchone()[0],
            what="the replica to catch up",
        )

    def pause(self):
        self.admin.execute("SELECT pg_wal_replay_pause()")

    def resume(self):
        self.admin.execute("SELECT pg_wal_replay_resume()")


@pytest.fixture
def replica(settings):
    try:
        admin = _superuser_on_replica()
    except psycopg.OperationalError:
        pytest.skip(
            f"no streaming replica on 127.0.0.1:{REPLICA_PORT}: start it with scripts/run-replica (.ci/run does)"
        )
    if not admin.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
        admin.close()
        pytest.skip(f"127.0.0.1:{REPLICA_PORT} is not a standby: rebuild it with scripts/run-replica")
    # A connection made here, not declared in DATABASES: the test runner allows such a one in any test, and
    # no other test sees it.
    primary = connections["default"].settings_dict
    connections[REPLICA] = load_backend(primary["ENGINE"]).DatabaseWrapper(
        {**primary, "PORT": str(REPLICA_PORT)}, REPLICA
    )
    settings.DATABASE_REPLICAS = {"default": REPLICA}
    settings.REPLICA_CHECK_SECONDS = 0
    settings.REPLICA_MAX_LAG_SECONDS = 3600
    replicas.forget_health()
    handle = Replica(admin)
    try:
        yield handle
    finally:
        handle.resume()
        admin.close()
        connections[REPLICA].close()
        del connections[REPLICA]
        replicas.forget_health()


@pytest.fixture
def shop_on_paused_replica(seller, replica):
    """Agent A with "Early" on both servers and "Late" written to the primary while the replica's replay
    is paused: a page that shows only "Early" read the replica."""
    seller.tables.Customer.objects.create(name="Early", phone="+15550000001")
    replica.caught_up()
    replica.pause()
    seller.tables.Customer.objects.create(name="Late", phone="+15550000002")
    return seller


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_customers_list_and_exports_read_the_replica(shop_on_paused_replica, client):
    listed = client.get("/customers/").content.decode()
    assert "Early" in listed and "Late" not in listed

    exported = b"".join(client.get("/customers/export.csv").streaming_content).decode()
    assert "Early" in exported and "Late" not in exported
    assert b"".join(client.get("/orders/export.csv").streaming_content)  # the orders export answers there too


def test_pages_that_show_what_the_user_wrote_read_the_primary(shop_on_paused_replica, client):
    customer = shop_on_paused_replica.tables.Customer.objects.get(name="Late")
    assert "Late" in client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Late" not in client.get("/customers/").content.decode()


def test_after_a_write_the_session_reads_the_primary_for_a_while(shop_on_paused_replica, client, settings):
    response = client.post("/customers/new/", {"name": "Written", "phone": "+15550000003"})
    assert response.status_code == 302 and replicas.WROTE_AT_COOKIE in response.cookies

    listed = client.get("/customers/").content.decode()
    assert "Written" in listed and "Late" in listed  # the primary

    settings.READ_YOUR_WRITES_SECONDS = 0  # the while is over
    listed = client.get("/customers/").content.decode()
    assert "Early" in listed and "Written" not in listed  # the replica again


def test_a_replica_that_lags_beyond_the_bound_is_left_for_the_primary(shop_on_paused_replica, client, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 0.2
    _wait_for(lambda: replicas.measure("default").state == "lagging", what="the paused replica to lag")

    assert "Late" in client.get("/customers/").content.decode()
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["replicas"][REPLICA].startswith("lagging (")
    assert ready.json()["replicas"][REPLICA].endswith("behind): reading the primary")


def test_a_replica_that_is_down_is_left_for_the_primary(seller, replica, client):
    seller.tables.Customer.objects.create(name="Fresh", phone="+15550000004")
    connections[REPLICA].close()
    connections[REPLICA].settings_dict["PORT"] = str(_free_port())  # nothing listens there: the replica is down

    assert "Fresh" in client.get("/customers/").content.decode()
    assert b"Fresh" in b"".join(client.get("/customers/export.csv").streaming_content)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "databases": {"default": "ok", "shard2": "ok"},
        "replicas": {REPLICA: "down: reading the primary"},
    }


def test_readyz_says_the_replica_is_in_use(seller, replica, client):
    replica.caught_up()
    assert client.get("/readyz").json()["replicas"][REPLICA].startswith("ok")


def test_a_replica_that_fails_during_a_page_is_left_for_the_primary_at_once(seller, replica, client, settings):
    seller.tables.Customer.objects.create(name="Fresh", phone="+15550000005")
    replica.caught_up()
    settings.REPLICA_CHECK_SECONDS = 3600
    assert replicas.health("default").usable  # measured healthy, and trusted for an hour
    connections[REPLICA].close()
    connections[REPLICA].settings_dict["PORT"] = str(_free_port())  # then it dies

    assert "Fresh" in client.get("/customers/").content.decode()  # the page ran again on the primary
    assert client.get("/readyz").json()["replicas"][REPLICA] == "down: reading the primary"
