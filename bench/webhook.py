#!/usr/bin/env python
"""Benchmark of the WhatsApp webhook under gunicorn on PostgreSQL (`make bench-webhook`; bench/README.md explains).

It builds a throwaway database (100 agents, their WhatsApp numbers, 1,000 customers), serves the app
with gunicorn, and measures from a load generator on the same machine:

1. the acknowledgement path: signed deliveries answered per second at concurrency 16, interleaved
   round by round with a bare Django view that does one INSERT (same body, same server);
2. end to end: text messages from the 1,000 customers posted to the webhook while the intake worker
   runs, until every one is stored in its agent's tables; and the worker alone draining a backlog;
3. large bodies: a signed 3 MB notification, and unsigned, wrongly signed and oversized ones.

It prints a table and writes the figures to bench/results/webhook-<time>.json.
"""

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import select
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

APP_SECRET = "bench-app-secret-0123456789abcdef"
ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-secret-key-that-is-long-enough-0123456789abcdef",
    "WHATSAPP_APP_SECRET": APP_SECRET,
    "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
    "WHATSAPP_PROCESS_INLINE": "false",
    "TASKS_BACKEND": "database",
    "LOG_LEVEL": "WARNING",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    # Plain http on this machine; in production a proxy terminates TLS in front of gunicorn.
    "SECURE_SSL_REDIRECT": "false",
}
AGENTS, CUSTOMERS = 100, 1000
PHONE_NUMBER_ID = "10000000000{:04d}"
FLOOR_RATIO, FLOOR_P99_MS, FLOOR_STORED_PER_SECOND = 0.5, 50.0, 1000


# The database -----------------------------------------------------------------------------------


def recreate_database(url):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing database name {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        server.execute(f'CREATE DATABASE "{name}"')


def phone_of(customer):
    return f"+1555{customer:07d}"


def set_up_data():
    """Migrate, then 100 agents with their tables, numbers and 10 customers each (bulk inserts, COPY)."""
    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    from accounts.models import Role, User
    from agents import tables
    from agents.provisioning import create_agent
    from whatsapp.models import WhatsAppConfiguration

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body text, received_at timestamptz DEFAULT now())"
        )
    admin = User.objects.create_user(email="bench-admin@example.com", name="Bench Admin", role=Role.ADMIN)
    sellers = User.objects.bulk_create(
        User(email=f"seller{n}@example.com", name=f"Seller {n}", role=Role.AGENT, password="!") for n in range(AGENTS)
    )
    agents = [create_agent(created_by=admin, user=seller, name=f"Shop {n}") for n, seller in enumerate(sellers)]
    configurations = []
    for n, (seller, agent) in enumerate(zip(sellers, agents, strict=False)):
        configuration = WhatsAppConfiguration(
            user=seller,
            agent=agent,
            whatsapp_number=f"+1555999{n:04d}",
            phone_number_id=PHONE_NUMBER_ID.format(n),
            webhook_url="http://127.0.0.1/whatsapp/webhook/",
        )
        configuration.set_access_token("bench-access-token")
        configurations.append(configuration)
    WhatsAppConfiguration.objects.bulk_create(configurations)
    raw = connection.connection  # psycopg: COPY the customers straight into each agent's table
    for n, agent in enumerate(agents):
        table = tables.for_agent(agent).Customer._meta.db_table
        with raw.cursor().copy(f"COPY {table} (name, phone) FROM STDIN") as copy:
            for customer in range(n, CUSTOMERS, AGENTS):
                copy.write_row((f"Customer {customer}", phone_of(customer)))
    message_tables = [tables.for_agent(agent).Message._meta.db_table for agent in agents]
    connection.close()
    return message_tables


# Requests ---------------------------------------------------------------------------------------


def notification(customer, wamid, body="Hello, is the blue mug still available?", phone_number_id=None):
    """A text message from `customer` to its agent (customer mod AGENTS), or to the number `phone_number_id`."""
    agent = customer % AGENTS
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {
                                "display_phone_number": f"1555999{agent:04d}",
                                "phone_number_id": phone_number_id or PHONE_NUMBER_ID.format(agent),
                            },
                            "contacts": [
                                {"profile": {"name": f"Customer {customer}"}, "wa_id": phone_of(customer)[1:]}
                            ],
                            "messages": [
                                {
                                    "from": phone_of(customer)[1:],
                                    "id": wamid,
                                    "timestamp": str(int(time.time())),
                                    "type": "text",
                                    "text": {"body": body},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def signature(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def http_post(path, body, headers=()):
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def signed_post(body, secret=APP_SECRET):
    return http_post("/whatsapp/webhook/", body, [f"X-Hub-Signature-256: {signature(body, secret)}"])


def new_wamid(run, n):
    return "wamid.bench" + base64.b64encode(f"{run}-{n}".encode()).decode()


# The load generator -------------------------------------------------------------------------------


async def send(port, raw):
    """One request on its own connection (gunicorn's sync workers close each one); (status, seconds)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server answered before reading it all (refused unread): its answer is still there
    try:
        data = await reader.read()
    except ConnectionResetError:
        data = b""
    writer.close()
    status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
    return status, time.perf_counter() - started


async def blast(port, requests, concurrency, *, seconds=None):
    """Send `requests` (cycled for `seconds`, else each once) from `concurrency` clients; results and time."""
    results, position = [], 0
    deadline = time.perf_counter() + seconds if seconds else None

    async def client():
        nonlocal position
        while True:
            if deadline is not None:
                if time.perf_counter() >= deadline:
                    return
                raw = requests[position % len(requests)]
            elif position >= len(requests):
                return
            else:
                raw = requests[position]
            position += 1
            results.append(await send(port, raw))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results, time.perf_counter() - started


def summarize(results, elapsed):
    latencies = sorted(seconds for status, seconds in results if status == 200)
    ok = len(latencies)

    def percentile(p):
        return latencies[min(ok - 1, int(p * ok))] * 1000 if ok else float("nan")

    return {
        "requests": len(results),
        "ok": ok,
        "errors": len(results) - ok,
        "seconds": elapsed,
        "per_second": ok / elapsed if elapsed else 0.0,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    }


# Processes ----------------------------------------------------------------------------------------


def wait_for_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the server did not start on port {port}")


def start(command, env):
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """User + system CPU seconds a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def children_of(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
    return found


class CpuMeter:
    """CPU used by the server side of a measurement: gunicorn's workers, the intake workers and the
    PostgreSQL backends serving this database (PostgreSQL's shared background processes excluded)."""

    def __init__(self, database, web, workers=()):
        self.database, self.web, self.workers = database, web, list(workers)

    def sample(self):
        backends = [
            row[0]
            for row in self.database.connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
        ]
        return {
            "web": {pid: cpu_seconds(pid) for pid in children_of(self.web.pid)},
            "worker": {process.pid: cpu_seconds(process.pid) for process in self.workers},
            "database": {pid: cpu_seconds(pid) for pid in backends},
        }

    @staticmethod
    def used(before, after):
        return {
            part: sum(max(0.0, seconds - before[part].get(pid, 0.0)) for pid, seconds in after[part].items())
            for part in after
        }


class Database:
    """A plain psycopg connection for the benchmark's own counting."""

    def __init__(self, url):
        import psycopg

        self.connection = psycopg.connect(url, autocommit=True)

    def value(self, sql):
        return self.connection.execute(sql).fetchone()[0]

    def pending_events(self):
        return self.value("SELECT count(*) FROM whatsapp_webhook_events WHERE state = 'pending'")

    def stored_messages(self, message_tables):
        return self.value("SELECT " + " + ".join(f"(SELECT count(*) FROM {table})" for table in message_tables))


async def wait_until_processed(database, poll=0.02, timeout=600):
    deadline = time.perf_counter() + timeout
    while database.pending_events():
        if time.perf_counter() > deadline:
            raise SystemExit("the intake worker did not finish in time")
        await asyncio.sleep(poll)
    return time.perf_counter()


# The measurements ---------------------------------------------------------------------------------


async def measure_acknowledgement(port, meter, concurrency, rounds, seconds):
    body = json.dumps(notification(0, new_wamid("ack", 0))).encode()
    bare = [http_post("/bench/bare/", body)]
    webhook = [signed_post(json.dumps(notification(n % CUSTOMERS, new_wamid("ack", n))).encode()) for n in range(5000)]
    await blast(port, bare + webhook[:1], concurrency, seconds=1)  # warm every gunicorn worker
    figures = {"bare": [], "webhook": []}
    for _ in range(rounds):
        for name, requests in (("bare", bare), ("webhook", webhook)):
            before = meter.sample()
            figures[name].append(summarize(*await blast(port, requests, concurrency, seconds=seconds)))
            used = meter.used(before, meter.sample())
            figures[name][-1]["cpu_ms_per_request"] = {
                part: 1000 * seconds_used / max(1, figures[name][-1]["ok"]) for part, seconds_used in used.items()
            }
    return figures


async def measure_end_to_end(port, database, meter, message_tables, concurrency, messages, run):
    before = database.stored_messages(message_tables)
    requests = [
        signed_post(json.dumps(notification(n % CUSTOMERS, new_wamid(run, n), f"Message {n} of the run")).encode())
        for n in range(messages)
    ]
    cpu_before = meter.sample()
    started = time.perf_counter()
    results, acked_in = await blast(port, requests, concurrency)
    finished = await wait_until_processed(database)
    used = meter.used(cpu_before, meter.sample())
    stored = database.stored_messages(message_tables) - before
    ack = summarize(results, acked_in)
    return {
        "messages": messages,
        "acknowledged_per_second": ack["per_second"],
        "ack_p99_ms": ack["p99_ms"],
        "errors": ack["errors"],
        "stored": stored,
        "seconds": finished - started,
        "stored_per_second": stored / (finished - started),
        "lag_after_last_ack_s": finished - started - acked_in,
        "cpu_ms_per_message": {part: 1000 * seconds / max(1, stored) for part, seconds in used.items()},
    }


async def measure_drain(database, message_tables, worker_command, env, workers, messages, run):
    """The worker alone: a backlog COPYed into the event table, then the worker started and timed."""
    from whatsapp.slices import slice_of

    before = database.stored_messages(message_tables)
    with database.connection.cursor().copy(
        "COPY whatsapp_webhook_events (body, phone_number_id, state, attempts, summary, error, intake_slice) FROM STDIN"
    ) as copy:
        for n in range(messages):
            customer = n % CUSTOMERS
            number = PHONE_NUMBER_ID.format(customer % AGENTS)
            copy.write_row(
                (json.dumps(notification(customer, new_wamid(run, n))), number, "pending", 0, "", "", slice_of(number))
            )
    started = time.perf_counter()
    processes = [start(worker_command, env) for _ in range(workers)]
    try:
        finished = await wait_until_processed(database, poll=0.05)
        worker_cpu = sum(cpu_seconds(process.pid) for process in processes)
    finally:
        for process in processes:
            stop(process)
    stored = database.stored_messages(message_tables) - before
    return {
        "messages": messages,
        "stored": stored,
        "seconds": finished - started,
        "stored_per_second": stored / (finished - started),
        "worker_cpu_ms_per_message": 1000 * worker_cpu / max(1, stored),
    }


def send_watching(port, raw):
    """One request whose body goes out in pieces while watching for an early answer, as a careful
    client does: a server that refuses a body without reading it answers before it is sent."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.setblocking(False)
        sent, answer = 0, b""
        while True:
            readable, writable, _ = select.select([connection], [connection] if sent < len(raw) else [], [], 30)
            if readable:
                try:
                    chunk = connection.recv(65536)
                except (ConnectionResetError, BlockingIOError):
                    chunk = b""
                answer += chunk
                if not chunk or b"\r\n\r\n" in answer:
                    break
            elif writable:
                try:
                    sent += connection.send(raw[sent : sent + 65536])
                except (BrokenPipeError, ConnectionResetError):
                    sent = len(raw)
            elif not readable and not writable:
                break
    status = int(answer[9:12]) if answer[:5] == b"HTTP/" else 0
    return status, time.perf_counter() - started


def measure_large_bodies(port, repeat=5):
    three_mb_text = "x" * (3 * 1024 * 1024 - 1200)
    three_mb = json.dumps(notification(1, new_wamid("large", 0), three_mb_text)).encode()
    assert len(three_mb) <= 3 * 1024 * 1024
    tiny = json.dumps(notification(1, new_wamid("large", 1))).encode()
    cases = {
        "signed 3 MB": lambda n: signed_post(
            json.dumps(notification(1, new_wamid("large3", n), three_mb_text)).encode()
        ),
        "unsigned 3 MB": lambda n: http_post("/whatsapp/webhook/", three_mb),
        "wrongly signed 3 MB": lambda n: http_post(
            "/whatsapp/webhook/", three_mb, [f"X-Hub-Signature-256: {signature(three_mb, 'wrong')}"]
        ),
        "signed 10 MB (over the limit)": lambda n: signed_post(three_mb * 3 + b" " * (1024 * 1024)),
        "signed small (for scale)": lambda n: signed_post(tiny),
    }
    figures = {}
    for name, build in cases.items():
        outcomes = [send_watching(port, build(n)) for n in range(repeat)]
        figures[name] = {
            "status": sorted({status for status, _ in outcomes}),
            "median_ms": statistics.median(seconds for _, seconds in outcomes) * 1000,
            "bytes": len(build(0)),
        }
    return figures


# Report -------------------------------------------------------------------------------------------


def median_of(rounds, key):
    return statistics.median(round_[key] for round_ in rounds)


def cpu_line(parts):
    total = sum(parts.values())
    return f"{total:.2f} ms CPU (web {parts['web']:.2f}, database {parts['database']:.2f}, intake worker {parts['worker']:.2f})"


def report(setup, ack, end_to_end, drain, large):
    lines = [
        "",
        f"WhatsApp webhook benchmark  ({setup['cpus']} CPUs, PostgreSQL, gunicorn {setup['web_workers']} sync workers, "
        f"{setup['intake_workers']} intake worker(s), concurrency {setup['concurrency']})",
        f"Machine load average before / after: {setup['load_before']:.2f} / {setup['load_after']:.2f} "
        "(the load generator and anything else running share the same CPUs)",
        "",
        f"1. Acknowledgement path: {setup['rounds']} interleaved rounds of {setup['seconds']} s each (medians)",
        f"   {'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}",
    ]
    for name, label in (("bare", "bare Django view, one INSERT"), ("webhook", "webhook, signed deliveries")):
        rounds = ack[name]
        lines.append(
            f"   {label:34}{median_of(rounds, 'per_second'):9.0f}{median_of(rounds, 'p50_ms'):9.1f}"
            f"{median_of(rounds, 'p99_ms'):9.1f}{sum(r['errors'] for r in rounds):8d}"
        )
    for name, label in (("bare", "bare view"), ("webhook", "webhook")):
        parts = {
            part: statistics.median(r["cpu_ms_per_request"][part] for r in ack[name])
            for part in ("web", "database", "worker")
        }
        lines.append(f"   server CPU per request, {label + ':':10} {cpu_line(parts)}")
    ratio = median_of(ack["webhook"], "per_second") / median_of(ack["bare"], "per_second")
    p99 = median_of(ack["webhook"], "p99_ms")
    lines.append(
        f"   webhook / bare: {ratio:.2f}x (floor {FLOOR_RATIO}x: {'met' if ratio >= FLOOR_RATIO else 'MISSED'}); "
        f"webhook p99 {p99:.1f} ms (floor < {FLOOR_P99_MS:.0f} ms: {'met' if p99 < FLOOR_P99_MS else 'MISSED'})"
    )
    lines += [
        "",
        f"2. End to end: {end_to_end['messages']} text messages from {CUSTOMERS} customers over {AGENTS} agents",
        f"   posted at concurrency {setup['concurrency']}:      {end_to_end['acknowledged_per_second']:8.0f} acknowledged/s, "
        f"p99 {end_to_end['ack_p99_ms']:.1f} ms, {end_to_end['errors']} errors",
        f"   stored in agent tables:        {end_to_end['stored_per_second']:8.0f} messages/s "
        f"({end_to_end['stored']} in {end_to_end['seconds']:.1f} s, the last {end_to_end['lag_after_last_ack_s']:.1f} s "
        f"after the last acknowledgement; floor {FLOOR_STORED_PER_SECOND}/s: "
        f"{'met' if end_to_end['stored_per_second'] >= FLOOR_STORED_PER_SECOND else 'MISSED'})",
        f"   server CPU per message:        {cpu_line(end_to_end['cpu_ms_per_message'])}",
        f"   -> on {setup['cpus']} otherwise idle CPUs (load generator aside) that is "
        f"{setup['cpus'] * 1000 / sum(end_to_end['cpu_ms_per_message'].values()):.0f} messages/s at most",
        f"   the worker alone, a backlog:   {drain['stored_per_second']:8.0f} messages/s "
        f"({drain['stored']} events COPYed in, drained in {drain['seconds']:.1f} s; "
        f"worker {drain['worker_cpu_ms_per_message']:.2f} ms CPU per message)",
        "",
        "3. Large bodies (median of 5, each on a new connection)",
    ]
    for name, figures in large.items():
        lines.append(
            f"   {name:32}{figures['bytes'] / 1024 / 1024:6.2f} MB  -> HTTP {','.join(map(str, figures['status']))}"
            f"  {figures['median_ms']:8.1f} ms"
        )
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_webhook"),
        help="PostgreSQL database to (re)create for the run; everything in it is dropped.",
    )
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8111")))
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--intake-workers", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=20000)
    arguments = parser.parse_args()

    env = {**os.environ, **ENVIRONMENT, "DATABASE_URL": arguments.database_url}
    os.environ.update(env)
    print(f"Setting up {arguments.database_url} ({AGENTS} agents, {CUSTOMERS} customers)...", flush=True)
    recreate_database(arguments.database_url)
    message_tables = set_up_data()
    database = Database(arguments.database_url)
    python = sys.executable
    web = start(
        [
            python,
            "-m",
            "gunicorn",
            "crm.wsgi",
            "--bind",
            f"127.0.0.1:{arguments.port}",
            "--workers",
            str(arguments.web_workers),
            "--timeout",
            "30",
        ],
        env,
    )
    worker_command = [python, "manage.py", "process_webhook_events", "--batch-size", str(arguments.batch_size)]
    setup = {
        "cpus": os.cpu_count(),
        "web_workers": arguments.web_workers,
        "intake_workers": arguments.intake_workers,
        "concurrency": arguments.concurrency,
        "rounds": arguments.rounds,
        "seconds": arguments.seconds,
        "load_before": os.getloadavg()[0],
    }
    try:
        wait_for_port(arguments.port)
        print("Acknowledgement path...", flush=True)
        ack = asyncio.run(
            measure_acknowledgement(
                arguments.port, CpuMeter(database, web), arguments.concurrency, arguments.rounds, arguments.seconds
            )
        )
        database.connection.execute("UPDATE whatsapp_webhook_events SET state = 'processed' WHERE state = 'pending'")
        print("End to end...", flush=True)
        workers = [start(worker_command, env) for _ in range(arguments.intake_workers)]
        try:
            end_to_end = asyncio.run(
                measure_end_to_end(
                    arguments.port,
                    database,
                    CpuMeter(database, web, workers),
                    message_tables,
                    arguments.concurrency,
                    arguments.messages,
                    "e2e",
                )
            )
            print("Large bodies...", flush=True)
            large = measure_large_bodies(arguments.port)
            asyncio.run(wait_until_processed(database))
        finally:
            for worker in workers:
                stop(worker)
        print("The worker alone...", flush=True)
        drain = asyncio.run(
            measure_drain(
                database, message_tables, worker_command, env, arguments.intake_workers, arguments.messages, "drain"
            )
        )
    finally:
        stop(web)
    setup["load_after"] = os.getloadavg()[0]
    text = report(setup, ack, end_to_end, drain, large)
    print(text)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (results / f"webhook-{stamp}.json").write_text(
        json.dumps(
            {"setup": setup, "acknowledgement": ack, "end_to_end": end_to_end, "drain": drain, "large": large}, indent=2
        )
    )
    (results / f"webhook-{stamp}.txt").write_text(text + "\n")


if __name__ == "__main__":
    main()
