import datetime as dt
import logging
import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections, connections
from django.utils import timezone

from whatsapp import intake, media

log = logging.getLogger(__name__)

# How often an idle worker deletes processed events past WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS.
PRUNE_EVERY = 600
# While the database is unreachable, the worker tries again after these many seconds, doubling up to the maximum.
DATABASE_RETRY_BASE = 0.5
DATABASE_RETRY_MAX = 10.0


class Command(BaseCommand):
    help = (
        "The intake worker: process stored webhook events in batches until stopped (SIGTERM or "
        "Ctrl-C finish the current batch first), queue again media downloads whose retry is due, and delete "
        "processed events older than WHATSAPP_WEBHOOK_EVENT_RETENTION_DAYS. "
        "Run as many as you like: they share the queue."
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

    def handle(self, *args, once, batch_size, idle_sleep, **options):
        self.stopping = False
        if not once:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        total, next_prune = 0, time.monotonic()
        if not once:
            self.stdout.write("Processing webhook events; SIGTERM or Ctrl-C stops after the current batch.")
            self.stdout.flush()
        failures = 0
        while not self.stopping:
            try:
                claimed = intake.process_due_events(batch_size=batch_size)
                if claimed < batch_size:
                    # Not a full batch: queue again the media downloads whose retry is due, then wait a little,
                    # so that the next batch holds more events (fewer statements per message under load).
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
            # Between idle polls, drop a connection that went stale (CONN_MAX_AGE, a restarted server).
            close_old_connections()
            time.sleep(idle_sleep)
        self.stdout.write(f"{total} event{'s' if total != 1 else ''} processed")

    def stop(self, signum, frame):
        self.stopping = True
