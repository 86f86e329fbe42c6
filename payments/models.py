"""The money ledger: each payment a customer made for an agent's order, and each refund of one."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from agents.models import Agent

AMOUNT_MAX_DIGITS = 14
AMOUNT_DECIMAL_PLACES = 2


class Payment(models.Model):
    """Money in (a payment) or out (a refund of one payment) for one order of an agent.

    A table every agent shares, keyed by `agent`, under row security (crm/rls.py). `order_id` is the
    order's id in the agent's `agt_<id>_orders` (another database may hold it: no foreign key).
    Written only through payments.ledger, which keeps refunds within what their payment left.
    """

    class Kind(models.TextChoices):
        PAYMENT = "payment", "Payment"
        REFUND = "refund", "Refund"

    class Method(models.TextChoices):
        LINK = "link", "Payment link"
        BANK_TRANSFER = "bank_transfer", "Bank transfer"
        CASH = "cash", "Cash"
        WHATSAPP_PAY = "whatsapp_pay", "WhatsApp Pay"
        OTHER = "other", "Other"

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(help_text="The order's id in the agent's orders table.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=AMOUNT_MAX_DIGITS, decimal_places=AMOUNT_DECIMAL_PLACES)
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    source = models.CharField(
        max_length=16, default="manual", help_text="Who recorded it: manual (a seller), or a payment provider."
    )
    reference = models.CharField(max_length=200, blank=True, help_text="The payment's reference (a transfer id).")
    note = models.CharField(max_length=500, blank=True, help_text="A refund's reason.")
    proof_message_id = models.BigIntegerField(
        null=True, blank=True, help_text="The customer's image or document (agent messages table) proving it."
    )
    refunds = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund_set",
        help_text="A refund's payment.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "payments_ledger"
        indexes = [models.Index(fields=["agent", "order_id"], name="payments_ledger_order")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payments_ledger_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="payment", refunds__isnull=True)
                | models.Q(kind="refund", refunds__isnull=False),
                name="payments_ledger_refund_of_payment",
            ),
            models.UniqueConstraint(
                fields=["agent", "source", "reference"],
                condition=models.Q(kind="payment") & ~models.Q(reference=""),
                name="payments_ledger_one_per_reference",
            ),
        ]

    def __str__(self):
        return f"{self.kind} of {self.amount} for order {self.order_id}"
