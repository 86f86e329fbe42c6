"""Invoice numbers: each shop's own sequence, given once per order, never repeated and never skipped.

A number is taken when an order's invoice is first made (downloaded or sent), in one transaction that
locks the shop's counter row: concurrent orders wait for each other and take the next numbers in turn,
and the same order asked for twice gets the number it was given the first time.
"""

import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

import audit
from crm import rls

from .models import PREFIX_MAX_LENGTH, Invoice, InvoiceCounter, number_label

PREFIX_PATTERN = re.compile(r"[A-Za-z0-9#/._ -]*")


def invoice_of(agent, order):
    """The invoice number already given to the agent's order, or None."""
    with rls.agent_scope(agent):
        return Invoice.objects.filter(agent_id=agent.pk, order_id=order.pk).first()


def issue(agent, order):
    """The order's Invoice: the one it was given before, else a new one with the shop's next number.

    `order` is a row of the agent's own orders table (agents.tables.for_agent(agent)); the caller found it
    there, so its id is the agent's.
    """
    with rls.agent_scope(agent):
        existing = Invoice.objects.filter(agent_id=agent.pk, order_id=order.pk).first()
        if existing is not None:
            return existing
        _ensure_counter(agent)
        with transaction.atomic():
            counter = InvoiceCounter.objects.select_for_update().get(agent_id=agent.pk)
            # Asked again under the lock: a concurrent request for the same order may have just given it one.
            existing = Invoice.objects.filter(agent_id=agent.pk, order_id=order.pk).first()
            if existing is not None:
                return existing
            counter.last_number += 1
            counter.save(update_fields=["last_number"])
            return Invoice.objects.create(
                agent_id=agent.pk,
                order_id=order.pk,
                number=counter.last_number,
                prefix=counter.prefix,
                issued_at=timezone.now(),
            )


def prefix_of(agent):
    """The prefix the shop's next invoice numbers are written with ("" when none was set)."""
    counter = _counter(agent)
    return counter.prefix if counter else ""


def next_label(agent):
    """The number the shop's next invoice will get, as printed (for the settings page)."""
    counter = _counter(agent)
    return number_label(counter.prefix, counter.last_number + 1) if counter else number_label("", 1)


def _counter(agent):
    with rls.agent_scope(agent):
        return InvoiceCounter.objects.filter(agent_id=agent.pk).first()


def clean_prefix(prefix):
    prefix = (prefix or "").strip()
    if len(prefix) > PREFIX_MAX_LENGTH:
        raise ValidationError(
            f"The prefix can be at most {PREFIX_MAX_LENGTH} characters (this one has {len(prefix):,}).",
            code="max_length",
        )
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise ValidationError(
            "Use letters, digits, spaces and - / . _ # only in the prefix (such as INV-2026-).", code="invalid"
        )
    if prefix[-1:].isdigit():
        # INV-1 with number 1 would print INV-10001, which is INV- with number 10001.
        raise ValidationError(
            "End the prefix with a letter or a sign, not a digit (INV-2026-, not INV-2026): the number follows it.",
            code="invalid",
        )
    return prefix


def set_prefix(agent, prefix, *, actor, request=None):
    """Write the shop's next invoice numbers with `prefix` (checked); numbers already given keep theirs."""
    prefix = clean_prefix(prefix)
    with rls.agent_scope(agent):
        _ensure_counter(agent)
        with transaction.atomic():
            counter = InvoiceCounter.objects.select_for_update().get(agent_id=agent.pk)
            if counter.prefix == prefix:
                return counter
            old, counter.prefix = counter.prefix, prefix
            counter.save(update_fields=["prefix"])
            audit.record("invoice.prefix_changed", actor=actor, target=agent, request=request, changed=[old, prefix])
    return counter


def _ensure_counter(agent):
    """Make the shop's counter row once (a concurrent first invoice may make it at the same moment)."""
    if InvoiceCounter.objects.filter(agent_id=agent.pk).exists():
        return
    try:
        with transaction.atomic():
            InvoiceCounter.objects.create(agent_id=agent.pk)
    except IntegrityError:
        pass  # made by the concurrent request: the row is there now, which is all that is needed
