from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from agents.provisioning import create_agent
from crm import routers


def user_by_email(email, option):
    try:
        return User.objects.get_by_natural_key(email)
    except User.DoesNotExist:
        raise CommandError(f"{option}: no user with email {email!r}.")


class Command(BaseCommand):
    help = "Create an agent and its four tables. The last line printed is the agent's table prefix."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Email of the user who works the agent's inbox (omit for a system agent).")
        parser.add_argument("--created-by", required=True, help="Email of the user who creates the agent.")
        parser.add_argument("--name", default="", help="Business name shown in the dashboard.")
        parser.add_argument(
            "--database",
            help="Database alias for the agent's tables (default: the least-loaded of NEW_AGENT_DATABASES).",
        )

    def handle(self, *args, **options):
        created_by = user_by_email(options["created_by"], "--created-by")
        user = user_by_email(options["user"], "--user") if options["user"] else None
        try:
            agent = create_agent(created_by=created_by, user=user, name=options["name"], database=options["database"])
        except routers.UnknownAgentDatabase as error:
            raise CommandError(f"--database: {error}.")
        owner = user.email if user else "no user (system agent)"
        self.stdout.write(
            f"created agent {agent.pk} for {owner} on database {agent.database}, tables version {agent.table_version}"
        )
        self.stdout.write(agent.agent_prefix)
