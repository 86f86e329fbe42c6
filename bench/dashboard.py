"""Server time of the dashboard's pages for a big agent, on PostgreSQL (a benchmark, not a test).

One agent with 10,000 customers and 1,000,000 messages, 100,000 of them in one conversation, loaded
with COPY into a database of its own (kept between runs; --reload builds it again). Each page is
requested in-process through Django's test client, logged in as the agent's user, so the time is the
server's: middleware, view, queries and template, without a network or an HTTP server in between.
Requests go round-robin over the pages; p50 and p95 are printed per page.

    python bench/dashboard.py [--requests 200] [--reload]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_dashboard (default)

The floor (the dashboard issue): p95 under 50 ms for the inbox and a conversation page.
"""

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_dashboard")
os.environ.update(
    {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": DATABASE_URL,
        # Production mode (no query log, cached templates); secrets for this throwaway database only.
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "WHATSAPP_APP_SECRET": "bench-app-secret",
        "WHATSAPP_VERIFY_TOKEN": "bench-verify-token",
        "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "ERROR",
    }
)

CUSTOMERS = 10_000
MESSAGES = 1_000_000
BIG_CONVERSATION = 100_000
FLOOR_MS = 50
SELLER_EMAIL = "bench-seller@example.com"
COMMON_WORDS = ("hello", "order", "thanks", "price", "when", "delivery", "please", "today", "yes", "ok")
SYLLABLES = ("ka", "lo", "mi", "ne", "su", "ra", "to", "vi", "pe", "do", "ba", "ze", "qu", "fi", "gar", "lin", "mo")


def vocabulary(rng, size=3000):
    """Words as a shop's chats have them: a few very common, thousands that each appear rarely."""
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


def ensure_database():
    import psycopg

    name = DATABASE_URL.rsplit("/", 1)[1]
    with psycopg.connect(DATABASE_URL.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def text_of(rng, words, n):
    picked = [rng.choice(COMMON_WORDS) if rng.random() < 0.3 else rng.choice(words) for _ in range(3 + n % 9)]
    return " ".join(picked)


def message_rows(customer_ids, now, rng):
    """(customer_id, message, direction, timestamp, is_read, media_type, wamid, wa_type, payload, status)."""
    words = vocabulary(rng)
    big, others = customer_ids[0], customer_ids[1:]
    plan = [(big, BIG_CONVERSATION)]
    rest = MESSAGES - BIG_CONVERSATION
    share, extra = divmod(rest, len(others))
    plan += [(customer_id, share + (1 if i < extra else 0)) for i, customer_id in enumerate(others)]
    number = 0
    for customer_id, count in plan:
        # A conversation spread over the last year, oldest first; the newest few days stay unread.
        start = now - dt.timedelta(days=rng.uniform(30, 365))
        step = (now - start) / (count + 1)
        for k in range(count):
            number += 1
            at = start + step * (k + 1)
            inbound = (k % 3) != 1
            media = "image" if number % 20 == 0 else "none"
            body = text_of(rng, words, number)
            wa_type = media if media != "none" else "text"
            payload = (
                {"type": "image", "image": {"id": str(number), "mime_type": "image/jpeg", "caption": body}}
                if media == "image"
                else {"type": "text", "text": {"body": body}}
            )
            yield (
                customer_id,
                body,
                "inbound" if inbound else "outbound",
                at.replace(tzinfo=None),
                not inbound or at < now - dt.timedelta(days=2),
                media,
                f"wamid.BENCH{number:09d}",
                wa_type,
                json.dumps(payload),
                None if inbound else "read",
            )


def load(agent):
    """COPY the customers and messages in, with the messages' indexes built after the data."""
    from django.db import connection

    from agents import tables

    t = tables.for_agent(agent)
    customers, messages = t.Customer._meta.db_table, t.Message._meta.db_table
    rng = random.Random(5)
    now = dt.datetime.now(dt.UTC)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        started = time.perf_counter()
        customer_since = (now - dt.timedelta(days=400)).replace(tzinfo=None)
        with raw.copy(f"COPY {customers} (name, phone, created_at) FROM STDIN") as copy:
            for n in range(1, CUSTOMERS + 1):
                copy.write_row((f"Customer {n:05d}", f"+1555{n:07d}", customer_since))
        cursor.execute(f"SELECT id FROM {customers} ORDER BY id")
        customer_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint)",
            [messages],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        with raw.copy(
            f"COPY {messages} (customer_id, message, direction, timestamp, is_read, media_type, wamid, wa_type, "
            "payload, status) FROM STDIN"
        ) as copy:
            for row in message_rows(customer_ids, now, rng):
                copy.write_row(row)
        copied = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        cursor.execute(f"""
            UPDATE {customers} c SET last_message_at = m.last_at, unread_count = m.unread
            FROM (SELECT customer_id, max(timestamp) AS last_at,
                         count(*) FILTER (WHERE direction = 'inbound' AND NOT is_read) AS unread
                  FROM {messages} GROUP BY customer_id) m
            WHERE c.id = m.customer_id
        """)
        cursor.execute(f"VACUUM ANALYZE {customers}")
        cursor.execute(f"VACUUM ANALYZE {messages}")
    print(
        f"loaded {CUSTOMERS:,} customers and {MESSAGES:,} messages: COPY {copied - started:.0f} s, "
        f"indexes and stats {time.perf_counter() - copied:.0f} s"
    )


def prepare(reload):
    import django

    ensure_database()
    django.setup()
    from django.core.management import call_command

    from accounts.models import Role, User
    from agents import tables
    from agents.models import Agent
    from agents.provisioning import create_agent

    call_command("migrate", verbosity=0)
    seller = User.objects.filter(email=SELLER_EMAIL).first() or User.objects.create_user(
        email=SELLER_EMAIL, name="Bench Seller", password="bench-password", role=Role.AGENT
    )
    agent = Agent.objects.filter(user=seller).first()
    if agent is not None and (reload or tables.for_agent(agent).Message.objects.count() != MESSAGES):
        agent.delete()
        agent = None
    if agent is None:
        admin = User.objects.filter(email="bench-admin@example.com").first() or User.objects.create_user(
            email="bench-admin@example.com", name="Bench Admin", password="bench-password", role=Role.SUPER_ADMIN
        )
        agent = create_agent(created_by=admin, user=seller, name="Bench Shop")
        load(agent)
    return seller, agent


def pages(agent):
    """(label, url, counts for the floor) of the pages measured."""
    from django.urls import reverse

    from agents import tables
    from dashboard.inbox import inbox_page
    from dashboard.threads import cursor_of, thread_page

    t = tables.for_agent(agent)
    big = t.Customer.objects.order_by("id").first()
    typical = t.Customer.objects.order_by("id")[5000]
    # Positions deep in the lists: the inbox's 200th page, the big conversation's middle.
    deep = inbox_page(t, size=25 * 200).next_cursor
    middle = t.Message.objects.filter(customer=big).order_by("-timestamp", "-id")[BIG_CONVERSATION // 2]
    first = inbox_page(t)
    rare_word = vocabulary(random.Random(5))[1234]
    tail = thread_page(t, big)
    return [
        ("inbox", reverse("inbox"), True),
        ("inbox, page 200", reverse("inbox") + f"?after={deep}", True),
        ("inbox, unread", reverse("inbox") + "?show=unread", True),
        ("inbox, search a name", reverse("inbox") + "?q=Customer%2009", False),
        ("inbox, search a word in messages", reverse("inbox") + f"?q={rare_word}", False),
        ("inbox, search a common word", reverse("inbox") + "?q=delivery", False),
        ("inbox poll, nothing new (204)", reverse("inbox_rows") + f"?v={first.token}", True),
        ("conversation, 100k messages", reverse("conversation", args=[big.pk]), True),
        (
            "conversation, load older (middle)",
            reverse("conversation_older", args=[big.pk]) + f"?before={cursor_of(middle)}",
            True,
        ),
        (
            "conversation poll, nothing new (204)",
            reverse("conversation_tail", args=[big.pk]) + f"?since={tail.tail_cursor}&v={tail.token}&seen=1",
            True,
        ),
        ("conversation, 90 messages", reverse("conversation", args=[typical.pk]), True),
        ("customers", reverse("customer_list"), False),
        ("customer page", reverse("customer_detail", args=[big.pk]), False),
        ("home", reverse("home"), False),
    ]


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per page (default 200)")
    parser.add_argument("--reload", action="store_true", help="load the data set again")
    args = parser.parse_args()

    seller, agent = prepare(args.reload)
    from django.test import Client

    client = Client()
    client.force_login(seller)
    measured = pages(agent)
    timings = {label: [] for label, _, _ in measured}
    for label, url, _ in measured:  # warm caches: the agent's classes, templates, PostgreSQL buffers
        for _ in range(5):
            status = client.get(url, secure=True).status_code
        if status not in (200, 204):
            raise SystemExit(f"{label}: {url} answered {status}")
    for _ in range(args.requests):
        for label, url, _ in measured:
            started = time.perf_counter()
            response = client.get(url, secure=True)
            timings[label].append((time.perf_counter() - started) * 1000)
            assert response.status_code in (200, 204), (label, response.status_code)

    print(
        f"\nServer time per page, {args.requests} requests each (ms), PostgreSQL, "
        f"{CUSTOMERS:,} customers, {MESSAGES:,} messages ({BIG_CONVERSATION:,} in one conversation):\n"
    )
    print(f"{'page':42} {'p50':>7} {'p95':>7} {'max':>7}")
    failed = []
    for label, _, floor in measured:
        values = timings[label]
        p50, p95 = statistics.median(values), percentile(values, 0.95)
        mark = ""
        if floor:
            mark = "  ok" if p95 < FLOOR_MS else "  ABOVE FLOOR"
            if p95 >= FLOOR_MS:
                failed.append(label)
        print(f"{label:42} {p50:7.1f} {p95:7.1f} {max(values):7.1f}{mark}")
    print(
        f"\nFloor: p95 < {FLOOR_MS} ms for the inbox and conversation pages: "
        f"{'met' if not failed else 'NOT met for ' + ', '.join(failed)}."
    )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
