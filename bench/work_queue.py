"""The inbox's work-queue filters and their counts for a big agent, on PostgreSQL (a benchmark, not a test).

The data set of bench/dashboard.py (10,000 customers, 1,000,000 messages, 100,000 in one conversation),
in a database of its own, then: needs reply filled from the messages (as the version-8 upgrade does, timed),
a third of the conversations marked done, 500 snoozed, and a label on 2,000 customers. Measured in-process:
the one query that counts every filter, each filter's first page (the domain function), and each inbox page
through Django's test client (middleware, view, queries, template). p50 and p95 per item.

    python bench/work_queue.py [--requests 100] [--reload]
    BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench_queue (default)

The floor: p95 under 50 ms for every inbox page, filter and label included.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_queue")

from bench import dashboard  # noqa: E402 (sets up the environment from BENCH_DATABASE_URL first)

FLOOR_MS = 50
DONE_SHARE = 3
SNOOZED = 500
LABELLED = 2000


def shape_queue(agent):
    """Fill needs reply from the messages, and mark some conversations done, some snoozed, some labelled."""
    import datetime as dt

    from django.utils import timezone

    from agents import conversations, labels, tables
    from agents.models import CustomerLabel, Label

    t = tables.for_agent(agent)
    started = time.perf_counter()
    conversations.refresh_all_reply_states(t)
    filled = time.perf_counter() - started
    ids = list(t.Customer.objects.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    t.Customer.objects.filter(pk__in=ids[1::DONE_SHARE]).update(conversation_done_at=now)
    t.Customer.objects.filter(pk__in=ids[2 : 2 + SNOOZED * DONE_SHARE : DONE_SHARE]).update(
        snoozed_until=now + dt.timedelta(days=3)
    )
    Label.objects.filter(agent=agent).delete()
    label = labels.save_label(agent, name="Pending payment", colour="orange")
    CustomerLabel.objects.bulk_create(
        [CustomerLabel(agent=agent, label=label, customer_id=pk) for pk in ids[::5][:LABELLED]]
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {t.Customer._meta.db_table}")
    return label, filled


def timed(function, repeat):
    values = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        values.append((time.perf_counter() - started) * 1000)
    return values


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=100, help="repetitions per item (default 100)")
    parser.add_argument("--reload", action="store_true", help="load the data set again")
    args = parser.parse_args()

    seller, agent = dashboard.prepare(args.reload)
    label, filled = shape_queue(agent)
    from django.test import Client
    from django.urls import reverse

    from agents import conversations, tables
    from dashboard.inbox import inbox_page, inbox_queue

    t = tables.for_agent(agent)
    counts = conversations.queue_counts(t)
    client = Client()
    client.force_login(seller)
    items = [("counts of every filter (1 query)", lambda: conversations.queue_counts(t))]
    for show in ("needs_reply", "open", "unread", "snoozed", "done", "all"):
        items.append((f"first page, {show}", lambda show=show: inbox_page(t, agent=agent, show=show)))
    labelled = inbox_queue(agent, t, show="needs_reply", search="", label=label).labelled
    items.append(("first page, needs reply + label", lambda: inbox_page(t, show="needs_reply", labelled=labelled)))
    for query in ("show=needs_reply", "show=open", "show=done", "show=snoozed", f"show=needs_reply&label={label.pk}"):
        url = reverse("inbox") + "?" + query
        items.append((f"inbox page ?{query}", lambda url=url: client.get(url, secure=True)))
    for _, function in items:
        for _ in range(5):
            function()
    results = [(name, timed(function, args.requests)) for name, function in items]

    print(f"\nneeds reply filled from {dashboard.MESSAGES:,} messages in {filled:.1f} s (the version-8 upgrade)")
    print(f"counts: {counts}\n")
    print(f"{'item':44} {'p50':>7} {'p95':>7} {'max':>7}   (ms, {args.requests} runs each)")
    failed = []
    for name, values in results:
        p95 = dashboard.percentile(values, 0.95)
        failed += [name] if p95 >= FLOOR_MS else []
        print(f"{name:44} {statistics.median(values):7.1f} {p95:7.1f} {max(values):7.1f}")
    print(f"\nFloor: p95 < {FLOOR_MS} ms: {'met' if not failed else 'NOT met for ' + ', '.join(failed)}.")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
