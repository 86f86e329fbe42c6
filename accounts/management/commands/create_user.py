from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

import audit
from accounts.models import Role, User


class Command(BaseCommand):
    help = (
        "Create a user who logs in with an email and a password. A password the validators find weak is "
        "accepted with a warning (this command is for operators and scripts); people choosing their own "
        "password in the app and the admin must pass the validators."
    )

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", required=True)

    def handle(self, *args, email, name, role, password, **options):
        if not name.strip():
            raise CommandError("--name must not be empty.")
        if not password:
            raise CommandError("--password must not be empty.")
        try:
            validate_password(password, User(email=User.objects.normalize_email(email), name=name.strip(), role=role))
        except ValidationError as error:
            self.stderr.write(
                "warning: --password is weak: " + " ".join(error.messages) + " Ask the user to change it."
            )
        try:
            user = User.objects.create_user(email=email, name=name.strip(), password=password, role=role)
        except ValidationError as error:
            raise CommandError("; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()))
        except ValueError as error:
            raise CommandError(str(error))
        audit.record("user.created", actor=None, target=user, role=user.role, source="create_user command")
        self.stdout.write(f"created {user.role} {user.email} ({user.pk})")
