from django.core.management.base import BaseCommand, CommandError

from agents import schema_sql


class Command(BaseCommand):
    help = (
        "Write database/schema/*.sql (the schema and the create_agent() SQL function, for teams that run it "
        "from a SQL client) and database/migrations/*.sql (upgrade_agent_tables() and a function per table "
        "version) from the app's declarations. Needs a PostgreSQL DATABASE_URL; changes no database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--check", action="store_true", help="Write nothing; fail if a file differs from what would be written."
        )

    def handle(self, *args, check=False, **options):
        try:
            changed = schema_sql.stale_files() if check else schema_sql.write_files()
        except schema_sql.SchemaSQLError as error:
            raise CommandError(f"{error}.")
        directory = schema_sql.DATABASE_DIRECTORY
        if check and changed:
            raise CommandError(
                f"{', '.join(changed)} in {directory} differ from the declarations: run `manage.py write_schema_sql`."
            )
        for name in changed:
            self.stdout.write(f"wrote {directory / name}")
        self.stdout.write(f"{directory}: up to date.")
