from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from crm import rls
from crm.routers import agent_databases


class Command(BaseCommand):
    help = (
        "Let ROLE (the web processes' login, which must not own the tables) read and write every table, "
        "those made later included, but never the row scope's keys (docs/security.md). Run as the owner."
    )

    def add_arguments(self, parser):
        parser.add_argument("role")
        parser.add_argument("--database", action="append", help="Only this database (default: every one)")

    def handle(self, *args, role, database, **options):
        for alias in database or agent_databases():
            connection = connections[alias]
            if connection.vendor != "postgresql":
                raise CommandError("roles and grants are PostgreSQL's")
            rls.prepare_database(connection)
            name = connection.ops.quote_name(role)
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
                found = cursor.fetchone()
                if found is None:
                    raise CommandError(f"no role {role!r}: CREATE ROLE {name} LOGIN PASSWORD '…' first")
                if found[0]:
                    raise CommandError(f"{role!r} is a superuser or bypasses row security: use an ordinary role")
                for sql in rls.web_role_grants_sql(name):
                    cursor.execute(sql)
            self.stdout.write(f"{alias}: {role} may read and write the tables under row security")
