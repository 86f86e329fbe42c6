from django.core.management.base import BaseCommand

from alerts.push import generate_vapid_keys


class Command(BaseCommand):
    help = (
        "Print a new VAPID key pair for Web Push, as environment lines: WEBPUSH_VAPID_PUBLIC_KEY and "
        "WEBPUSH_VAPID_PRIVATE_KEY (keep it secret). Changing the pair orphans every browser's subscription: "
        "sellers turn push on again."
    )

    def handle(self, *args, **options):
        public, private = generate_vapid_keys()
        self.stdout.write(f"WEBPUSH_VAPID_PUBLIC_KEY={public}\nWEBPUSH_VAPID_PRIVATE_KEY={private}")
