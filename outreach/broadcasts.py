"""Broadcasts: an approved template sent to an audience of the agent's customers by the worker: the
audience, making one, pausing, resuming, cancelling and its progress (outreach/runner.py sends it).

The recipients are fixed when the broadcast is made, with who is excluded and why (opted out of
marketing, no phone number).
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.utils import timezone

from agents import tables
from agents.models import CustomerLabel
from agents.shop import format_money, shop_of
from crm import phones
from whatsapp import costs, message_templates
from whatsapp.send import approved_templates

from . import consent, runner, tasks
from .models import Broadcast, BroadcastRecipient

MAX_NUMBERS = 10_000


class BroadcastError(ValueError):
    """A broadcast that cannot be made or changed; str() says why, for the seller."""


@dataclass
class Audience:
    """Which customers a broadcast goes to: all of them, narrowed by each filter given."""

    wrote_from: datetime | None = None
    wrote_to: datetime | None = None
    ordered_from: datetime | None = None
    ordered_to: datetime | None = None
    ordered_item: str = ""
    numbers: list = field(default_factory=list)  # E.164 numbers that must already be customers
    labels: list = field(default_factory=list)  # ids of the agent's labels: customers with any of them

    def as_json(self):
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in self.__dict__.items()
            if value
        }


@dataclass
class Plan:
    """Who a broadcast would reach: [(customer, reason to exclude or "")], and numbers that are no customer."""

    recipients: list
    unknown_numbers: list

    @property
    def included(self):
        return sum(1 for _, reason in self.recipients if not reason)

    @property
    def excluded(self):
        """{reason: how many}"""
        counts = {}
        for _, reason in self.recipients:
            if reason:
                counts[reason] = counts.get(reason, 0) + 1
        return counts


@dataclass
class Estimate:
    """What a broadcast would cost by the seller's price table: {currency: amount}, and how many recipients
    the table has no price for (their country, or the template's category, is missing)."""

    cost: dict
    unpriced: int
    category: str
    cost_text: str  # written the shop's way


def estimate(agent, found, template):
    """The cost of sending `template` to the recipients `found` (a Plan) would reach, by the price table
    (Meta prices each delivered template message by its category and the recipient's country)."""
    prices, category = costs.price_table(agent.pk), (template.category or "").lower()
    cost, unpriced = {}, 0
    for customer, reason in found.recipients:
        if reason:
            continue
        price = costs.price_for(prices, category, customer.phone)
        if price is None:
            unpriced += 1
        else:
            cost[price.currency] = cost.get(price.currency, Decimal(0)) + price.price
    shop = shop_of(agent)
    text = " + ".join(format_money(amount, shop, currency) for currency, amount in sorted(cost.items()))
    return Estimate(cost=cost, unpriced=unpriced, category=category or "no category", cost_text=text)


def parse_numbers(text):
    """The E.164 numbers of a pasted list or CSV (one a line, first column); ValidationError names bad lines."""
    numbers, bad = [], []
    for line_number, line in enumerate((text or "").splitlines(), start=1):
        cell = line.split(",")[0].split(";")[0].strip().strip('"')
        if not cell or not any(ch.isdigit() for ch in cell):
            continue  # a blank line or a header
        try:
            number = phones.to_e164(cell)
        except ValidationError:
            bad.append(f"line {line_number} ({cell[:30]})")
            continue
        if number not in numbers:
            numbers.append(number)
    if bad:
        raise ValidationError(f"Not phone numbers: {', '.join(bad[:5])}{' and more' if len(bad) > 5 else ''}.")
    if len(numbers) > MAX_NUMBERS:
        raise ValidationError(f"At most {MAX_NUMBERS:,} numbers; this list has {len(numbers):,}.")
    return numbers


def audience_customers(agent, agent_tables, audience):
    """The agent's customers the audience's filters select, in id order."""
    customers = agent_tables.Customer.objects.all()
    if audience.labels:
        labelled = CustomerLabel.objects.filter(agent=agent, label_id__in=audience.labels)
        customers = customers.filter(pk__in=list(labelled.values_list("customer_id", flat=True)))
    if audience.wrote_from or audience.wrote_to:
        wrote = agent_tables.Message.objects.filter(direction="inbound")
        if audience.wrote_from:
            wrote = wrote.filter(timestamp__gte=audience.wrote_from)
        if audience.wrote_to:
            wrote = wrote.filter(timestamp__lt=audience.wrote_to)
        customers = customers.filter(pk__in=wrote.values("customer_id"))
    if audience.ordered_from or audience.ordered_to or audience.ordered_item:
        orders = agent_tables.Order.objects.all()
        if audience.ordered_from:
            orders = orders.filter(created_at__gte=audience.ordered_from)
        if audience.ordered_to:
            orders = orders.filter(created_at__lt=audience.ordered_to)
        if audience.ordered_item:
            items = agent_tables.OrderItem.objects.filter(name__icontains=audience.ordered_item)
            orders = orders.filter(pk__in=items.values("order_id"))
        customers = customers.filter(pk__in=orders.values("customer_id"))
    if audience.numbers:
        customers = customers.filter(phone__in=audience.numbers)
    return customers.order_by("pk")


def plan(agent, audience):
    """Who a broadcast to `audience` would reach now, and who it would leave out and why."""
    agent_tables = tables.for_agent(agent)
    opted_out = set(consent.opted_out_customer_ids(agent).values_list("customer_id", flat=True))
    recipients = []
    for customer in audience_customers(agent, agent_tables, audience).only("pk", "name", "phone", "wa_user_id"):
        if customer.pk in opted_out:
            reason = "opted out of marketing"
        elif not customer.phone.startswith("+"):
            reason = "no phone number (known by a WhatsApp user id only)"
        else:
            reason = ""
        recipients.append((customer, reason))
    known = {customer.phone for customer, _ in recipients}
    return Plan(recipients=recipients, unknown_numbers=[n for n in audience.numbers if n not in known])


def broadcast_templates(agent):
    """The approved templates a broadcast can send (those whose variables the app knows how to fill)."""
    return [t for t in approved_templates(agent) if message_templates.unsupported_reason(t) is None]


def create_broadcast(agent, *, name, template, values, audience, user, scheduled_at=None, now=None):
    """Make a broadcast and fix its recipients; it starts now (or at `scheduled_at`) in the worker."""
    now = now or timezone.now()
    template = _template_of(agent, template)
    _check_values(template, values)
    if scheduled_at is not None and scheduled_at <= now:
        raise BroadcastError("Choose a time in the future, or send it now.")
    found = plan(agent, audience)
    if not found.included:
        raise BroadcastError("Nobody in this audience can receive it: change the filters.")
    with transaction.atomic(using=Broadcast.objects.db):
        broadcast = Broadcast.objects.create(
            agent=agent,
            name=name,
            template=template,
            values=values,
            audience=audience.as_json(),
            status=Broadcast.Status.SCHEDULED if scheduled_at else Broadcast.Status.SENDING,
            scheduled_at=scheduled_at,
            created_by=user,
            started_at=None if scheduled_at else now,
        )
        BroadcastRecipient.objects.bulk_create(
            [
                BroadcastRecipient(
                    broadcast=broadcast,
                    agent=agent,
                    customer_id=customer.pk,
                    name=customer.name[:200],
                    phone=customer.phone[:64],
                    state=BroadcastRecipient.State.EXCLUDED if reason else BroadcastRecipient.State.PENDING,
                    reason=reason,
                )
                for customer, reason in found.recipients
            ],
            batch_size=2000,
        )
        if not scheduled_at:
            _start_on_commit(broadcast)
    return broadcast


def _template_of(agent, template):
    template_id = getattr(template, "pk", template)
    found = next((t for t in broadcast_templates(agent) if t.pk == template_id), None)
    if found is None:
        raise BroadcastError("Choose one of the number's approved templates.")
    return found


def _check_values(template, values):
    sample = type("Sample", (), {"name": "Maria Silva", "phone": "+15550000000", "wa_user_id": None})()
    try:
        message_templates.clean_values(template, runner.values_for(values, sample, last_order=1))
    except message_templates.TemplateError as error:
        raise BroadcastError(str(error)) from None


def _start_on_commit(broadcast):
    transaction.on_commit(lambda: tasks.run_broadcast.enqueue(broadcast.pk), using=Broadcast.objects.db)


def pause(broadcast):
    _move(broadcast, {Broadcast.Status.SENDING, Broadcast.Status.SCHEDULED}, Broadcast.Status.PAUSED)


def resume(broadcast):
    _move(broadcast, {Broadcast.Status.PAUSED}, Broadcast.Status.SENDING)
    _start_on_commit(broadcast)


def cancel(broadcast, now=None):
    with transaction.atomic(using=Broadcast.objects.db):
        _move(broadcast, {Broadcast.Status.SENDING, Broadcast.Status.SCHEDULED, Broadcast.Status.PAUSED}, "cancelled")
        broadcast.recipients.filter(state=BroadcastRecipient.State.PENDING).update(
            state=BroadcastRecipient.State.SKIPPED
        )
        Broadcast.objects.filter(pk=broadcast.pk).update(finished_at=now or timezone.now())


def _move(broadcast, allowed, to):
    moved = Broadcast.objects.filter(pk=broadcast.pk, status__in=allowed).update(status=to)
    if not moved:
        broadcast.refresh_from_db(fields=["status"])
        raise BroadcastError(f"The broadcast is {broadcast.get_status_display()}: it cannot be {to} now.")
    broadcast.status = to


def progress(broadcast):
    """{state: count} of the broadcast's recipients, with the messages' own progress for those sent."""
    counts = dict(broadcast.recipients.values_list("state").annotate(n=Count("id")).order_by())
    sent_ids = list(
        broadcast.recipients.filter(state=BroadcastRecipient.State.SENT).values_list("message_id", flat=True)
    )
    Message = tables.for_agent(broadcast.agent).Message
    delivery_counts = {}
    for start in range(0, len(sent_ids), 5000):
        chunk = (
            Message.objects.filter(pk__in=sent_ids[start : start + 5000]).values_list("status").annotate(n=Count("id"))
        )
        for status, n in chunk.order_by():
            delivery_counts[status] = delivery_counts.get(status, 0) + n
    return {"recipients": counts, "messages": delivery_counts, "total": sum(counts.values())}


def recent_broadcasts(agent, limit=100):
    """The agent's latest broadcasts, newest first, each with `counts` ({state: how many recipients})."""
    found = list(Broadcast.objects.filter(agent=agent).select_related("template").order_by("-created_at")[:limit])
    counts = {}
    rows = BroadcastRecipient.objects.filter(broadcast__in=found).values_list("broadcast_id", "state")
    for broadcast_id, state, n in rows.annotate(n=Count("id")).order_by():
        counts.setdefault(broadcast_id, {})[state] = n
    for broadcast in found:
        broadcast.counts = counts.get(broadcast.pk, {})
        broadcast.total = sum(broadcast.counts.values())
    return found


def get_broadcast_or_404(agent, broadcast_id):
    found = Broadcast.objects.filter(agent=agent, pk=broadcast_id).select_related("template").first()
    if found is None:
        raise Http404("No such broadcast.")
    return found


REPORT_ROWS = 200


def report(broadcast):
    """What the broadcast page shows: the progress and the first recipients, each with its message's ticks."""
    figures = progress(broadcast)
    recipients = list(broadcast.recipients.order_by("id")[:REPORT_ROWS])
    Message = tables.for_agent(broadcast.agent).Message
    ids = [r.message_id for r in recipients if r.message_id]
    by_id = {m.pk: m for m in Message.objects.filter(pk__in=ids).only("id", "status", "error_code", "error_title")}
    for recipient in recipients:
        recipient.message = by_id.get(recipient.message_id)
    done = figures["total"] - figures["recipients"].get(BroadcastRecipient.State.PENDING, 0)
    return {"figures": figures, "recipients": recipients, "done": done, "more": figures["total"] - len(recipients)}
