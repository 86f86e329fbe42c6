"""How a shop's customers pay (its ways to pay), the `order_details` messages sent for an order to be paid
in WhatsApp, and the payment notifications Meta sends back for them."""

from django.db import models
from django.db.models.functions import Now

from agents.models import Agent


class PaymentSettings(models.Model):
    """A shop's ways to pay. A way is on once it is set up: a link pattern, bank details, cash on delivery
    ticked, or a Meta payment configuration named. No row: no way to pay is offered."""

    class Way(models.TextChoices):
        LINK = "link", "Payment link"
        BANK = "bank", "Bank transfer"
        CASH = "cash", "Cash on delivery"
        META = "meta", "Review and pay in WhatsApp"

    class Gateway(models.TextChoices):
        RAZORPAY = "razorpay", "Razorpay"
        PAYU = "payu", "PayU"
        BILLDESK = "billdesk", "BillDesk"
        ZAAKPAY = "zaakpay", "Zaakpay"

    class Goods(models.TextChoices):
        PHYSICAL = "physical-goods", "Physical goods"
        DIGITAL = "digital-goods", "Digital goods"

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, primary_key=True, related_name="+")
    link_pattern = models.CharField(
        max_length=300,
        blank=True,
        help_text="Your payment provider's link, with {order}, {total} and {currency} filled in for each order.",
    )
    bank_details = models.TextField(max_length=500, blank=True, help_text="Account holder, bank, IBAN or number.")
    cash_on_delivery = models.BooleanField(default=False)
    meta_configuration = models.CharField(
        max_length=60, blank=True, help_text="The payment configuration's name, as set up with Meta."
    )
    meta_gateway = models.CharField(max_length=16, choices=Gateway.choices, default=Gateway.RAZORPAY)
    goods_type = models.CharField(max_length=16, choices=Goods.choices, default=Goods.PHYSICAL)
    default_way = models.CharField(max_length=8, choices=Way.choices, blank=True)
    updated_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "checkout_settings"

    def __str__(self):
        return f"ways to pay of agent {self.agent_id}"

    def ways(self):
        """The ways that are on, in the order they are offered."""
        on = {
            self.Way.LINK: bool(self.link_pattern),
            self.Way.BANK: bool(self.bank_details.strip()),
            self.Way.CASH: self.cash_on_delivery,
            self.Way.META: bool(self.meta_configuration),
        }
        return [way for way in self.Way if on[way]]


class PaymentRequest(models.Model):
    """One `order_details` message sent for an order: its reference_id is how Meta's payment notifications
    name it, so an order is only ever found through a request of the agent the notification came to."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(help_text="The order's id in the agent's orders table.")
    reference_id = models.CharField(max_length=35)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    configuration = models.CharField(max_length=60)
    message_id = models.BigIntegerField(null=True, help_text="The message's id in the agent's messages table.")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "checkout_payment_requests"
        constraints = [
            models.UniqueConstraint(fields=["agent", "reference_id"], name="checkout_request_reference_once")
        ]
        indexes = [models.Index(fields=["agent", "order_id"], name="checkout_request_order")]

    def __str__(self):
        return self.reference_id


class PaymentEvent(models.Model):
    """A payment notification Meta sent (a `statuses` entry of type "payment"), stored once per transaction
    and transaction status. `order_id` is null when its reference names no request of the agent."""

    class Status(models.TextChoices):
        SUCCESS = "success", "Paid"
        PENDING = "pending", "Pending"
        FAILED = "failed", "Failed"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(null=True, help_text="The order's id in the agent's orders table.")
    reference_id = models.CharField(max_length=100)
    transaction_id = models.CharField(max_length=100)
    status = models.CharField(max_length=8, choices=Status.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    currency = models.CharField(max_length=3, blank=True)
    method = models.CharField(max_length=32, blank=True, help_text="upi, card, wallet, netbanking.")
    error = models.CharField(max_length=300, blank=True, help_text="The gateway's reason for a failure.")
    applied = models.BooleanField(default=False, help_text="A success that marked the order paid.")
    received_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "checkout_payment_events"
        constraints = [
            models.UniqueConstraint(fields=["agent", "transaction_id", "status"], name="checkout_payment_event_once")
        ]
        indexes = [models.Index(fields=["agent", "order_id"], name="checkout_payment_event_order")]

    def __str__(self):
        return f"{self.transaction_id} {self.status}"
