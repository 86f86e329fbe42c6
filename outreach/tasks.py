"""Outreach's background work: broadcast runners, and the clock's round that starts and resumes them."""

import uuid

from django.tasks import task
from django.utils import timezone

from crm import rls

from . import runner as broadcasts_runner
from .models import Broadcast


@task()
def run_broadcast(broadcast_id, runner=""):
    with rls.unrestricted():
        agent_id = Broadcast.objects.filter(pk=broadcast_id).values_list("agent_id", flat=True).first()
    if agent_id is None:
        return "broadcast gone"
    runner = runner or uuid.uuid4().hex
    with rls.agent_scope(agent_id):
        outcome, again = broadcasts_runner.run(broadcast_id, runner)
    if again is not None:
        _go_on(broadcast_id, runner, again)
    return outcome


def _go_on(broadcast_id, runner, seconds):
    if seconds <= 0:
        run_broadcast.enqueue(broadcast_id, runner)
    elif run_broadcast.get_backend().supports_defer:
        run_broadcast.using(run_after=timezone.now() + timezone.timedelta(seconds=seconds)).enqueue(
            broadcast_id, runner
        )
    # Else (a backend that runs tasks at once) the clock starts it again once its hold has run out.


def start_and_resume_broadcasts(now=None):
    """The clock's round (whatsapp.hooks.register_periodic_work): start the scheduled broadcasts whose time
    has come and resume those whose runner died; returns how many runners were started."""
    now = now or timezone.now()
    with rls.unrestricted():
        ids = list(dict.fromkeys(broadcasts_runner.due_broadcasts(now) + broadcasts_runner.stalled_broadcasts(now)))
    for broadcast_id in ids:
        run_broadcast.enqueue(broadcast_id)
    return len(ids)
