import datetime as dt
import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from agents.connections import recycle_connections_that_served_many_agents
from whatsapp import intake, media, slices

log = logging.getLogger(__name__)

# How often an idle worker deletes processed events past WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS.
PRUNE_EVERY = 600
# How often a worker whose batches are not full queues due media downloads again and checks its connection:
# not after every batch, which with many workers sharing the traffic is small (a query each time).
UPKEEP_EVERY = 1.0
# While the database is unreachable, the worker tries again after these many seconds, doubling up to the maximum.
DATABASE_RETRY_BASE = 0.5
DATABASE_RETRY_MAX = 10.0


class Command(BaseCommand):
    help = (
        "The intake worker: process stored webhook events in batches until stopped (SIGTERM or "
        "Ctrl-C finish the current batch first), queue again media downloads whose retry is due, and delete "
        "processed events older than WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS. "
        "Run as many as you like: they share the queue, each processing its own slices of the business numbers "
        "(whatsapp/slices.py), so that its database connection keeps only those agents' tables warm."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Process what is due, then exit.")
        parser.add_argument(
            "--batch-size", type=int, default=settings.WHATSAPP_EVENT_BATCH_SIZE, help="Events per transaction."
        )
        parser.add_argument(
            "--idle-sleep",
            type=float,
            default=0.1,
            help="Seconds to wait after a batch that was not full (the longest a message waits in the queue).",
        )
        parser.add_argument(
            "--all-slices",
            action="store_true",
            help="Take events of every slice, holding no lease (how workers ran before slices; for comparison).",
        )

    def handle(self, *args, once, batch_size, idle_sleep, all_slices, **options):
        self.stopping = False
        lease = None if all_slices or once else slices.Lease()
        refresh_every = settings.WHATSAPP_INTAKE_LEASE_SECONDS / 5
        next_refresh = time.monotonic()
        if not once:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        total, next_prune = 0, time.monotonic()
        next_upkeep = time.monotonic()
        if not once:
            self.stdout.write("Processing webhook events; SIGTERM or Ctrl-C stops after the current batch.")
            self.stdout.flush()
        failures = 0
        while not self.stopping:
            try:
                if lease is not None and time.monotonic() >= next_refresh:
                    lease.refresh()
                    next_refresh = time.monotonic() + refresh_every
                claimed = intake.process_due_events(
                    batch_size=batch_size, intake_slices=lease.claimable if lease is not None else None
                )
                # A connection that has served many agents starts afresh (its catalog cache: agents.connections).
                recycle_connections_that_served_many_agents()
                upkeep = claimed < batch_size and time.monotonic() >= next_upkeep
                if upkeep:
                    # Not a full batch: queue again the media downloads whose retry is due, then wait a little,
                    # so that the next batch holds more events (fewer statements per message under load).
                    next_upkeep = time.monotonic() + UPKEEP_EVERY
                    media.retry_due_downloads()
                    if time.monotonic() >= next_prune:
                        next_prune = time.monotonic() + PRUNE_EVERY
                        intake.prune_processed_events(
                            timezone.now() - dt.timedelta(days=settings.WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS)
                        )
            except DatabaseError:
                if once:
                    raise
                # The database is down or restarting: the events wait in it, so wait for it rather than exit
                # (a supervisor that stops every process when one exits would take the whole app down).
                failures += 1
                delay = min(DATABASE_RETRY_MAX, DATABASE_RETRY_BASE * 2 ** (failures - 1))
                log.warning("webhook events cannot be processed now; trying again in %.1fs", delay, exc_info=True)
                connections.close_all()
                time.sleep(delay)
                continue
            failures = 0
            total += claimed
            if claimed >= batch_size:
                continue  # a backlog: on at once
            if once:
                if claimed:
                    continue
                break
            if upkeep:
                # Drop a connection that went stale (CONN_MAX_AGE, a restarted server).
                close_old_connections()
            time.sleep(idle_sleep)
        if lease is not None:
            try:
                lease.release()  # the others take this worker's slices at their next refresh
            except DatabaseError:
                log.warning("the intake slices could not be given back; their leases run out instead", exc_info=True)
        self.stdout.write(f"{total} event{'s' if total != 1 else ''} processed")

    def stop(self, signum, frame):
        self.stopping = True
