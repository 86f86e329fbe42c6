#!/usr/bin/env python
"""Live updates under gunicorn on PostgreSQL (`make bench-live`; bench/README.md explains the figures).

It builds a throwaway database (100 agents with 20 customers and 200 messages each, a logged-in session
per open tab), serves the app as production does (gunicorn with crm/gunicorn.py, 2 workers x 4 threads,
the intake worker beside it) and measures, with HTTP clients that do what an open page's scripts do:

1. what 200 open tabs cost while nothing happens, each for --seconds: the page as it was (an inbox tab's
   htmx poll of the inbox list every 4 s, answered 204 while unchanged) against the live loop (alerts.js:
   the check every 700 ms while the tab is visible, every 5 s while it is hidden, plus the inbox list's
   safety poll every 30 s). Server CPU (gunicorn's workers and the PostgreSQL backends), requests per
   second, answer times, the web processes' threads and the open connections;
2. arrival latency: while the 200 tabs poll, one more tab holds a conversation open as the page does
   (the live loop, then the thread's tail when the token moves); the clock runs from the moment a signed
   webhook POST is sent until the tab has the tail that shows the message. --samples messages, sent at
   random moments so that they fall anywhere in the poll's cycle.

It prints a table and writes bench/results/live-<time>.json.
"""

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.webhook import (  # noqa: E402
    ENVIRONMENT,
    CpuMeter,
    Database,
    children_of,
    notification,
    recreate_database,
    signed_post,
    stop,
    wait_for_port,
)

AGENTS, CUSTOMERS_PER_AGENT, MESSAGES_PER_CUSTOMER = 100, 20, 10
PHONE_NUMBER_ID = "10000000000{:04d}"
TAIL_URL = re.compile(r'id="thread-tail"[^>]*hx-get="([^"]+)"')
INBOX_POLL_URL = re.compile(r'id="inbox-list"[^>]*hx-get="([^"]+)"')


def set_up_data(tabs):
    """Migrate; 100 agents with numbers, customers and messages; a session per tab (tabs spread over the
    agents). Returns the session keys, one per tab, and (agent index, customer id) of the watched chat."""
    import django
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    call_command("migrate", verbosity=0)
    from accounts.models import Role, User
    from agents import tables
    from agents.provisioning import create_agent
    from whatsapp.models import WhatsAppConfiguration

    admin = User.objects.create_user(email="bench-admin@example.com", name="Bench Admin", role=Role.ADMIN)
    sellers = User.objects.bulk_create(
        User(email=f"seller{n}@example.com", name=f"Seller {n}", role=Role.AGENT, password="!") for n in range(AGENTS)
    )
    agents = [create_agent(created_by=admin, user=seller, name=f"Shop {n}") for n, seller in enumerate(sellers)]
    for n, (seller, agent) in enumerate(zip(sellers, agents, strict=True)):
        configuration = WhatsAppConfiguration(
            user=seller,
            agent=agent,
            whatsapp_number=f"+1555999{n:04d}",
            phone_number_id=PHONE_NUMBER_ID.format(n),
            webhook_url="http://127.0.0.1/whatsapp/webhook/",
        )
        configuration.set_access_token("bench-access-token")
        configuration.save()
    raw = connection.connection
    for n, agent in enumerate(agents):
        t = tables.for_agent(agent)
        with raw.cursor().copy(f"COPY {t.Customer._meta.db_table} (name, phone, last_message_at) FROM STDIN") as copy:
            for c in range(CUSTOMERS_PER_AGENT):
                copy.write_row((f"Customer {n}-{c}", f"+1556{n:03d}{c:04d}", "2026-01-01T00:00:00Z"))
        ids = list(t.Customer.objects.values_list("id", flat=True))
        with raw.cursor().copy(
            f"COPY {t.Message._meta.db_table} (customer_id, message, direction, is_read, timestamp) FROM STDIN"
        ) as copy:
            for customer in ids:
                for m in range(MESSAGES_PER_CUSTOMER):
                    copy.write_row((customer, f"Message {m}", "inbound", True, "2026-01-01T00:00:00Z"))
    sessions = []
    for tab in range(tabs):
        seller = sellers[tab % AGENTS if tab < tabs - 1 else 0]  # the last one watches agent 0's chat
        store = SessionStore()
        store[SESSION_KEY] = str(seller.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = seller.get_session_auth_hash()
        store.create()
        sessions.append(store.session_key)
    watched = tables.for_agent(agents[0]).Customer.objects.order_by("id").first()
    connection.close()
    return sessions, (0, watched.pk, watched.phone)


class Tab:
    """One open page: its session cookie, its keep-alive connection and the URLs its scripts poll."""

    def __init__(self, session, base, session_key):
        self.http, self.base = session, base
        self.headers = {"Cookie": f"sessionid={session_key}"}
        self.poll = None
        self.token = self.ticket = ""
        self.log = []

    async def get(self, path):
        import aiohttp

        started = time.perf_counter()
        for attempt in (1, 2):
            try:
                async with self.http.get(self.base + path, headers=self.headers, allow_redirects=False) as response:
                    body = await response.text()
                break
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
                if attempt == 2:  # a browser too tries again once when a kept-alive connection was just closed
                    raise
        self.log.append((started, time.perf_counter() - started, response.status))
        return response.status, body

    async def ask_in_full(self):
        status, body = await self.get(f"/live/?since={self.token}")
        answer = json.loads(body)
        moved = answer["token"] != self.token
        self.token, self.ticket = answer["token"], answer["ticket"]
        return moved

    async def live(self, on_change=None):
        """One turn of alerts.js's loop: the check, and when it says the state moved, the logged-in question
        beside `on_change()` (the live parts' reload). True when the token moved."""
        if not self.ticket:
            return await self.ask_in_full()
        status, _ = await self.get(f"/live/check/?ticket={self.ticket}&since={self.token}")
        if status == 204:
            return False
        if status == 200 and on_change is not None:
            moved, _ = await asyncio.gather(self.ask_in_full(), on_change())
            return moved
        return await self.ask_in_full()


async def idle_tabs(tabs, mode, seconds, stop_at=None):
    """Each tab polls as `mode` says until `seconds` have passed (or `stop_at` is set)."""
    deadline = time.perf_counter() + seconds

    async def run(tab):
        if mode == "before":
            interval = 4.0
        else:
            await tab.live()
            interval = 0.7 if mode == "visible" else 5.0
        await asyncio.sleep(random.uniform(0, interval))  # tabs opened at different moments
        last_list = time.perf_counter()
        while time.perf_counter() < deadline and not (stop_at and stop_at.is_set()):
            if mode == "before":
                await tab.get(tab.poll)
            else:
                await tab.live()
                if mode == "visible" and time.perf_counter() - last_list > 30:
                    await tab.get("/inbox/rows/")
                    last_list = time.perf_counter()
            await asyncio.sleep(interval)

    await asyncio.gather(*(run(tab) for tab in tabs))


def server_threads_and_connections(web, port):
    pids = children_of(web.pid)
    threads = sum(len(list(Path(f"/proc/{pid}/task").iterdir())) for pid in pids)
    established = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":
                established += 1
    return threads, established


async def measure_idle(tabs, mode, seconds, meter, web, port):
    """Run the tabs as `mode` for a warm-up (every tab past its first, randomly delayed, turn) then
    `seconds` measured: CPU, requests, answer times, threads and connections of the measured part."""
    warm_up = 4.5
    for tab in tabs:
        tab.log = []
    work = asyncio.create_task(idle_tabs(tabs, mode, warm_up + seconds))
    await asyncio.sleep(warm_up)
    before, started = meter.sample(), time.perf_counter()
    await asyncio.sleep(seconds / 2)
    threads, connections = server_threads_and_connections(web, port)
    await asyncio.sleep(seconds / 2)
    elapsed, used = time.perf_counter() - started, CpuMeter.used(before, meter.sample())
    await work
    window = [
        (seconds_, status) for tab in tabs for at, seconds_, status in tab.log if started <= at < started + elapsed
    ]
    latencies = sorted(seconds_ for seconds_, _ in window)
    statuses = {}
    for _, status in window:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "mode": mode,
        "tabs": len(tabs),
        "seconds": elapsed,
        "requests_per_second": len(latencies) / elapsed,
        "statuses": statuses,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "web_cpu_percent": 100 * used["web"] / elapsed,
        "database_cpu_percent": 100 * used["database"] / elapsed,
        "server_cpu_ms_per_tab_second": 1000 * (used["web"] + used["database"]) / elapsed / len(tabs),
        "server_cpu_ms_per_request": 1000 * (used["web"] + used["database"]) / max(1, len(latencies)),
        "web_threads": threads,
        "open_connections": connections,
    }


async def post_webhook(port, body):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(signed_post(body))
    await writer.drain()
    answer = await reader.read()
    writer.close()
    assert answer[9:12] == b"200", answer[:200]


async def measure_latency(tab, watched, samples, port):
    """Seconds from each webhook POST to the watched conversation's tail showing its message."""
    agent_index, customer_id, phone = watched
    status, page = await tab.get(f"/conversations/{customer_id}/")
    tail = TAIL_URL.search(page).group(1).replace("&amp;", "&")
    await tab.live()
    arrived, waits = asyncio.Event(), []
    expected = {"text": None}

    async def reload_tail():
        nonlocal tail
        status, body = await tab.get(tail + "&seen=1")
        if status == 200:
            tail = TAIL_URL.search(body).group(1).replace("&amp;", "&")
            if expected["text"] and expected["text"] in body:
                arrived.set()

    async def page_loop():
        while len(waits) < samples:
            await tab.live(on_change=reload_tail)
            await asyncio.sleep(0.7)

    loop = asyncio.create_task(page_loop())
    for n in range(samples):
        await asyncio.sleep(random.uniform(0.3, 1.5))
        text = f"Live bench message {n} {random.random()}"
        expected["text"], arrived = text, asyncio.Event()
        body = notification_for_watched(agent_index, phone, text, n)
        started = time.perf_counter()
        await post_webhook(port, body)
        try:
            await asyncio.wait_for(arrived.wait(), timeout=15)
            waits.append(time.perf_counter() - started)
        except TimeoutError:
            waits.append(float("inf"))
    await loop
    return waits


def notification_for_watched(agent_index, phone, text, n):
    payload = notification(0, f"wamid.live-bench-{n}-{random.random()}", body=text)
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"] = {
        "display_phone_number": f"1555999{agent_index:04d}",
        "phone_number_id": PHONE_NUMBER_ID.format(agent_index),
    }
    value["contacts"][0]["wa_id"] = phone[1:]
    value["messages"][0]["from"] = phone[1:]
    return json.dumps(payload).encode()


def start(command, env, log):
    """A server process whose output goes to `log` (read it when a figure looks wrong)."""
    import subprocess

    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


async def run(arguments, sessions, watched, meter, web):
    import aiohttp

    port = arguments.port
    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0, force_close=False)
    results = {"idle": []}
    async with aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar()) as http:
        tabs = [Tab(http, base, key) for key in sessions[:-1]]
        for tab in tabs:  # the inbox pages the tabs show (their htmx poll URL), loaded before measuring
            status, page = await tab.get("/inbox/")
            found = INBOX_POLL_URL.search(page)
            if found is None:
                raise SystemExit(f"the inbox page did not load for a tab ({status}): {page[:300]}")
            tab.poll = found.group(1).replace("&amp;", "&")
        for mode in ("before", "visible", "hidden"):
            results["idle"].append(await measure_idle(tabs, mode, arguments.seconds, meter, web, port))
        watcher = Tab(http, base, sessions[-1])
        stop_at = asyncio.Event()
        background = asyncio.create_task(idle_tabs(tabs, "visible", 3600, stop_at))
        waits = await measure_latency(watcher, watched, arguments.samples, port)
        stop_at.set()
        await background
    results["latency"] = {
        "samples": len(waits),
        "p50_ms": percentile(waits, 0.5) * 1000,
        "p95_ms": percentile(waits, 0.95) * 1000,
        "max_ms": max(waits) * 1000,
        "mean_ms": statistics.mean(waits) * 1000,
    }
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--port", type=int, default=int(os.environ.get("BENCH_PORT", 8211)))
    arguments = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_live")
    environment = {**os.environ, **ENVIRONMENT, "DATABASE_URL": url}
    os.environ.update(environment)
    recreate_database(url)
    print(f"Setting up {AGENTS} agents and {arguments.tabs + 1} sessions...", flush=True)
    sessions, watched = set_up_data(arguments.tabs + 1)
    server_env = {**environment, "PORT": str(arguments.port), "HOST": "127.0.0.1", "WEB_CONCURRENCY": "2"}
    server_env.update({"WEB_THREADS": "4", "COLLECTSTATIC_ON_START": "false", "CONN_MAX_AGE": "300"})
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    log = (out / "live-servers.log").open("w")
    web = start([sys.executable, "-m", "gunicorn", "--config", "crm/gunicorn.py", "crm.wsgi"], server_env, log)
    intake = start([sys.executable, "manage.py", "process_webhook_events"], server_env, log)
    database = Database(url)
    try:
        wait_for_port(arguments.port)
        load = os.getloadavg()[0]
        results = asyncio.run(run(arguments, sessions, watched, CpuMeter(database, web, [intake]), web))
        results["load_average"] = [load, os.getloadavg()[0]]
    finally:
        stop(web)
        stop(intake)
    report(results)
    (out / f"live-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(results, indent=2))


def report(results):
    print(
        f"\n{results['idle'][0]['tabs']} open tabs, idle (load average {results['load_average'][0]:.1f} -> {results['load_average'][1]:.1f})"
    )
    print(
        f"{'mode':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'web CPU':>9}{'db CPU':>8}{'ms/tab/s':>10}{'threads':>9}{'conns':>7}"
    )
    for row in results["idle"]:
        print(
            f"{row['mode']:<10}{row['requests_per_second']:>8.1f}{row['p50_ms']:>9.1f}{row['p99_ms']:>9.1f}"
            f"{row['web_cpu_percent']:>8.1f}%{row['database_cpu_percent']:>7.1f}%"
            f"{row['server_cpu_ms_per_request']:>8.2f}{row['server_cpu_ms_per_tab_second']:>10.3f}{row['web_threads']:>9}{row['open_connections']:>7}"
            f"   {row['statuses']}"
        )
    latency = results["latency"]
    print(
        f"\nArrival, webhook POST -> the open conversation's tail shows it ({latency['samples']} messages): "
        f"p50 {latency['p50_ms']:.0f} ms, p95 {latency['p95_ms']:.0f} ms, max {latency['max_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
