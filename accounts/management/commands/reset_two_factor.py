from django.core.management.base import BaseCommand, CommandError

from accounts import two_factor
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Turn off two-factor login for a user who lost both their phone and their recovery codes "
        "(for when no other super admin can do it from the admin). Recorded in the audit log."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Email of the user.")

    def handle(self, *args, **options):
        try:
            user = User.objects.get_by_natural_key(options["user"])
        except User.DoesNotExist:
            raise CommandError(f"--user: no user with email {options['user']!r}.")
        removed = two_factor.reset(user, actor=None)
        if removed:
            self.stdout.write(f"two-factor login reset for {user.email}: their password alone logs them in now")
        else:
            self.stdout.write(f"{user.email} had no two-factor login; nothing changed")
