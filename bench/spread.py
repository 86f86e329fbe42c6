#!/usr/bin/env python
"""Traffic spread over many agents, end to end (`make bench-spread`; bench/README.md explains).

Messages are posted to the webhook as Meta posts them (signed, one per delivery) while intake workers
store them in the agents' tables, for three traffic shapes in the same run:

- 100 agents, evenly: the webhook benchmark's case, every agent warm after the first second;
- all --agents agents, evenly: each agent sends as much as every other;
- all --agents agents, skewed (Zipf-like: the agent of rank r sends in proportion to 1/r, so a few
  hundred agents send most messages and the rest a trickle).

Each shape runs twice on the same workers: the first pass meets most agents for the first time (their
classes built, their tables' catalog entries read by the worker's backend), the second is the steady
state of workers that have run for a while. Both worker modes are measured: sliced (each worker holds
its share of the slices, whatsapp/slices.py) and --all-slices (every worker takes any event, as before).
A last pass of the skewed shape kills one sliced worker midway and counts every acknowledged message
stored exactly once.

It uses the scale benchmark's database (bench/harness.py builds it; the first run at 10,000 agents takes
15-20 minutes) on the private server `bench/postgres` starts, and gives each agent a WhatsApp number.
"""

import argparse
import asyncio
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness  # noqa: E402
import webhook  # noqa: E402

NUMBER = "7{:014d}"  # each bench agent's phone number id
SECRET = harness.BENCH_ENV["WHATSAPP_APP_SECRET"]
FLOOR_EVEN, FLOOR_SKEWED = 0.7, 0.9


def give_every_agent_a_number(agent_ids):
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO whatsapp_configuration (user_id, agent_id, whatsapp_number, phone_number_id, "
            " is_active, webhook_url, business_account_id) "
            "SELECT a.user_id, a.id, '+1555' || lpad(a.id::text, 7, '0'), %s || lpad(a.id::text, 14, '0'), "
            " true, '', '' "
            "FROM agents a WHERE a.id = ANY(%s) "
            "AND NOT EXISTS (SELECT 1 FROM whatsapp_configuration c WHERE c.agent_id = a.id)",
            [NUMBER[0], list(agent_ids)],
        )


def traffic(agent_ids, shape, count, seed):
    """The agent of each of `count` messages: every agent equally often, or Zipf-like by a random rank."""
    generator = random.Random(seed)
    if shape == "even":
        plan = [agent_ids[n % len(agent_ids)] for n in range(count)]
        generator.shuffle(plan)
        return plan
    ranked = list(agent_ids)
    generator.shuffle(ranked)
    weights = [1 / (rank + 1) for rank in range(len(ranked))]
    return generator.choices(ranked, weights=weights, k=count)


def delivery(agent_id, customer, wamid, n):
    """A signed delivery of one text message from the agent's customer number `customer`."""
    body = f"Hello, message {n}: is the blue mug still available?"
    payload = webhook.notification(customer, wamid, body, phone_number_id=NUMBER.format(agent_id))
    return webhook.signed_post(json.dumps(payload).encode(), SECRET)


class Database(webhook.Database):
    def stored(self, prefix, agent_ids, chunk=500):
        """(rows, distinct wamids) whose wamid starts with `prefix`, over the agents' message tables."""
        rows = distinct = 0
        for start in range(0, len(agent_ids), chunk):
            union = " UNION ALL ".join(
                f"SELECT wamid FROM agt_{agent_id}_messages WHERE wamid LIKE %(prefix)s"
                for agent_id in agent_ids[start : start + chunk]
            )
            found = self.connection.execute(
                f"SELECT count(*), count(DISTINCT wamid) FROM ({union}) AS m", {"prefix": prefix + "%"}
            ).fetchone()
            rows, distinct = rows + found[0], distinct + found[1]
        return rows, distinct

    def holders(self):
        return self.value("SELECT count(DISTINCT worker) FROM whatsapp_intake_slices WHERE worker <> ''")

    def backend_pids(self):
        return [
            row[0]
            for row in self.connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'"
            ).fetchall()
        ]


def private_memory_mb(pid):
    """A process's private resident memory (RssAnon): for a PostgreSQL backend, mostly its caches."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def wait_until(condition, timeout, poll=0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the intake")
        time.sleep(poll)


def start(command, log_name):
    """A process of the app, its output kept in bench/results/<log_name>.log (a pipe nobody reads would fill)."""
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    with open(out / f"{log_name}.log", "ab") as log:
        return subprocess.Popen(command, cwd=harness.ROOT, env={**os.environ}, stdout=log, stderr=subprocess.STDOUT)


def start_workers(count, mode, batch_size):
    command = [sys.executable, "manage.py", "process_webhook_events", "--batch-size", str(batch_size)]
    if mode == "all slices":
        command.append("--all-slices")
    return [start(command, "spread-intake") for _ in range(count)]


async def post(port, requests, concurrency, on_progress=None):
    results, position = [], 0

    async def client():
        nonlocal position
        while position < len(requests):
            raw = requests[position]
            position += 1
            results.append(await webhook.send(port, raw))
            if on_progress is not None:
                on_progress(len(results))

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return results, time.perf_counter() - started


def run_pass(options, database, web, workers, agent_ids, plan, tag, kill_at=None):
    """Post the plan's messages, wait until the intake has processed them all; the figures."""
    requests = [delivery(agent, 1 + n % harness.CUSTOMERS, f"wamid.{tag}.{n}", n) for n, agent in enumerate(plan)]
    meter = webhook.CpuMeter(database, web, workers)
    before = meter.sample()
    killed = {}

    def progress(done):
        if kill_at is not None and done >= kill_at and not killed:
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            killed["at"] = time.perf_counter()

    started = time.perf_counter()
    results, acked_in = asyncio.run(post(options.port, requests, options.concurrency, progress))
    wait_until(lambda: database.pending_events() == 0, timeout=options.timeout)
    finished = time.perf_counter()
    used = webhook.CpuMeter.used(before, meter.sample())
    acknowledged = sum(1 for status, _ in results if status == 200)
    rows, distinct = database.stored(f"wamid.{tag}.", sorted(set(plan)))
    return {
        "messages": len(plan),
        "agents": len(set(plan)),
        "acknowledged": acknowledged,
        "stored": rows,
        "distinct": distinct,
        "seconds": finished - started,
        "stored_per_second": rows / (finished - started),
        "lag_s": finished - started - acked_in,
        "cpu_ms_per_message": {part: 1000 * seconds / max(1, rows) for part, seconds in used.items()},
        "killed": bool(killed),
    }


def memory(database, workers):
    backends = [private_memory_mb(pid) for pid in database.backend_pids()]
    python = [private_memory_mb(process.pid) for process in workers if process.poll() is None]
    return {
        "backend_max_mb": max(backends, default=0.0),
        "backend_sum_mb": sum(backends),
        "worker_max_mb": max(python, default=0.0),
    }


def scenario(options, database, web, mode, label, agent_ids, shape, seed):
    workers = start_workers(options.intake_workers, mode, options.batch_size)
    try:
        if mode == "sliced":
            wait_until(lambda: database.holders() == len(workers), timeout=120, poll=0.2)
        passes = {}
        for name in ("first", "again"):
            print(f"  {mode}, {label}, {name} pass...", flush=True)
            tag = f"spread{int(time.time())}{mode[0]}{shape}{len(agent_ids)}{name}"
            passes[name] = run_pass(
                options, database, web, workers, agent_ids, traffic(agent_ids, shape, options.messages, seed), tag
            )
        passes["memory"] = memory(database, workers)
    finally:
        for worker in workers:
            if worker.poll() is None:
                webhook.stop(worker)
    return passes


def kill_run(options, database, web, agent_ids):
    """A skewed pass at all agents on sliced workers, one of them SIGKILLed a third of the way through."""
    workers = start_workers(options.intake_workers, "sliced", options.batch_size)
    try:
        wait_until(lambda: database.holders() == len(workers), timeout=120, poll=0.2)
        print("  sliced, a worker killed midway through a skewed pass...", flush=True)
        plan = traffic(agent_ids, "zipf", options.messages, seed=99)
        figures = run_pass(
            options, database, web, workers, agent_ids, plan, f"spreadkill{int(time.time())}", len(plan) // 3
        )
        figures["holders_after"] = database.holders()
    finally:
        for worker in workers:
            if worker.poll() is None:
                webhook.stop(worker)
    return figures


def cpu_text(parts):
    return (
        f"{sum(parts.values()):.2f} (web {parts['web']:.2f}, db {parts['database']:.2f}, worker {parts['worker']:.2f})"
    )


def report(options, results, kill, header):
    lines = [header, ""]
    lines.append(
        f"{'mode':12}{'traffic':22}{'pass':7}{'agents':>8}{'stored/s':>10}{'x 100':>8}  "
        f"{'CPU ms per message':44}{'lag s':>7}"
    )
    verdicts = []
    for mode, shapes in results.items():
        base = shapes["100 agents, even"]["again"]["stored_per_second"]
        for label, passes in shapes.items():
            for name in ("first", "again"):
                figures = passes[name]
                ratio = figures["stored_per_second"] / base
                lines.append(
                    f"{mode:12}{label:22}{name:7}{figures['agents']:8d}{figures['stored_per_second']:10.0f}"
                    f"{ratio:8.2f}  {cpu_text(figures['cpu_ms_per_message']):44}{figures['lag_s']:7.1f}"
                )
                lost = figures["acknowledged"] - figures["distinct"]
                if lost or figures["stored"] != figures["distinct"]:
                    verdicts.append(
                        f"{mode} {label} {name}: {lost} lost, {figures['stored'] - figures['distinct']} twice"
                    )
            memory_figures = passes["memory"]
            lines.append(
                f"{'':41}memory after: backend max {memory_figures['backend_max_mb']:.0f} MB, "
                f"all backends {memory_figures['backend_sum_mb']:.0f} MB, worker max {memory_figures['worker_max_mb']:.0f} MB"
            )
    lines.append("")
    for mode, shapes in results.items():
        base = shapes["100 agents, even"]["again"]["stored_per_second"]
        for label, floor in (
            (f"{options.agents} agents, even", FLOOR_EVEN),
            (f"{options.agents} agents, skewed", FLOOR_SKEWED),
        ):
            ratio = shapes[label]["again"]["stored_per_second"] / base
            lines.append(
                f"{mode}, {label}, steady state: {ratio:.2f}x the 100-agent rate (floor {floor}x: "
                f"{'met' if ratio >= floor else 'MISSED'})"
            )
    if kill:
        lost = kill["acknowledged"] - kill["distinct"]
        twice = kill["stored"] - kill["distinct"]
        lines.append(
            f"killed worker, skewed pass at {kill['agents']} agents: {kill['acknowledged']} acknowledged, "
            f"{kill['distinct']} stored, {lost} lost, {twice} stored twice; all processed in {kill['seconds']:.1f} s "
            f"by the {options.intake_workers - 1} left ({kill['holders_after']} holding slices after)"
        )
        if lost or twice:
            verdicts.append("the killed worker's run lost or duplicated messages")
    lines += [f"FAILED: {verdict}" for verdict in verdicts]
    return "\n".join(lines), not verdicts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--server", default=os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:8151/postgres")
    )
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "crm_scale_bench"))
    parser.add_argument("--agents", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=20_000, help="messages per pass")
    parser.add_argument(
        "--agents-per-worker",
        type=int,
        default=1000,
        help="the intake workers' share: workers = agents / this, and each worker's caches hold 1.15 times it",
    )
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", "8153")))
    parser.add_argument("--modes", default="sliced,all slices")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--no-kill", action="store_true")
    options = parser.parse_args()
    options.intake_workers = max(2, math.ceil(options.agents / options.agents_per_worker))
    # Every worker (sliced or not) may keep as many agents' classes and catalog entries as a share holds.
    cache = str(math.ceil(options.agents_per_worker * 1.15))
    os.environ.update({"AGENT_TABLES_CACHE_SIZE": cache, "AGENT_CONNECTION_MAX_AGENTS": cache})

    started, load_before = time.monotonic(), harness.load_average()
    harness.configure(options.server, options.database)
    harness.ensure_agents(options.agents)
    agent_ids = harness.bench_agent_ids()[: options.agents]
    give_every_agent_a_number(agent_ids)
    database = Database(harness.database_url(options.server, options.database))
    database.connection.execute("UPDATE whatsapp_webhook_events SET state = 'processed' WHERE state = 'pending'")
    os.environ["COLLECTSTATIC_ON_START"] = "false"
    web = start(
        [sys.executable, "-m", "gunicorn", "crm.wsgi", "--bind", f"127.0.0.1:{options.port}",
         "--workers", str(options.web_workers), "--timeout", "60"],
        "spread-web",
    )  # fmt: skip
    results, kill = {}, None
    try:
        webhook.wait_for_port(options.port)
        for mode in options.modes.split(","):
            results[mode] = {
                "100 agents, even": scenario(
                    options, database, web, mode, "100 agents, even", agent_ids[:100], "even", 1
                ),
                f"{options.agents} agents, even": scenario(
                    options, database, web, mode, f"{options.agents} agents, even", agent_ids, "even", 2
                ),
                f"{options.agents} agents, skewed": scenario(
                    options, database, web, mode, f"{options.agents} agents, skewed", agent_ids, "zipf", 3
                ),
            }
        if not options.no_kill:
            kill = kill_run(options, database, web, agent_ids)
    finally:
        webhook.stop(web)
    header = (
        f"\nSpread benchmark {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {options.messages} messages per pass, "
        f"{options.intake_workers} intake workers (batch {options.batch_size}, caches of "
        f"{os.environ['AGENT_TABLES_CACHE_SIZE']} agents), {options.web_workers} web workers, "
        f"concurrency {options.concurrency}; {os.cpu_count()} CPUs, load average {load_before} before, "
        f"{harness.load_average()} after; {time.monotonic() - started:.0f} s"
    )
    text, ok = report(options, results, kill, header)
    print(text)
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (out / f"spread-{stamp}.txt").write_text(text + "\n")
    (out / f"spread-{stamp}.json").write_text(json.dumps({"results": results, "kill": kill}, indent=2))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
