import getpass
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from whatsapp.configuration import save_configuration


class Command(BaseCommand):
    help = (
        "Connect a user to a WhatsApp Business number. The access token is read from standard input, "
        "never from the command line (it would show in the process list and shell history)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email of the user who owns the number.")
        parser.add_argument("--whatsapp-number", required=True, help="The business number in E.164, e.g. +14155550100.")
        parser.add_argument("--phone-number-id", required=True, help="Meta's Phone Number ID of that number.")
        parser.add_argument("--business-account-id", default=None, help="Meta's WhatsApp Business Account ID.")
        parser.add_argument("--webhook-url", default=None, help="Where Meta posts notifications (default: this app's).")

    def read_token(self):
        if sys.stdin.isatty():
            return getpass.getpass("WhatsApp access token: ").strip()
        return sys.stdin.read().strip()

    def handle(self, *args, **options):
        try:
            user = User.objects.get_by_natural_key(options["user"])
        except User.DoesNotExist:
            raise CommandError(f"--user: no user with email {options['user']!r}.")
        token = self.read_token()
        try:
            configuration, created = save_configuration(
                user=user,
                whatsapp_number=options["whatsapp_number"],
                phone_number_id=options["phone_number_id"],
                business_account_id=options["business_account_id"],
                webhook_url=options["webhook_url"],
                access_token=token,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages))
        action = "created" if created else "updated"
        self.stdout.write(
            f"{action} WhatsApp configuration {configuration.pk} for {user.email}: "
            f"{configuration.whatsapp_number}, phone number id {configuration.phone_number_id}, "
            f"access token {configuration.masked_api_key}"
        )
