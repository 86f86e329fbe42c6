from django.core.management.base import BaseCommand

from agents import tables
from agents.connections import recycle_connections_that_served_many_agents
from agents.models import Agent
from agents.provisioning import upgrade_agent_tables


class Command(BaseCommand):
    help = "Bring every agent's tables, on every database, to the current version. Safe to run again."

    def handle(self, *args, **options):
        upgraded = 0
        stale = Agent.objects.filter(table_version__lt=tables.CURRENT_VERSION).order_by("id")
        # Ids first: the loop may close connections (below), which would end a server-side cursor.
        for agent in (Agent.objects.get(pk=pk) for pk in list(stale.values_list("pk", flat=True))):
            applied = upgrade_agent_tables(agent)
            if applied:
                upgraded += 1
                self.stdout.write(
                    f"{agent.agent_prefix} ({agent.database}): applied version(s) {', '.join(map(str, applied))}"
                )
            # Thousands of agents' DDL would grow this process's backends like any long-lived request.
            recycle_connections_that_served_many_agents()
        self.stdout.write(
            f"{upgraded} agent(s) upgraded; every agent's tables are at version {tables.CURRENT_VERSION}."
        )
