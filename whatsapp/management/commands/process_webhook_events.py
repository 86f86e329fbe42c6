import signal
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from whatsapp import intake


class Command(BaseCommand):
    help = (
        "The intake worker: process stored webhook events in batches until stopped (SIGTERM or "
        "Ctrl-C finish the current batch first). Run as many as you like: they share the queue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Process what is due, then exit.")
        parser.add_argument(
            "--batch-size", type=int, default=settings.WHATSAPP_EVENT_BATCH_SIZE, help="Events per transaction."
        )
        parser.add_argument(
            "--idle-sleep", type=float, default=0.2, help="Seconds to wait when nothing is due."
        )

    def handle(self, *args, once, batch_size, idle_sleep, **options):
        self.stopping = False
        if not once:
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        total = 0
        while not self.stopping:
            claimed = intake.process_due_events(batch_size=batch_size)
            total += claimed
            if claimed:
                continue
            if once:
                break
            # Between idle polls, drop a connection that went stale (CONN_MAX_AGE, a restarted server).
            close_old_connections()
            time.sleep(idle_sleep)
        self.stdout.write(f"{total} event{'s' if total != 1 else ''} processed")

    def stop(self, signum, frame):
        self.stopping = True
