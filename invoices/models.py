"""Each shop's invoice numbers: the counter a number is taken from, and the number each order was given."""

from django.db import models
from django.db.models.functions import Now

from agents.models import Agent

PREFIX_MAX_LENGTH = 20


def number_label(prefix, number):
    """An invoice number as it is printed: the prefix, then the number on at least four digits ("INV-2026-0042")."""
    return f"{prefix}{number:04d}"


class InvoiceCounter(models.Model):
    """One per shop: the prefix its invoice numbers are written with and the last number given.

    A table every agent shares, under row security keyed on the agent (crm/rls.py). The row is locked
    while a number is taken from it (invoices.numbering), so two orders never get the same number and
    none is skipped.
    """

    agent = models.OneToOneField(
        Agent, on_delete=models.CASCADE, primary_key=True, db_column="agent_id", related_name="+"
    )
    prefix = models.CharField(max_length=PREFIX_MAX_LENGTH, blank=True, default="")
    last_number = models.BigIntegerField(default=0)

    class Meta:
        db_table = "invoice_counters"
        constraints = [models.CheckConstraint(condition=models.Q(last_number__gte=0), name="invoice_counter_positive")]

    def __str__(self):
        return f"{self.agent}: {self.prefix}{self.last_number}"


class Invoice(models.Model):
    """The number an order of the agent was given when its invoice was first made; it never changes.

    `order_id` is the order's id in the agent's orders table (no foreign key: agent tables may live on
    another database). The prefix is kept as it was then, so a later change of prefix leaves the
    numbers already sent as they were.
    """

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    order_id = models.IntegerField(help_text="The order's id in the agent's orders table.")
    number = models.BigIntegerField()
    prefix = models.CharField(max_length=PREFIX_MAX_LENGTH, blank=True, default="")
    issued_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "invoices"
        constraints = [
            models.UniqueConstraint(fields=["agent", "number"], name="invoice_number_once_per_shop"),
            models.UniqueConstraint(fields=["agent", "order_id"], name="invoice_once_per_order"),
            models.CheckConstraint(condition=models.Q(number__gt=0), name="invoice_number_positive"),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self):
        return number_label(self.prefix, self.number)
