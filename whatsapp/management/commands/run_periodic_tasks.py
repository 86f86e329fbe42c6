import signal
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand

from whatsapp.tasks import run_periodic_work


class Command(BaseCommand):
    help = (
        "The clock beside the worker: every minute re-enqueue sends abandoned by a stopped worker and prune "
        "old task results, and run what other apps registered (starting and resuming broadcasts); every "
        "WHATSAPP_TEMPLATE_SYNC_INTERVAL seconds enqueue a template sync per number. "
        "Safe to run more than one (the work is idempotent). --once runs one round (for cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run one round, templates included, and exit.")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between rounds (default 60).")

    def handle(self, *args, once, interval, **options):
        if once:
            self.report(run_periodic_work(sync_templates_now=True))
            return
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        next_sync = time.monotonic()
        while not stopped.is_set():
            sync_now = time.monotonic() >= next_sync
            if sync_now:
                next_sync = time.monotonic() + settings.WHATSAPP_TEMPLATE_SYNC_INTERVAL
            self.report(run_periodic_work(sync_templates_now=sync_now))
            stopped.wait(interval)

    def report(self, done):
        self.stdout.write(", ".join(f"{name.replace('_', ' ')}: {count}" for name, count in done.items()))
