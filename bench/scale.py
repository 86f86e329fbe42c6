"""Scale benchmarks: provisioning, latency and memory at many agents, connections, pg_dump.

Each function takes the run's context and returns result rows (bench/harness.py's Row).
"""

import os
import runpy
import statistics
import subprocess
import tempfile
import time

from harness import ROOT, Row, Server, Timings, random_agents, verdict

# Pages measured for a random agent against one agent. Later benchmarks (webhook, inbox) add theirs.
PAGES = ["/"]


def provisioning(context):
    """create_agent (row + four tables + commit), then delete_agent, beside the full database and on a shard."""
    from django.db import connections

    from accounts.models import User
    from agents.provisioning import create_agent, delete_agent

    admin = User.objects.get(email="admin@bench.example")
    rows = []
    for database, where in (("shard2", "on a second database"), ("default", f"beside {context.agents} agents")):
        creating, deleting, created = Timings(), Timings(), []
        for n in range(context.provisioned):
            created.append(creating.time(lambda: create_agent(created_by=admin, name=f"Bench {n}", database=database)))
        for agent in created:
            deleting.time(delete_agent, agent)
        # A deletion has made this backend check (and cache) every agent's foreign key: start afresh,
        # as a web process does at the end of such a request.
        connections.close_all()
        rows += [
            Row(
                f"provisioning: create_agent {where}, median of {len(created)}",
                f"{creating.p50:.1f} ms",
                "< 50 ms",
                verdict(creating.p50 < 50),
                f"p95 {creating.percentile(95):.1f} ms",
            ),
            Row(
                f"provisioning: delete_agent {where}, median",
                f"{deleting.p50:.1f} ms",
                "",
                "",
                f"p95 {deleting.percentile(95):.1f} ms",
            ),
        ]
    return rows


def _page_latency(client, path, agent_ids, warm_up):
    for agent_id in warm_up:
        client.get(path, agent_id)
    timings = Timings()
    for agent_id in agent_ids:
        timings.time(client.get, path, agent_id)
    return timings


def web(context):
    """One gunicorn worker: page latency for one agent against random ones, then its memory after all."""
    rows = []
    server = Server(context.port)
    try:
        client = server.client()
        one = context.agent_ids[0]
        sample = context.requests
        for path in PAGES:
            single = _page_latency(client, path, [one] * sample, [one] * 50)
            another = random_agents(context.agent_ids, 1, seed=5)[0]
            repeated = _page_latency(client, path, [another] * sample, [another] * 50)
            spread = _page_latency(
                client,
                path,
                random_agents(context.agent_ids, sample, seed=1),
                random_agents(context.agent_ids, sample, seed=2),
            )
            # Behind nginx's `hash $cookie_crm_route` over several web processes, one process serves only
            # its share of the agents, a different one of them every request (docs/operations.md sizes it).
            share = _web_share(context)
            for agent_id in share:
                client.get(path, agent_id)
            sticky = _page_latency(
                client, path, random_agents(share, sample, seed=11), random_agents(share, 50, seed=12)
            )
            rows += [
                Row(
                    f"GET {path}: one agent, p50 / p95",
                    f"{single.p50:.2f} / {single.percentile(95):.2f} ms",
                    note=f"{sample} requests",
                ),
                Row(
                    f"GET {path}: a random agent of {context.agents}, repeated, p50 / p95",
                    f"{repeated.p50:.2f} / {repeated.percentile(95):.2f} ms",
                    note=f"agent {another}",
                ),
                Row(
                    f"GET {path}: a different random agent every request, p50 / p95",
                    f"{spread.p50:.2f} / {spread.percentile(95):.2f} ms",
                    note=f"{sample} requests",
                ),
                _ratio_row(f"GET {path}: random agent repeated / one agent", repeated, single),
                _ratio_row(f"GET {path}: different random agent / one agent", spread, single),
                Row(
                    f"GET {path}: a different agent every request, sticky routing (one of "
                    f"{context.web_processes} web processes: {len(share)} agents), p50 / p95",
                    f"{sticky.p50:.2f} / {sticky.percentile(95):.2f} ms",
                    note=f"{sample} requests after one round of the share",
                ),
                _ratio_row(f"GET {path}: different agent, sticky routing / one agent", sticky, single),
                _ratio_row(f"GET {path}: different agent, sticky routing / one agent", sticky, single, p=95, floor=1.5),
            ]
        before, _ = server.worker_memory_mb()
        started = time.monotonic()
        for agent_id in context.agent_ids:
            client.get("/", agent_id)
        elapsed = time.monotonic() - started
        after, peak = server.worker_memory_mb()
        rows.append(
            Row(
                f"web worker resident memory after GET / for all {len(context.agent_ids)} agents",
                f"{after:.0f} MB",
                "< 250 MB",
                verdict(after < 250 and peak < 250),
                f"peak {peak:.0f} MB, {before:.0f} MB before; AGENT_TABLES_CACHE_SIZE={_setting('AGENT_TABLES_CACHE_SIZE')}; "
                f"{len(context.agent_ids) / elapsed:.0f} requests/s",
            )
        )
    finally:
        server.stop()
    return rows


def _ratio_row(label, measured, baseline, p=50, floor=1.25):
    ratio = measured.percentile(p) / baseline.percentile(p) if p != 50 else measured.p50 / baseline.p50
    return Row(f"{label} (p{p})", f"{ratio:.2f}x", f"<= {floor}x", verdict(ratio <= floor))


def _web_share(context):
    """The agents one of `context.web_processes` web processes serves behind sticky routing (by route key)."""
    from agents.access import route_key

    return [agent_id for agent_id in context.agent_ids if int(route_key(agent_id)) % context.web_processes == 0]


def _intake_share(context):
    """The agents of one of `context.intake_workers` intake workers' slices (their numbers as bench/spread.py gives)."""
    from spread import NUMBER

    from whatsapp.slices import SLICES, slice_of

    held = SLICES // context.intake_workers
    return [agent_id for agent_id in context.agent_ids if slice_of(NUMBER.format(agent_id)) < held]


def cold_path(context):
    """What a request for an agent this process has not served lately pays: its classes, its catalog."""
    import gc

    from django.db import connection

    from agents import tables
    from agents.models import Agent

    agents = list(Agent.objects.filter(pk__in=random_agents(context.agent_ids, 200, seed=6)))

    def counts(agent):
        t = tables.for_agent(agent)
        t.Customer.objects.count(), t.Message.objects.unread().count(), t.Order.objects.open().count()

    building, warm = Timings(), Timings()
    tables.cache.clear()
    gc.collect()
    for agent in agents:
        building.time(lambda: [getattr(tables.for_agent(agent), name) for name in ("Customer", "Message", "Order")])
    connection.close()
    first_touch = []
    for agent in agents:
        cold = Timings()
        cold.time(counts, agent)
        warm.time(counts, agent)
        first_touch.append(cold.samples[0] - warm.samples[-1])
    return [
        Row(
            "cold path: building an agent's 3 classes / first queries on its tables in a backend",
            f"{building.p50:.2f} / +{statistics.median(first_touch):.2f} ms",
            "",
            "",
            f"medians over {len(agents)} agents; the same 3 queries warm: {warm.p50:.2f} ms",
        )
    ]


def domain_write(context):
    """Store an inbound message (the write every intake does) for one agent against a random one."""
    from django.db import transaction
    from django.utils import timezone

    from agents import conversations, tables
    from agents.models import Agent

    def write(agent_id):
        agent = Agent.objects.get(pk=agent_id)
        t = tables.for_agent(agent)
        with transaction.atomic(using=t.database):
            message = t.Message.objects.create(
                customer_id=1, message="bench", direction="inbound", timestamp=timezone.now()
            )
            conversations.note_new_message(t, message)

    one, sample = context.agent_ids[0], context.requests
    for _ in range(50):
        write(one)
    single = Timings()
    for _ in range(sample):
        single.time(write, one)
    for agent_id in random_agents(context.agent_ids, sample, seed=3):
        write(agent_id)
    spread = Timings()
    for agent_id in random_agents(context.agent_ids, sample, seed=4):
        spread.time(write, agent_id)
    # An intake worker holding its slices (whatsapp/slices.py) writes for its share of the agents only.
    share = _intake_share(context)
    for agent_id in share:
        write(agent_id)
    sliced = Timings()
    for agent_id in random_agents(share, sample, seed=13):
        sliced.time(write, agent_id)
    return [
        Row(
            "domain write (message + inbox counters): one agent, p50 / p95",
            f"{single.p50:.2f} / {single.percentile(95):.2f} ms",
            note=f"{sample} writes, in process",
        ),
        Row(
            f"domain write: a different random agent of {context.agents} each time, p50 / p95",
            f"{spread.p50:.2f} / {spread.percentile(95):.2f} ms",
            note=f"{sample} writes",
        ),
        _ratio_row("domain write: different random agent / one agent", spread, single),
        Row(
            f"domain write: a different agent each time, within one of {context.intake_workers} intake workers' "
            f"slices ({len(share)} agents), p50 / p95",
            f"{sliced.p50:.2f} / {sliced.percentile(95):.2f} ms",
            note=f"{sample} writes after one round of the share",
        ),
        _ratio_row("domain write: different agent within a slice / one agent", sliced, single, floor=2),
    ]


def _backend_memory_mb(connection):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sum(total_bytes), sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext' "
            "OR parent = 'CacheMemoryContext') FROM pg_backend_memory_contexts"
        )
        total, catalog = cursor.fetchone()
    return total / 2**20, catalog / 2**20


def catalog_cache(context):
    """A PostgreSQL backend's memory while its process serves every agent, with and without recycling."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from harness import session_key

    from agents.connections import agents_touched

    def serve(agent_ids, limit):
        settings.AGENT_CONNECTION_MAX_AGENTS = limit
        connection.close()
        client = Client()
        first = peak_total = peak_catalog = 0.0
        for n, agent_id in enumerate(agent_ids, 1):
            client.cookies["sessionid"] = session_key(agent_id)
            assert client.get("/").status_code == 200
            touched = agents_touched("default")
            if connection.connection is not None and (n in (1, len(agent_ids)) or n % 100 == 0 or touched == limit - 1):
                total, catalog = _backend_memory_mb(connection)
                first = first or catalog
                peak_total, peak_catalog = max(peak_total, total), max(peak_catalog, catalog)
        return peak_total, peak_catalog, first

    limit = settings.AGENT_CONNECTION_MAX_AGENTS
    recycled_total, recycled_catalog, _ = serve(context.agent_ids, limit)
    unbounded = context.agent_ids[: min(len(context.agent_ids), 2 * limit)]
    grown_total, grown_catalog, first = serve(unbounded, 10**9)
    settings.AGENT_CONNECTION_MAX_AGENTS = limit
    per_thousand = (grown_catalog - first) / max(1, len(unbounded) - 1) * 1000
    return [
        Row(
            f"PostgreSQL backend memory, peak over {len(context.agent_ids)} agents (recycled after {limit})",
            f"{recycled_total:.0f} MB",
            "< 200 MB",
            verdict(recycled_total < 200),
            f"catalog cache {recycled_catalog:.0f} MB; read from pg_backend_memory_contexts",
        ),
        Row(
            f"  the same without recycling, after {len(unbounded)} agents",
            f"{grown_total:.0f} MB",
            "",
            "",
            f"catalog cache grows {per_thousand:.0f} MB per 1,000 agents",
        ),
    ]


def connections(context):
    """GET / for one agent: persistent connections (the shipped CONN_MAX_AGE) against one per request."""
    from django.db import connection

    results = {}
    for label, max_age in (("persistent", os.environ.get("CONN_MAX_AGE", "300")), ("per request", "0")):
        server = Server(context.port, CONN_MAX_AGE=max_age)
        try:
            results[label] = _page_latency(
                server.client(), "/", [context.agent_ids[0]] * 300, [context.agent_ids[0]] * 30
            )
        finally:
            server.stop()
    ratio = results["per request"].p50 / results["persistent"].p50
    with connection.cursor() as cursor:
        cursor.execute("SHOW max_connections")
        max_connections = int(cursor.fetchone()[0])
    shipped = runpy.run_path(str(ROOT / "crm" / "gunicorn.py"))
    workers, threads = shipped["workers"], shipped["threads"]
    return [
        Row("GET / one agent, persistent connections, p50", f"{results['persistent'].p50:.2f} ms"),
        Row("GET / one agent, a new connection per request, p50", f"{results['per request'].p50:.2f} ms"),
        Row(
            "  reconnecting per request costs",
            f"{ratio:.1f}x",
            "> 1x",
            verdict(ratio > 1),
            "the shipped settings keep connections (CONN_MAX_AGE=300)",
        ),
        Row(
            "connections per web process and database (workers x threads)",
            f"{workers * threads}",
            f"<= {max_connections - 10}",
            verdict(workers * threads <= max_connections - 10),
            f"{workers} x {threads} on {os.cpu_count()} CPUs; max_connections {max_connections}, 10 kept for "
            "workers, release and admin",
        ),
    ]


def pg_dump(context):
    """A full custom-format pg_dump of the bench database, with the server's settings."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW max_locks_per_transaction")
        locks = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^agt_[0-9]+_'")
        agent_tables = cursor.fetchone()[0]
    with tempfile.TemporaryDirectory() as directory:
        target = os.path.join(directory, "bench.dump")
        started = time.monotonic()
        result = subprocess.run(
            [context.pg_dump, "--format=custom", "--compress=1", f"--file={target}", os.environ["DATABASE_URL"]],
            capture_output=True,
            text=True,
        )
        elapsed = time.monotonic() - started
        size = os.path.getsize(target) / 2**20 if os.path.exists(target) else 0
    return [
        Row(
            f"pg_dump of the whole database ({agent_tables} agent tables)",
            f"exit {result.returncode}",
            "exit 0",
            verdict(result.returncode == 0),
            f"{elapsed:.0f} s, {size:.0f} MB; max_locks_per_transaction={locks}"
            + (f"; {result.stderr.strip().splitlines()[-1]}" if result.returncode else ""),
        )
    ]


def _setting(name):
    from django.conf import settings

    return getattr(settings, name)
