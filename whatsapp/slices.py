"""The intake's slices: each intake worker processes the events of its own share of the business numbers.

A PostgreSQL backend reads an agent's table and index descriptions from the catalog the first time it
touches them, and a process builds the agent's model classes the first time it needs them (agents.tables).
Both are kept, within limits (AGENT_CONNECTION_MAX_AGENTS, AGENT_TABLES_CACHE_SIZE). A worker that takes
events of every agent pays that cold path again and again once there are more agents than those limits;
a worker that takes only its slice's events keeps its slice's agents warm (bench/spread.py measures it;
docs/operations.md sizes workers from it).

Every event gets a slice when it is stored: a stable hash of the phone number id it is for (one number
belongs to one agent, so an agent's events share a slice; an agent with two numbers may have two).
Workers share the SLICES slices by leases (`whatsapp_intake_slices`): each running worker says it is
alive (`whatsapp_intake_workers`), takes its fair share of the slices (SLICES / live workers, one more
for some), gives back what is over it when more workers start, and renews its leases every few seconds. The
slices of a worker that stops are given back at once; those of one that dies are taken over once its
leases have run out (WHATSAPP_INTAKE_LEASE_SECONDS), and until then a worker processes the events of
any slice nobody holds. A lease is only a way to keep caches warm, never what makes processing safe:
events are claimed row by row (FOR UPDATE SKIP LOCKED) and stored once per wamid, so two workers that
both believe they hold a slice (a worker stuck past its lease) process its events correctly, only less
cheaply.
"""

import datetime as dt
import os
import socket
import uuid
import zlib

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import IntakeSlice, IntakeWorker

SLICES = 256


def slice_of(phone_number_id):
    """The intake slice of the events for a business number (stable across processes and restarts)."""
    return zlib.crc32((phone_number_id or "").encode()) % SLICES


def worker_name():
    """A name for this worker process, unique among every worker that ever ran."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class Lease:
    """One worker's hold on its slices. `refresh()` every few seconds, `release()` when stopping."""

    def __init__(self, name=None):
        self.name = name or worker_name()
        self.mine = frozenset()
        self.unheld = frozenset()

    @property
    def claimable(self):
        """The slices whose events this worker processes now: its own, and any that nobody holds."""
        return self.mine | self.unheld

    def refresh(self, now=None):
        """Say this worker is alive, renew its leases, give back or take slices to hold its fair share.

        One short transaction that first locks every slice row (in number order), so that two workers never
        rebalance or stop at once; times are the database's, so that hosts whose clocks differ agree on
        what has run out. Returns the slices this worker holds.
        """
        lease = _lease_length()
        with transaction.atomic():
            _ensure_slices()
            rows = list(IntakeSlice.objects.select_for_update().order_by("number"))
            now = now or _database_now()
            IntakeWorker.objects.update_or_create(name=self.name, defaults={"seen_at": now})
            IntakeWorker.objects.filter(seen_at__lt=now - lease).delete()
            live = sorted(IntakeWorker.objects.values_list("name", flat=True))
            share = fair_share(live.index(self.name), len(live))
            mine = [row for row in rows if row.worker == self.name]
            free = [
                row for row in rows if row.worker not in live or row.renewed_at is None or row.renewed_at < now - lease
            ]
            free = [row for row in free if row.worker != self.name]
            given_back = []
            if len(mine) > share:
                # More workers run than when these were taken: give back the highest numbers.
                given_back = [row.number for row in mine[share:]]
                IntakeSlice.objects.filter(number__in=given_back).update(worker="", renewed_at=None)
                mine = mine[:share]
            else:
                mine += free[: share - len(mine)]
            IntakeSlice.objects.filter(number__in=[row.number for row in mine]).update(worker=self.name, renewed_at=now)
        held = {row.number for row in mine}
        self.mine = frozenset(held)
        # What nobody holds now, given back just now included: processed here until a worker takes it.
        self.unheld = frozenset(row.number for row in free if row.number not in held) | frozenset(given_back)
        return self.mine

    def release(self):
        """Give this worker's slices back and say it has stopped (a clean stop: others take over at once)."""
        with transaction.atomic():
            list(IntakeSlice.objects.select_for_update().order_by("number"))  # in the order refresh() locks them
            IntakeSlice.objects.filter(worker=self.name).update(worker="", renewed_at=None)
            IntakeWorker.objects.filter(name=self.name).delete()
        self.mine = self.unheld = frozenset()


def _database_now():
    """The database's clock (PostgreSQL), the one every worker reads; this process's on SQLite (one host)."""
    if connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement_timestamp()")
        return cursor.fetchone()[0]


def fair_share(rank, workers):
    """How many slices the worker of `rank` (0.., in name order) among `workers` holds: the shares add up to
    SLICES exactly, so that every worker gets some while there are no more workers than slices."""
    return SLICES // workers + (1 if rank < SLICES % workers else 0)


def _lease_length():
    return dt.timedelta(seconds=settings.WHATSAPP_INTAKE_LEASE_SECONDS)


def _ensure_slices():
    if IntakeSlice.objects.count() < SLICES:
        IntakeSlice.objects.bulk_create([IntakeSlice(number=n) for n in range(SLICES)], ignore_conflicts=True)
