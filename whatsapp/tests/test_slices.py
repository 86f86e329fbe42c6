"""Intake workers share the events by slices of the business numbers (whatsapp/slices.py): each holds its
fair share, shares change as workers come and go, a dead worker's slices are taken over, and a worker killed
in the middle of a skewed run loses and duplicates nothing."""

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from agents import tables
from whatsapp import intake, slices
from whatsapp.models import IntakeSlice, IntakeWorker, WebhookEvent

from . import payloads
from .payloads import notification, text, value

ALL = frozenset(range(slices.SLICES))


def test_a_number_always_falls_in_the_same_slice_and_numbers_spread_over_all_of_them():
    assert slices.slice_of("106540352242922") == slices.slice_of("106540352242922")
    seen = {slices.slice_of(str(100000000000000 + n)) for n in range(5000)}
    assert seen == set(ALL)
    assert slices.slice_of("") in ALL


def test_an_event_is_stored_with_the_slice_of_its_number(db):
    body = payloads.encode(notification(value([text()]))).decode()
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        event = WebhookEvent.objects.get(pk=intake.store_event(body, payloads.PHONE_NUMBER_ID))
    assert event.intake_slice == slices.slice_of(payloads.PHONE_NUMBER_ID)


def held(*leases):
    return [lease.mine for lease in leases]


def assert_partition(*leases):
    shares = held(*leases)
    assert set().union(*shares) == ALL
    assert sum(len(share) for share in shares) == slices.SLICES  # no slice held twice
    assert max(map(len, shares)) - min(map(len, shares)) <= 3


def test_workers_share_the_slices_fairly_as_they_come_and_go(db):
    first, second, third = slices.Lease("first"), slices.Lease("second"), slices.Lease("third")
    assert first.refresh() == ALL  # alone: every slice

    assert second.refresh() == frozenset()  # all held and fresh: nothing to take yet
    first.refresh()  # sees two workers: gives half back, and keeps processing it until taken
    assert len(first.mine) == slices.SLICES // 2 and first.claimable == ALL
    second.refresh()
    assert_partition(first, second)
    first.refresh()
    assert first.claimable == first.mine  # nothing is unheld any more

    for _ in range(2):
        for lease in (third, first, second):
            lease.refresh()
    assert_partition(first, second, third)
    assert IntakeSlice.objects.filter(worker="third").count() == len(third.mine)

    third.release()  # a clean stop: its slices are free at once
    assert not IntakeWorker.objects.filter(name="third").exists()
    first.refresh()
    second.refresh()
    assert_partition(first, second)


def test_every_one_of_many_workers_gets_its_share(db):
    leases = [slices.Lease(f"worker-{n:02d}") for n in range(25)]
    for _ in range(3):
        for lease in leases:
            lease.refresh()
    assert_partition(*leases)
    assert sorted({len(lease.mine) for lease in leases}) == [10, 11]  # 256 = 6 x 11 + 19 x 10
    assert sum(slices.fair_share(rank, 25) for rank in range(25)) == slices.SLICES


def test_the_slices_of_a_worker_that_died_are_taken_over_once_its_lease_ran_out(db):
    dead, survivor = slices.Lease("dead"), slices.Lease("survivor")
    now = timezone.now()
    dead.refresh(now)
    survivor.refresh(now)
    dead.refresh(now)
    survivor.refresh(now)
    assert_partition(dead, survivor)

    # Within the lease the dead worker's slices stay its own: nobody else processes them yet.
    survivor.refresh(now + dt.timedelta(seconds=settings.WHATSAPP_INTAKE_LEASE_SECONDS / 2))
    assert survivor.claimable.isdisjoint(dead.mine)

    survivor.refresh(now + dt.timedelta(seconds=settings.WHATSAPP_INTAKE_LEASE_SECONDS + 1))
    assert survivor.mine == ALL
    assert list(IntakeWorker.objects.values_list("name", flat=True)) == ["survivor"]


def test_a_batch_takes_only_the_events_of_the_slices_it_is_given(agent):
    body = payloads.encode(notification(value([text()]))).decode()
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        event = WebhookEvent.objects.get(pk=intake.store_event(body, payloads.PHONE_NUMBER_ID))
    other_slices = ALL - {event.intake_slice}

    assert intake.process_due_events(intake_slices=frozenset()) == 0
    assert intake.process_due_events(intake_slices=other_slices) == 0
    assert WebhookEvent.objects.get(pk=event.pk).state == WebhookEvent.State.PENDING
    assert intake.process_due_events(intake_slices={event.intake_slice}) == 1
    assert WebhookEvent.objects.get(pk=event.pk).state == WebhookEvent.State.PROCESSED


# Two real worker processes on PostgreSQL, one killed in the middle of a skewed run.

AGENTS = 12
MESSAGES = 600


def database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(*arguments):
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "process_webhook_events",
            "--idle-sleep",
            "0.05",
            "--batch-size",
            "20",
            *arguments,
        ],
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "DJANGO_SETTINGS_MODULE": "crm.test_settings",
            "WHATSAPP_APP_SECRET": settings.WHATSAPP_APP_SECRET,
            "WHATSAPP_INTAKE_LEASE_SECONDS": "2",
        },
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition, timeout=120):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def skewed_numbers(agents, count, seed=23):
    """A Zipf-like share: the first agent sends about a third of the messages, the last a trickle."""
    weights = [1 / (rank + 1) for rank in range(len(agents))]
    return random.Random(seed).choices(range(len(agents)), weights=weights, k=count)


@pytest.mark.postgres
def test_a_worker_killed_midway_through_a_skewed_run_loses_and_duplicates_nothing(committed_db, connect_number):
    numbers = [f"5550001{n:04d}" for n in range(AGENTS)]
    agents = [connect_number(number, whatsapp_number=f"+1555{n:07d}") for n, number in enumerate(numbers)]
    # Numbers in both halves of the ring, so that whichever worker dies held some of the traffic.
    assert {slices.slice_of(number) < slices.SLICES // 2 for number in numbers} == {True, False}
    skew = skewed_numbers(agents, MESSAGES)
    sent = []

    def store(start, stop):
        with override_settings(WHATSAPP_PROCESS_INLINE=False):
            for n in range(start, stop):
                wamid = f"wamid.kill-{n}"
                message = text(f"Message {n}", wamid=wamid, from_=f"1650555{n % 40:04d}")
                body = payloads.encode(notification(value([message], phone_number_id=numbers[skew[n]]))).decode()
                intake.store_event(body, numbers[skew[n]])
                sent.append((skew[n], wamid))

    def holders():
        return set(IntakeSlice.objects.exclude(worker="").values_list("worker", flat=True))

    store(0, MESSAGES // 10)
    victim, survivor = start_worker(), start_worker()
    try:
        wait_until(lambda: len(holders()) == 2)  # the two have shared the slices out
        store(MESSAGES // 10, MESSAGES)
        # Midway: some stored, most still waiting, and the victim is holding slices.
        wait_until(lambda: WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).count() >= MESSAGES // 5)
        victim.send_signal(signal.SIGKILL)  # no clean-up: its leases stay until they run out
        victim.wait(timeout=10)
        assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists()

        wait_until(lambda: not WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).exists())
        wait_until(lambda: len(holders()) == 1)
    finally:
        for process in (victim, survivor):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    assert survivor.returncode == 0, survivor.stderr.read()

    assert set(WebhookEvent.objects.values_list("state", flat=True)) == {WebhookEvent.State.PROCESSED}
    for n, agent in enumerate(agents):
        stored = list(tables.for_agent(agent).Message.objects.values_list("wamid", flat=True))
        expected = sorted(wamid for which, wamid in sent if which == n)
        assert sorted(stored) == expected, agent  # each acknowledged message exactly once, in its agent's tables
    # The survivor took the dead worker's slices, and gave them all back when it stopped.
    assert not IntakeWorker.objects.exists() and not holders()
