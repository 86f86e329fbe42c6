"""Sending a broadcast: the runner (outreach.tasks.run_broadcast) sends its recipients in order, at most the
shop's messages per second and within its daily limit, a slice of time at a time. Each recipient is sent
under an idempotency key of its own, so a runner killed at any point and started again never sends anyone
twice; pausing and cancelling take effect before the next recipient.
"""

import re
import time
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from agents import tables
from agents.customers import first_name
from whatsapp import delivery
from whatsapp.send import SendError, send_template

from . import consent
from .models import Broadcast, BroadcastRecipient

SLICE_SECONDS = 20  # a runner hands the worker back this often (and is enqueued again)
LEASE = timedelta(minutes=2)  # a runner not heard from for this long is taken to be dead
DAY = timedelta(hours=24)
# What a template variable's value may say about each recipient.
CUSTOMER_FIELDS = {
    "{first_name}": lambda customer, last_order: first_name(customer),
    "{name}": lambda customer, last_order: customer.name,
    "{last_order}": lambda customer, last_order: f"#{last_order}" if last_order else "",
}
_FIELD = re.compile("|".join(re.escape(name) for name in CUSTOMER_FIELDS))


def values_for(values, customer, last_order=None):
    """A broadcast's variable values with each {customer field} filled in for `customer`."""
    return {
        key: _FIELD.sub(lambda match: CUSTOMER_FIELDS[match.group(0)](customer, last_order), str(text))
        for key, text in values.items()
    }


def take(broadcast_id, runner, now):
    """Hold the broadcast for `runner` until now + LEASE: it is sending, and no other runner holds it (a
    runner that died lets go when its lease runs out). False when it cannot be taken."""
    return bool(
        Broadcast.objects.filter(pk=broadcast_id, status=Broadcast.Status.SENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now) | Q(runner=runner))
        .update(leased_until=now + LEASE, runner=runner)
    )


def run(broadcast_id, runner, *, seconds=SLICE_SECONDS, clock=time.monotonic, sleep=time.sleep):
    """Send the broadcast's next recipients for about `seconds` as `runner` (a token its continuations
    carry); returns (what happened, seconds until the runner should go on, or None when it should not).

    While it should go on the runner keeps its hold on the broadcast, so that the clock starts no second
    runner beside its continuation; the clock starts one only once the hold has run out.
    """
    if not take(broadcast_id, runner, timezone.now()):
        return "held by another runner, or not sending", None
    broadcast = Broadcast.objects.select_related("agent", "template", "created_by").get(pk=broadcast_id)
    outcome, again = "stopped by an error", None
    try:
        outcome, again = _run(broadcast, runner, seconds, clock, sleep)
        return outcome, again
    finally:
        held = None if again is None else timezone.now() + timedelta(seconds=again) + LEASE
        Broadcast.objects.filter(pk=broadcast.pk, runner=runner).update(leased_until=held)


def _run(broadcast, runner, seconds, clock, sleep):
    agent = broadcast.agent
    shop = consent.settings_of(agent)
    interval = 1 / max(1, shop.messages_per_second)
    agent_tables = tables.for_agent(agent)
    started = next_send = clock()
    sent = 0
    room = shop.daily_limit - _sent_in_last_day(agent)
    pending = broadcast.recipients.filter(state=BroadcastRecipient.State.PENDING).order_by("id")
    while clock() - started < seconds:
        delay = next_send - clock()
        if delay > 0:
            sleep(delay)
        # Still sending, and still this runner's: the hold renewed in the same statement.
        held = Broadcast.objects.filter(pk=broadcast.pk, status=Broadcast.Status.SENDING, runner=runner)
        if not held.update(leased_until=timezone.now() + LEASE, note=""):
            return f"stopped ({sent} sent)", None
        recipient = pending.first()
        if recipient is None:
            held.update(status=Broadcast.Status.FINISHED, finished_at=timezone.now())
            return f"finished ({sent} sent)", None
        if room <= 0:
            held.update(note=f"Waiting for the daily limit of {shop.daily_limit:,} customers (Outreach settings).")
            return f"daily limit reached ({sent} sent)", _until_room(agent)
        next_send = clock() + interval
        if _send_one(broadcast, agent_tables, recipient):
            sent += 1
            room -= 1
    return f"slice over ({sent} sent)", 0


def _send_one(broadcast, agent_tables, recipient):
    """Send one recipient's message (once, whatever happened before); True when it was handed to WhatsApp."""
    agent = broadcast.agent
    customer = agent_tables.Customer.objects.filter(pk=recipient.customer_id).first()
    if customer is None:
        return _finish(recipient, BroadcastRecipient.State.FAILED, "the customer was erased")
    last_order = agent_tables.Order.objects.filter(customer=customer).order_by("-pk").values_list("pk", flat=True)
    try:
        message = send_template(
            agent,
            customer,
            broadcast.template,
            values_for(broadcast.values, customer, last_order.first()),
            sent_by=broadcast.created_by,
            idempotency_key=f"broadcast-{broadcast.pk}-{customer.pk}",
        )
    except SendError as error:
        state = BroadcastRecipient.State.EXCLUDED if error.code == "opted_out" else BroadcastRecipient.State.FAILED
        return _finish(recipient, state, str(error)[:300])
    # Sent here, paced, rather than by the send task the queueing enqueued (which then finds nothing to do).
    delivery.deliver(agent.pk, message.pk)
    _finish(recipient, BroadcastRecipient.State.SENT, "", message_id=message.pk)
    return True


def _finish(recipient, state, reason, message_id=None):
    BroadcastRecipient.objects.filter(pk=recipient.pk).update(
        state=state, reason=reason, message_id=message_id, sent_at=timezone.now() if message_id else None
    )
    return False


def _sent_in_last_day(agent):
    return BroadcastRecipient.objects.filter(agent=agent, sent_at__gte=timezone.now() - DAY).count()


def _until_room(agent):
    oldest = (
        BroadcastRecipient.objects.filter(agent=agent, sent_at__gte=timezone.now() - DAY)
        .order_by("sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    return max(60.0, ((oldest + DAY) - timezone.now()).total_seconds()) if oldest else 60.0


def due_broadcasts(now):
    """Scheduled broadcasts whose time has come, moved to sending: their ids."""
    due = list(
        Broadcast.objects.filter(status=Broadcast.Status.SCHEDULED, scheduled_at__lte=now).values_list("pk", flat=True)
    )
    Broadcast.objects.filter(pk__in=due, status=Broadcast.Status.SCHEDULED).update(
        status=Broadcast.Status.SENDING, started_at=now
    )
    return due


def stalled_broadcasts(now):
    """Sending broadcasts no runner holds (a runner died, or its continuation was lost): their ids."""
    return list(
        Broadcast.objects.filter(status=Broadcast.Status.SENDING)
        .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
        .values_list("pk", flat=True)
    )
