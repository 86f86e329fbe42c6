"""The dashboard and the webhook through PgBouncer (transaction mode) against direct connections, and the
server connections 8 web processes open either way (a benchmark, not a test; PostgreSQL and pgbouncer needed).

    python bench/pgbouncer.py [--requests 300] [--processes 8] [--threads 4] [--pool-size 8] [--seconds 10]
    BENCH_PGBOUNCER_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_pgbouncer (default; DROPPED and
    made again), BENCH_PGBOUNCER_PORT=8260

1. Setup: a fresh database, 20 agents with 200 customers and 2,000 messages each, each with a WhatsApp number.
2. Server time, in-process through Django's test client (no HTTP server in between, so the difference is the
   database's round trips): the dashboard's home, inbox and customers pages as a seller, and the webhook's
   acknowledgement (a signed text message stored as an event, inline processing off), --requests each,
   once over a direct connection and once through PgBouncer (DATABASE_TRANSACTION_POOLING=true).
3. Connections: --processes processes of --threads threads each request pages for --seconds as fast as they
   can (as 8 gunicorn workers of 4 threads would), direct and then through PgBouncer with --pool-size server
   connections; pg_stat_activity is sampled every 50 ms for the database's backends. Pages per second too.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATABASE_URL = os.environ.get("BENCH_PGBOUNCER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_pgbouncer")
PGBOUNCER_PORT = int(os.environ.get("BENCH_PGBOUNCER_PORT", "8260"))
AGENTS, CUSTOMERS, MESSAGES = 20, 200, 2_000
SELLER = "bench-seller-{}@example.com"
APP_SECRET = "bench-app-secret"
ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
    "WHATSAPP_PROCESS_INLINE": "false",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
    "ALLOWED_HOSTS": "testserver",
    "LOG_LEVEL": "ERROR",
}
PAGES = ("home", "inbox", "customer_list")


def pooled_url():
    parts = urlsplit(DATABASE_URL)
    return urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{PGBOUNCER_PORT}"))


def child(mode, url, *arguments, pooled=False):
    env = {**os.environ, **ENVIRONMENT, "DATABASE_URL": url, "DATABASE_TRANSACTION_POOLING": str(pooled).lower()}
    return subprocess.Popen(
        [sys.executable, __file__, "--child", mode, *map(str, arguments)], cwd=ROOT, env=env, stdout=subprocess.PIPE
    )


def result_of(process):
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"a child failed ({process.args})")
    return json.loads(out.decode().strip().splitlines()[-1])


# In the children: Django set up on DATABASE_URL.


def django_setup():
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def setup_data():
    from django.core.management import call_command

    from accounts.models import Role, User
    from agents import provisioning, tables
    from whatsapp.configuration import save_configuration

    call_command("migrate", verbosity=0)
    admin = User.objects.create_user(email="bench-admin@example.com", password="x" * 12, role=Role.ADMIN, name="Admin")
    for n in range(AGENTS):
        user = User.objects.create_user(email=SELLER.format(n), password="x" * 12, role=Role.AGENT, name=f"Seller {n}")
        agent = provisioning.create_agent(created_by=admin, user=user, name=f"Shop {n}")
        save_configuration(
            user=user, whatsapp_number=f"+1555{n:07d}", phone_number_id=f"1065{n:08d}", access_token="t" * 30
        )
        classes = tables.for_agent(agent)
        customers = classes.Customer.objects.bulk_create(
            classes.Customer(name=f"Customer {n}-{c}", phone=f"+1666{n:03d}{c:04d}") for c in range(CUSTOMERS)
        )
        classes.Message.objects.bulk_create(
            classes.Message(customer=customers[m % CUSTOMERS], message=f"Hello {m}", direction="inbound")
            for m in range(MESSAGES)
        )
    return {"agents": AGENTS}


def signed_text(n, m):
    import hashlib
    import hmac

    from whatsapp.tests import payloads

    body = payloads.encode(
        payloads.notification(
            payloads.value(
                [payloads.text(f"Is it there? {m}", wamid=f"wamid.bench-{os.getpid()}-{m}", from_=f"1666{n:03d}0001")],
                contacts=[payloads.contact(wa_id=f"1666{n:03d}0001", name="Bench")],
                phone_number_id=f"1065{n:08d}",
            )
        )
    )
    return body, "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()


def logged_in_client(n):
    from django.test import Client

    from accounts.models import User

    client = Client()
    client.force_login(User.objects.get(email=SELLER.format(n)))
    return client


def percentiles(times):
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(times[int(len(times) * 0.95)] * 1000, 2),
    }


def measure(requests):
    from django.test import Client
    from django.urls import reverse

    client, results = logged_in_client(0), {}
    for page in PAGES:
        url = reverse(page)
        for _ in range(20):
            client.get(url, secure=True)  # warm: templates, the agent's classes, the connection
        times = []
        for _ in range(requests):
            start = time.perf_counter()
            assert client.get(url, secure=True).status_code == 200
            times.append(time.perf_counter() - start)
        results[page] = percentiles(times)
    webhook, times = Client(), []
    bodies = [signed_text(m % AGENTS, m) for m in range(requests + 20)]
    for m, (body, signature) in enumerate(bodies):
        start = time.perf_counter()
        answer = webhook.post(
            "/whatsapp/webhook/",
            body,
            content_type="application/json",
            headers={"X-Hub-Signature-256": signature},
            secure=True,
        )
        assert answer.status_code == 200, answer.status_code
        if m >= 20:
            times.append(time.perf_counter() - start)
    results["webhook"] = percentiles(times)
    return results


def load(threads, seconds, process_number):
    from django.db import connections
    from django.urls import reverse

    counts, deadline = [], time.monotonic() + seconds

    def browse(n):
        client, done = logged_in_client(n % AGENTS), 0
        urls = [reverse(page) for page in PAGES]
        while time.monotonic() < deadline:
            assert client.get(urls[done % len(urls)], secure=True).status_code == 200
            done += 1
        counts.append(done)
        connections.close_all()

    workers = [threading.Thread(target=browse, args=(process_number * threads + t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"pages": sum(counts)}


# In the driver.


def server_connections(database, stop, peak):
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as watcher:
        while not stop.is_set():
            count = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [database]
            ).fetchone()[0]
            peak.append(count)
            time.sleep(0.05)


def run_load(url, pooled, arguments, database):
    stop, samples = threading.Event(), []
    watcher = threading.Thread(target=server_connections, args=(database, stop, samples))
    watcher.start()
    processes = [
        child("load", url, arguments.threads, arguments.seconds, n, pooled=pooled) for n in range(arguments.processes)
    ]
    pages = sum(result_of(process)["pages"] for process in processes)
    stop.set()
    watcher.join()
    return {"server_connections_peak": max(samples), "pages_per_second": round(pages / arguments.seconds, 1)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--pool-size", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--child", nargs="+")
    arguments = parser.parse_args()
    if arguments.child:
        django_setup()
        mode, *rest = arguments.child
        if mode == "setup":
            print(json.dumps(setup_data()))
        elif mode == "measure":
            print(json.dumps(measure(int(rest[0]))))
        else:
            print(json.dumps(load(int(rest[0]), int(rest[1]), int(rest[2]))))
        return

    database = urlsplit(DATABASE_URL).path.lstrip("/")
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{database}"')
    result_of(child("setup", DATABASE_URL))
    workdir = tempfile.mkdtemp(prefix="bench-pgbouncer-")
    host = urlsplit(DATABASE_URL)
    pgbouncer = subprocess.Popen(
        [
            ROOT / "scripts" / "run-pgbouncer",
            f"127.0.0.1:{PGBOUNCER_PORT}",
            f"{host.hostname}:{host.port or 5432}",
            str(arguments.pool_size),
            workdir,
        ],
        env={**os.environ, "PGBOUNCER_ADMIN_USER": host.username},
        stderr=subprocess.DEVNULL,
    )
    subprocess.run([ROOT / "scripts" / "wait-for-port", str(PGBOUNCER_PORT)], check=True)
    try:
        figures = {
            "settings": vars(arguments) | {"agents": AGENTS, "customers_each": CUSTOMERS, "messages_each": MESSAGES}
        }
        for name, url, pooled in (("direct", DATABASE_URL, False), ("pgbouncer", pooled_url(), True)):
            figures[name] = result_of(child("measure", url, arguments.requests, pooled=pooled))
            figures[name] |= run_load(url, pooled, arguments, database)
    finally:
        pgbouncer.terminate()
        pgbouncer.wait()
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
