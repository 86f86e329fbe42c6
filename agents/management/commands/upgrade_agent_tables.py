from django.core.management.base import BaseCommand

from agents import tables
from agents.models import Agent
from agents.provisioning import upgrade_agent_tables


class Command(BaseCommand):
    help = "Bring every agent's tables to the current version. Safe to run again."

    def handle(self, *args, **options):
        upgraded = 0
        stale = Agent.objects.filter(table_version__lt=tables.CURRENT_VERSION).order_by("id")
        for agent in stale.iterator(chunk_size=500):
            applied = upgrade_agent_tables(agent)
            if applied:
                upgraded += 1
                self.stdout.write(f"{agent.agent_prefix}: applied version(s) {', '.join(map(str, applied))}")
        self.stdout.write(
            f"{upgraded} agent(s) upgraded; every agent's tables are at version {tables.CURRENT_VERSION}."
        )
