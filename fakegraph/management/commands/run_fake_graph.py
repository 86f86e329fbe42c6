import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from fakegraph.server import FakeGraphAPI


class Command(BaseCommand):
    help = (
        "Serve the local fake of Meta's Graph API (for the demo and manual testing). Point the app at it "
        "with WHATSAPP_GRAPH_URL=http://<host>:<port>. It posts webhooks, signed with WHATSAPP_APP_SECRET, "
        "to --webhook-url."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8010)
        parser.add_argument(
            "--webhook-url",
            default=None,
            help="Where customer messages and status updates are posted (default: this app's webhook).",
        )
        parser.add_argument(
            "--timeout-delay",
            type=float,
            default=None,
            help="Seconds a simulated timeout keeps the caller waiting (default: just over its read timeout).",
        )

    def handle(self, *args, host, port, webhook_url, timeout_delay, **options):
        fake = FakeGraphAPI(
            host=host,
            port=port,
            app_secret=settings.WHATSAPP_APP_SECRET,
            webhook_url=webhook_url or settings.PUBLIC_BASE_URL.rstrip("/") + reverse("whatsapp_webhook"),
            timeout_delay=timeout_delay if timeout_delay is not None else settings.WHATSAPP_GRAPH_READ_TIMEOUT + 1,
        ).start()
        self.stdout.write(f"Fake Graph API on {fake.url}, posting webhooks to {fake.webhook_url}")
        stopped = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stopped.set())
        stopped.wait()
        fake.stop()
