"""Reaching customers first: who may receive marketing, and each shop's words for "stop" and "start"."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from agents.models import Agent

DEFAULT_STOP_WORDS = (
    "stop\nstop promotions\nunsubscribe\nopt out\n"  # English, and Meta's own marketing opt-out button
    "baja\ndarme de baja\nno más mensajes\n"  # Spanish
    "parar\nsair\ndescadastrar\n"  # Portuguese
    "arrêt\ndésabonner\n"  # French
    "stopp\nabmelden"  # German
)
DEFAULT_START_WORDS = "start\nsubscribe\nalta\nvolver\ncomeçar\nreprendre\nanmelden"
DEFAULT_OPT_OUT_REPLY = "You will not receive promotions from us any more. Reply START to receive them again."
DEFAULT_OPT_IN_REPLY = "You will receive our promotions again. Reply STOP to stop them."
DEFAULT_AWAY_MESSAGE = "Thanks for your message! We are closed right now and will answer as soon as we open."
DEFAULT_GREETING = "Hi {first_name}, thanks for writing to {shop}! We will answer you shortly."
DEFAULT_CART_REMINDER = (
    "Hi {first_name}, your order {order} is waiting for you. Reply here to confirm it, or tell us what to change."
)


class MarketingPreference(models.Model):
    """Whether one customer of an agent takes marketing messages, with when, how and why it last changed.

    No row: the customer never said (marketing allowed). A table every agent shares, one row per
    customer that changed it, under row security keyed on the agent (crm/rls.py).
    """

    class Source(models.TextChoices):
        KEYWORD = "keyword", "wrote a stop or start word"
        BUTTON = "button", "tapped a template button"
        META = "meta", "told WhatsApp"
        SELLER = "seller", "set by the shop"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField(help_text="The customer's id in the agent's customers table.")
    opted_out = models.BooleanField()
    source = models.CharField(max_length=16, choices=Source.choices)
    detail = models.CharField(max_length=200, blank=True, help_text="What the customer wrote, tapped or Meta said.")
    changed_at = models.DateTimeField(db_default=Now())
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "outreach_marketing_preferences"
        constraints = [
            models.UniqueConstraint(fields=["agent", "customer_id"], name="outreach_marketing_one_per_customer")
        ]
        indexes = [
            models.Index(fields=["agent", "customer_id"], condition=models.Q(opted_out=True), name="outreach_opted_out")
        ]

    def __str__(self):
        return f"customer {self.customer_id}: {'opted out' if self.opted_out else 'opted in'}"


class OutreachSettings(models.Model):
    """An agent's words for opting out and in, and the replies that confirm each (empty: no reply)."""

    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="+", primary_key=True)
    stop_words = models.TextField(
        max_length=2000,
        default=DEFAULT_STOP_WORDS,
        help_text="A customer who writes one of these (the whole message, any case) stops marketing. One per line.",
    )
    start_words = models.TextField(
        max_length=2000,
        default=DEFAULT_START_WORDS,
        help_text="A customer who opted out and writes one of these takes marketing again. One per line.",
    )
    opt_out_reply = models.TextField(max_length=1024, blank=True, default=DEFAULT_OPT_OUT_REPLY)
    opt_in_reply = models.TextField(max_length=1024, blank=True, default=DEFAULT_OPT_IN_REPLY)
    # Broadcast pacing: Meta's throughput per number, and the number's messaging limit (customers a
    # business may start conversations with in a rolling 24 hours: 250 for a new number, then 1,000...).
    messages_per_second = models.PositiveSmallIntegerField(
        default=10, help_text="Broadcast messages sent per second at most (Meta allows up to 80)."
    )
    # Business hours and automatic replies (outreach/autoreplies.py). Hours: {"0": [["09:00", "18:00"]], ...},
    # Monday is "0", in the shop's time zone; no entry for a day: closed that day; none at all: always open.
    opening_hours = models.JSONField(default=dict, blank=True)
    holidays = models.JSONField(default=list, blank=True, help_text='Closed days, "YYYY-MM-DD".')
    away_enabled = models.BooleanField(default=False)
    away_message = models.TextField(max_length=1024, default=DEFAULT_AWAY_MESSAGE)
    greeting_enabled = models.BooleanField(default=False)
    greeting_message = models.TextField(max_length=1024, default=DEFAULT_GREETING)
    auto_reply_hours = models.PositiveSmallIntegerField(
        default=24, help_text="Hours before the same automatic reply goes to the same customer again."
    )
    # A WhatsApp cart left as a draft order: one reminder after this many hours (outreach/carts.py).
    cart_reminder_enabled = models.BooleanField(default=True)
    cart_reminder_hours = models.PositiveSmallIntegerField(default=4)
    cart_reminder_text = models.TextField(max_length=1024, default=DEFAULT_CART_REMINDER)
    cart_reminder_template = models.ForeignKey(
        "whatsapp.MessageTemplate", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    daily_limit = models.PositiveIntegerField(
        default=1000,
        help_text="Customers a broadcast may reach in any 24 hours: your number's messaging limit in WhatsApp Manager.",
    )

    class Meta:
        db_table = "outreach_settings"

    def __str__(self):
        return f"outreach settings of agent {self.agent_id}"


class Broadcast(models.Model):
    """A template sent to an audience of the agent's customers, by the worker, paced and resumable.

    Its recipients are fixed when it is created (who was excluded, and why, included); each is sent at
    most once, by an idempotency key per recipient, however often the worker stops and starts again.
    """

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled"
        SENDING = "sending", "sending"
        PAUSED = "paused", "paused"
        CANCELLED = "cancelled", "cancelled"
        FINISHED = "finished", "finished"

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    template = models.ForeignKey("whatsapp.MessageTemplate", on_delete=models.PROTECT, related_name="+")
    values = models.JSONField(default=dict, help_text="{variable: fixed text or a {customer...} field}.")
    audience = models.JSONField(default=dict, help_text="The filters the recipients were chosen by.")
    status = models.CharField(max_length=16, choices=Status.choices)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now())
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The runner working on it holds it until then (a second runner waits; a dead one's lease runs out).
    leased_until = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=32, blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="Why it waits, when it does (the daily limit).")

    class Meta:
        db_table = "outreach_broadcasts"
        indexes = [models.Index(fields=["agent", "-created_at"], name="outreach_broadcast_recent")]

    def __str__(self):
        return self.name


class BroadcastRecipient(models.Model):
    """One customer of a broadcast: to be sent, sent (its message id), or excluded with the reason."""

    class State(models.TextChoices):
        PENDING = "pending", "waiting"
        SENT = "sent", "handed to WhatsApp"
        FAILED = "failed", "not sent"
        EXCLUDED = "excluded", "excluded"
        SKIPPED = "skipped", "not sent (cancelled)"

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField()
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    state = models.CharField(max_length=16, choices=State.choices)
    reason = models.CharField(max_length=300, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True, help_text="The message in the agent's table.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "outreach_broadcast_recipients"
        constraints = [
            models.UniqueConstraint(fields=["broadcast", "customer_id"], name="outreach_recipient_once"),
        ]
        indexes = [
            models.Index(fields=["broadcast", "state", "id"], name="outreach_recipient_state"),
            models.Index(fields=["agent", "sent_at"], name="outreach_recipient_sent"),
        ]

    def __str__(self):
        return f"{self.name or self.phone} ({self.state})"


class CartReminder(models.Model):
    """The one reminder of a cart left as a draft order: written before it is sent, so there is never a second."""

    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    order_id = models.BigIntegerField(help_text="The draft order in the agent's orders table.")
    created_at = models.DateTimeField(db_default=Now())
    outcome = models.CharField(max_length=300, blank=True)

    class Meta:
        db_table = "outreach_cart_reminders"
        constraints = [models.UniqueConstraint(fields=["agent", "order_id"], name="outreach_cart_reminder_once")]

    def __str__(self):
        return f"reminder of order {self.order_id}: {self.outcome}"
