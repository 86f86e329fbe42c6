from django.core.management.base import BaseCommand, CommandError

from agents.adoption import AdoptionError, adopt_database


class Command(BaseCommand):
    help = (
        "Take over a PostgreSQL database built outside this app from the data contract: keep its users, "
        "agents, WhatsApp configurations and agent tables and their data, add what the app needs beside "
        "them, and bring every agent's tables to the current version. Safe to run again."
    )

    def handle(self, *args, **options):
        try:
            problems = adopt_database(report=self.stdout.write)
        except AdoptionError as error:
            raise CommandError(f"{error}. Nothing was changed.")
        if problems:
            raise CommandError(f"{problems} agent(s) could not be adopted (see above); the rest were.")
        self.stdout.write("Adopted: the app can use this database now.")
