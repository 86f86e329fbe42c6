"""Behind PgBouncer in transaction mode: one server connection serves many clients' transactions in turn, so
a row scope left on it would reach the next client. Each scope lives only as long as its transaction
(crm/rls.py): two agents' requests interleaved over one server connection each see their own rows only.

The test starts PgBouncer itself (scripts/run-pgbouncer, deploy/pgbouncer.ini); skipped only where the
binary is missing (`apt-get install pgbouncer`, which .ci/run does).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from agents import tables
from crm.tests.fixtures import WEB_ROLE
from crm.tests.test_isolation import world  # noqa: F401  (agents A and B with data: the walk's fixture)
from whatsapp.configuration import save_configuration

pytestmark = pytest.mark.postgres

RUN_PGBOUNCER = Path(settings.BASE_DIR) / "scripts" / "run-pgbouncer"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def pgbouncer():
    """PgBouncer in transaction mode with ONE server connection, in front of the test database's server."""
    if not (shutil.which("pgbouncer") or os.access("/usr/sbin/pgbouncer", os.X_OK)):
        pytest.skip("PgBouncer is not installed (on Debian: apt-get install pgbouncer; .ci/run installs it)")
    server = connection.settings_dict
    port, workdir = free_port(), tempfile.mkdtemp(prefix="pgbouncer-")
    process = subprocess.Popen(
        [RUN_PGBOUNCER, f"127.0.0.1:{port}", f"{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}", "1", workdir],
        env={**os.environ, "PGBOUNCER_ADMIN_USER": server["USER"], "PGBOUNCER_USERS": WEB_ROLE},
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            psycopg.connect(
                host="127.0.0.1", port=port, user=server["USER"], dbname="pgbouncer", autocommit=True
            ).close()
            break
        except psycopg.OperationalError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"PgBouncer did not start: {Path(workdir, 'pgbouncer.log').read_text()}")
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(workdir, ignore_errors=True)


def admin_console(port, command):
    with psycopg.connect(
        host="127.0.0.1", port=port, user=connection.settings_dict["USER"], dbname="pgbouncer", autocommit=True
    ) as console:
        cursor = console.execute(command)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@pytest.fixture
def two_shops(make_agent):
    shops = []
    for name, phone in (("Alice", "+15550000001"), ("Bea", "+15550000002")):
        agent = make_agent(name=f"Shop of {name}")
        tables.for_agent(agent).Customer.objects.create(name=f"{name} Customer", phone=phone)
        save_configuration(user=agent.user, whatsapp_number=phone, phone_number_id=f"pn-{name}", access_token="t" * 20)
        shops.append(agent)
    return shops


@pytest.fixture
def pooled_default(pgbouncer, web_role):
    """New threads' `default` connections go through PgBouncer, logged in as the web role (a transaction
    pool cannot keep a session's SET ROLE), as DATABASE_TRANSACTION_POOLING configures them."""
    original = connections.settings["default"]
    pooled = {
        **original,
        "PORT": str(pgbouncer),
        "USER": web_role,
        "ROLE": None,
        "DISABLE_SERVER_SIDE_CURSORS": True,
        "OPTIONS": {**original["OPTIONS"], "prepare_threshold": None},
    }
    connections.settings["default"] = pooled
    yield pgbouncer
    connections.settings["default"] = original


def test_two_agents_requests_interleaved_over_one_server_connection_see_only_their_own_rows(two_shops, pooled_default):
    rounds, turn, seen, failures = 12, threading.Barrier(2, timeout=30), {}, []

    def browse(agent, other):
        try:
            client = Client()
            client.force_login(agent.user)
            pages = seen.setdefault(agent.name, [])
            for _ in range(rounds):
                turn.wait()  # both agents' requests at once, their transactions taking turns on the one connection
                page = client.get(reverse("customer_list")).content.decode()
                pages.append(
                    (agent.name.split()[-1] + " Customer" in page, other.name.split()[-1] + " Customer" in page)
                )
        except Exception as error:  # reported below: an assertion in a thread would be lost
            failures.append(repr(error))
            turn.abort()
        finally:
            connections.close_all()

    alice, bea = two_shops
    threads = [threading.Thread(target=browse, args=pair) for pair in ((alice, bea), (bea, alice))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == []
    assert seen == {alice.name: [(True, False)] * rounds, bea.name: [(True, False)] * rounds}

    port = pooled_default
    servers = [
        row for row in admin_console(port, "SHOW SERVERS") if row["database"] == connection.settings_dict["NAME"]
    ]
    assert len(servers) == 1  # every transaction of both clients went over this one server connection
    # And the server connection carries no scope between transactions: its next client reads nobody's rows.
    with psycopg.connect(
        host="127.0.0.1",
        port=port,
        user=connections.settings["default"]["USER"],
        dbname=connection.settings_dict["NAME"],
    ) as after:
        assert after.execute("SELECT coalesce(current_setting('crm.agent_id', true), '')").fetchone() == ("",)
        for agent in two_shops:
            assert after.execute(f"SELECT count(*) FROM {agent.agent_prefix}_customers").fetchone() == (0,)


def in_a_pooled_thread(function, *args):
    """Run `function` in a thread of its own, whose `default` connection goes through PgBouncer; re-raise."""
    failures = []

    def run():
        try:
            function(*args)
        except BaseException as error:  # re-raised in the test's thread
            failures.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=600)
    if failures:
        raise failures[0]


def test_the_isolation_walk_holds_behind_pgbouncer(committed_db, world, pooled_default):  # noqa: F811
    from crm.tests import test_isolation

    in_a_pooled_thread(test_isolation.test_agent_a_never_reaches_agent_bs_objects_on_any_page, Client(), world)
    in_a_pooled_thread(test_isolation.test_pages_without_ids_show_agent_a_none_of_bs_data, Client(), world)
    stats = [
        row
        for row in admin_console(pooled_default, "SHOW STATS")
        if row["database"] == connection.settings_dict["NAME"]
    ]
    assert stats[0]["total_xact_count"] > 100  # the walk's queries went through PgBouncer
