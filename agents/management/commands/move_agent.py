from django.core.management.base import BaseCommand, CommandError

from agents import moving
from agents.models import Agent
from crm import routers


class Command(BaseCommand):
    help = (
        "Move an agent's tables to another database of the shard map (COPY, verified, then switched); its "
        "webhook events and sends wait meanwhile. Safe to run again after a crash: it resumes the move."
    )

    def add_arguments(self, parser):
        parser.add_argument("agent", help="The agent's id or table prefix (agt_12).")
        parser.add_argument("--to", required=True, dest="target", help="The database alias to move it to.")

    def handle(self, *args, agent, target, **options):
        found = Agent.objects.filter(agent_prefix=agent) if agent.startswith("agt_") else None
        if found is None:
            if not agent.isascii() or not agent.isdigit() or len(agent) > 18:
                raise CommandError(f"{agent!r} is neither an agent id nor a table prefix (agt_12).")
            found = Agent.objects.filter(pk=int(agent))
        chosen = found.first()
        if chosen is None:
            raise CommandError(f"There is no agent {agent}.")
        try:
            move = moving.start_move(chosen, target)
            self.stdout.write(f"{chosen.agent_prefix}: {move.source} -> {move.target}, from step {move.step}")
            moving.move_agent(move, after_step=lambda move: self.stdout.write(f"  {move.get_step_display()}"))
        except (moving.MoveError, routers.UnknownAgentDatabase) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{chosen.agent_prefix} now lives on {move.target}.")
