from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User


class Command(BaseCommand):
    help = "Create a user who logs in with an email and a password."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", required=True)

    def handle(self, *args, email, name, role, password, **options):
        if not name.strip():
            raise CommandError("--name must not be empty.")
        try:
            user = User.objects.create_user(email=email, name=name.strip(), password=password, role=role)
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        except ValueError as error:
            raise CommandError(str(error))
        try:
            validate_password(password, user)
        except ValidationError as error:
            self.stderr.write(f"warning: weak password for {user.email}: {' '.join(error.messages)}")
        self.stdout.write(f"created {user.role} {user.email} ({user.pk})")
