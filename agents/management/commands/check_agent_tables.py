from itertools import batched

from django.core.management.base import BaseCommand, CommandError

from agents import provisioning, shards, tables
from agents.models import Agent
from crm import routers


class Command(BaseCommand):
    help = (
        "Count the agents on each database of the shard map, and find agents whose tables are missing "
        "and tables that no agent claims (left by a crash between two databases' commits). "
        "Exits non-zero while a problem remains."
    )

    def add_arguments(self, parser):
        parser.add_argument("--drop-orphans", action="store_true", help="Drop the tables that no agent claims.")

    def handle(self, *args, drop_orphans=False, **options):
        problems = 0
        counts = shards.agent_counts()
        for database in routers.agent_databases():
            missing = self.agents_missing_tables(database)
            for prefix in missing:
                self.stdout.write(f"{database}: {prefix} is missing tables")
            orphans = provisioning.orphan_prefixes(database)
            if orphans and drop_orphans:
                for prefix in orphans:
                    if provisioning.drop_orphan_tables(database, prefix):
                        self.stdout.write(f"{database}: dropped the orphan tables of {prefix}")
                orphans = provisioning.orphan_prefixes(database)
            if orphans:
                self.stdout.write(f"{database}: orphan tables {', '.join(orphans)} (drop them with --drop-orphans)")
            problems += len(missing) + len(orphans)
            self.stdout.write(f"{database}: {counts.get(database, 0)} agent(s)")
        if problems:
            raise CommandError(f"{problems} problem(s) found.")
        self.stdout.write("every agent has its tables; no orphan tables")

    def agents_missing_tables(self, database):
        missing = []
        agents = Agent.objects.filter(database=database).only("id", "agent_prefix", "database", "table_version")
        for chunk in batched(agents.iterator(chunk_size=1000), 1000):
            found = provisioning.existing_tables(chunk)
            missing += [
                agent.agent_prefix
                for agent in chunk
                if found[agent.id] != set(tables.table_names(agent.agent_prefix, agent.table_version))
            ]
        return missing
