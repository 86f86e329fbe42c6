"""The agents layer's background work: moving an agent's tables, started from the admin."""

import logging

from django.tasks import task

from . import moving
from .models import AgentMove

logger = logging.getLogger(__name__)


@task()
def run_agent_move(move_id):
    """Run (or resume) a move from its recorded step; a move that stops keeps its reason for the admin."""
    move = AgentMove.objects.filter(pk=move_id).exclude(step=AgentMove.Step.DONE).first()
    if move is None:
        return "done already"
    try:
        moving.move_agent(move)
    except moving.MoveError as error:
        logger.warning("Move %s of agent %s stopped: %s", move.pk, move.agent_id, error)
        return f"stopped: {error}"
    return "done"
