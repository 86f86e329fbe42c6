"""What the WhatsApp side holds while an agent's tables move to another database (agents.moving), and
how it lets go: sends already claimed are waited for, queued sends and held webhook events released."""

from django.conf import settings
from django.utils import timezone

from agents import tables

from . import intake, tasks
from .delivery import SEND_LEASE
from .models import WebhookEvent


def sends_in_flight(sender, agent, **kwargs):
    """agent_move_waiting receiver: the agent's sends a worker has claimed and not finished, in words."""
    claimed = (
        tables.for_agent(agent)
        .Message.objects.filter(direction="outbound", status="queued", status_at__gte=timezone.now() - SEND_LEASE)
        .count()
    )
    return f"{claimed} send{'s' if claimed != 1 else ''} under way" if claimed else None


def release_held_work(sender, agent, **kwargs):
    """agent_move_released receiver: every queued send of the agent enqueued again (claims are leases: a send
    enqueued twice goes out once), and the webhook events held for a move made due (processed now when
    the intake processes inline)."""
    Message = tables.for_agent(agent).Message
    queued = list(Message.objects.filter(direction="outbound", status="queued").values_list("pk", flat=True))
    Message.objects.filter(pk__in=queued, status="queued").update(status_at=None)
    for message_id in queued:
        tasks.send_message.enqueue(agent.id, message_id)
    held = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING, summary=intake.HELD_SUMMARY)
    event_ids = list(held.values_list("pk", flat=True))
    held.filter(pk__in=event_ids).update(next_attempt_at=timezone.now())
    if settings.WHATSAPP_PROCESS_INLINE and event_ids:
        intake.process_events_now(event_ids)
