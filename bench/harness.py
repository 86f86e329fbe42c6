"""What every benchmark shares: the bench database and its bulk data, a gunicorn server, timing, the table.

The bench database is filled with bulk SQL, not through the web API: users, agents and sessions in
a few INSERTs, each agent's tables from the very statements provisioning runs
(`agents.provisioning.create_tables_sql`), and rows from generate_series. It is kept between runs and
only topped up to the number of agents asked for.
"""

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DOMAIN = "bench.example"
SESSION_PREFIX = "benchsession"  # + the agent id on 20 digits: a 32-character session key
UNUSABLE_PASSWORD = "!bench-unusable-password"

# Rows each bench agent gets.
CUSTOMERS, MESSAGES, ORDERS = 20, 100, 5

BENCH_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-" + "b" * 50,
    "WHATSAPP_APP_SECRET": "bench-app-secret",
    "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "WARNING",
    "DJANGO_SETTINGS_MODULE": "crm.settings",
    # Plain http on this machine; in production a proxy terminates TLS in front of gunicorn.
    "SECURE_SSL_REDIRECT": "false",
}


def database_url(server_url, name):
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def configure(server_url, name):
    """Point this process at the bench database (created if missing) and set Django up."""
    import psycopg

    shard = f"{name}_shard2"  # a second agent database, where agents' tables have no foreign key to `agents`
    with psycopg.connect(database_url(server_url, "postgres"), autocommit=True) as admin:
        for database in (name, shard):
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone():
                admin.execute(f'CREATE DATABASE "{database}"')
    os.environ.update(BENCH_ENV)
    os.environ["DATABASE_URL"] = database_url(server_url, name)
    os.environ.update(
        {
            "AGENT_DATABASES": "default,shard2",
            "NEW_AGENT_DATABASES": "default",
            "DATABASE_URL_SHARD2": database_url(server_url, shard),
        }
    )
    os.environ.setdefault("STATIC_ROOT", tempfile.mkdtemp(prefix="crm-bench-static-"))
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)


def session_key(agent_id):
    return f"{SESSION_PREFIX}{agent_id:020d}"


def seed_sql(prefix):
    """Rows for one agent: customers with conversations (some unread), orders with items."""
    return [
        f"INSERT INTO {prefix}_customers (name, phone, last_message_at, unread_count) "
        f"SELECT 'Customer ' || g, '+1555' || lpad(g::text, 7, '0'), now() AT TIME ZONE 'UTC' - g * interval '1 minute', "
        f"CASE WHEN g <= 5 THEN 2 ELSE 0 END FROM generate_series(1, {CUSTOMERS}) g",
        f"INSERT INTO {prefix}_messages (customer_id, message, direction, timestamp, is_read, wamid) "
        f"SELECT 1 + g % {CUSTOMERS}, 'message ' || g, CASE WHEN g % 2 = 0 THEN 'inbound' ELSE 'outbound' END, "
        f"now() AT TIME ZONE 'UTC' - g * interval '1 minute', g > 10, 'wamid.{prefix}.' || g "
        f"FROM generate_series(1, {MESSAGES}) g",
        f"INSERT INTO {prefix}_orders (customer_id, total_amount, status) "
        f"SELECT g, 20, 'confirmed' FROM generate_series(1, {ORDERS}) g",
        f"INSERT INTO {prefix}_orders_items (order_id, name, quantity, price, total) "
        f"SELECT 1 + g % {ORDERS}, 'Item ' || g, 2, 5, 10 FROM generate_series(1, {2 * ORDERS}) g",
    ]


def bench_agent_ids():
    from agents.models import Agent

    return list(
        Agent.objects.filter(user__email__endswith="@" + BENCH_DOMAIN).order_by("id").values_list("id", flat=True)
    )


def ensure_agents(count, report=print, batch=25):
    """Top the bench database up to `count` agents, each with a user, a session and filled tables."""
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connection, transaction
    from django.utils.crypto import salted_hmac

    from accounts.models import Role, User
    from agents import tables
    from agents.access import SESSION_KEY
    from agents.models import Agent
    from agents.provisioning import create_tables_sql

    have = len(bench_agent_ids())
    if have >= count:
        return
    admin = User.objects.filter(email=f"admin@{BENCH_DOMAIN}").first() or User.objects.create_user(
        email=f"admin@{BENCH_DOMAIN}", name="Bench admin", password=None, role=Role.ADMIN
    )
    auth_hash = salted_hmac(
        "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash", UNUSABLE_PASSWORD, algorithm="sha256"
    ).hexdigest()
    report(f"setting up agents {have + 1}..{count} (bulk SQL, {batch} agents per transaction)")
    started = time.monotonic()
    done = have
    while done < count:
        size = min(batch, count - done)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            cursor.execute(
                "WITH new_users AS ("
                "  INSERT INTO users (id, name, email, role, password, is_active, created_at)"
                "  SELECT gen_random_uuid(), 'Seller ' || n, 'seller' || n || '@' || %s, 'agent', %s, true, now()"
                "  FROM generate_series(%s, %s) n RETURNING id, name)"
                " INSERT INTO agents (agent_prefix, user_id, created_by, created_at, name, table_version, database)"
                " SELECT 'pending_' || substr(md5(id::text), 1, 20), id, %s, now(), name, %s, 'default' FROM new_users"
                " RETURNING id, user_id",
                [BENCH_DOMAIN, UNUSABLE_PASSWORD, done + 1, done + size, admin.id, tables.CURRENT_VERSION],
            )
            created = cursor.fetchall()
            cursor.execute(
                "UPDATE agents SET agent_prefix = 'agt_' || id WHERE id = ANY(%s)",
                [[agent_id for agent_id, _ in created]],
            )
            sessions = [
                (
                    session_key(agent_id),
                    SessionStore().encode(
                        {
                            "_auth_user_id": str(user_id),
                            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                            "_auth_user_hash": auth_hash,
                            SESSION_KEY: agent_id,
                        }
                    ),
                )
                for agent_id, user_id in created
            ]
            cursor.executemany(
                "INSERT INTO django_session (session_key, session_data, expire_date) "
                "VALUES (%s, %s, now() + interval '60 days')",
                sessions,
            )
            statements = []
            for agent_id, _ in created:
                agent = Agent(id=agent_id, agent_prefix=f"agt_{agent_id}", database="default")
                statements += create_tables_sql(agent) + seed_sql(agent.agent_prefix)
            cursor.execute(";\n".join(statements))
        done += size
        if done % 500 < size:
            # DDL fills this backend's catalog cache too: start a fresh one now and then.
            connection.close()
            rate = (done - have) / (time.monotonic() - started)
            report(f"  {done} agents ({rate:.0f} agents/s)")
    connection.close()


@dataclass
class Timings:
    samples: list = field(default_factory=list)

    def time(self, function, *args):
        started = time.perf_counter()
        result = function(*args)
        self.samples.append((time.perf_counter() - started) * 1000)
        return result

    def percentile(self, p):
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]

    @property
    def p50(self):
        return statistics.median(self.samples)


@dataclass
class Row:
    measure: str
    value: str
    floor: str = ""
    verdict: str = ""
    note: str = ""


def verdict(ok):
    return "ok" if ok else "MISSED"


class Server:
    """gunicorn with the shipped config (crm/gunicorn.py) serving the bench database, on one worker."""

    def __init__(self, port, threads=1, **env):
        self.port = port
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                "crm/gunicorn.py",
                "crm.wsgi",
                "--workers",
                "1",
                "--threads",
                str(threads),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=ROOT,
            env={**os.environ, "COLLECTSTATIC_ON_START": "false", "LOG_LEVEL": "warning", **env},
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while self.worker_pid() is None or not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start")
            time.sleep(0.2)

    def _answers(self):
        import http.client

        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def worker_pid(self):
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids = children.read_text().split() if children.exists() else []
        return int(pids[0]) if pids else None

    def worker_memory_mb(self):
        """(resident now, peak resident) of the worker, in MB."""
        status = dict(line.split(":", 1) for line in Path(f"/proc/{self.worker_pid()}/status").read_text().splitlines())
        return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024

    def client(self):
        return Client(self.port)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Client:
    """A keep-alive HTTP client that requests pages as a given agent's logged-in user."""

    def __init__(self, port):
        import http.client

        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def get(self, path, agent_id):
        self.connection.request("GET", path, headers={"Cookie": f"sessionid={session_key(agent_id)}"})
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} as agent {agent_id}: {response.status} {body[:200]!r}")
        return body


def random_agents(agent_ids, count, seed=8):
    generator = random.Random(seed)
    return [generator.choice(agent_ids) for _ in range(count)]


def load_average():
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def print_table(rows, header, out=sys.stdout):
    columns = ("measure", "value", "floor", "verdict", "note")
    widths = [max(len(col), *(len(str(getattr(row, col))) for row in rows)) for col in columns]
    print(header, file=out)
    line = "  ".join(col.ljust(width) for col, width in zip(columns, widths, strict=False))
    print(line, file=out)
    print("  ".join("-" * width for width in widths), file=out)
    for row in rows:
        print(
            "  ".join(str(getattr(row, col)).ljust(width) for col, width in zip(columns, widths, strict=False)),
            file=out,
        )
