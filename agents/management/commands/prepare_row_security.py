from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from crm import rls, routers


class Command(BaseCommand):
    help = (
        "Let message search use its index under Row Level Security: marks upper() and LIKE leakproof on "
        "every agent database. Run once per database, connected as a PostgreSQL superuser (docs/security.md)."
    )

    def handle(self, *args, **options):
        for alias in routers.agent_databases():
            connection = connections[alias]
            if connection.vendor != "postgresql":
                self.stdout.write(f"{alias}: not PostgreSQL, nothing to do")
                continue
            with connection.cursor() as cursor:
                if not rls.mark_search_functions_leakproof(cursor):
                    raise CommandError(
                        f"{alias}: the role {connection.settings_dict['USER']!r} is not a superuser; connect as one "
                        "(e.g. DATABASE_URL=postgres://postgres@…) to run this command."
                    )
            self.stdout.write(f"{alias}: {', '.join(rls.SEARCH_FUNCTIONS)} marked LEAKPROOF")
