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

    class Meta:
        db_table = "outreach_settings"

    def __str__(self):
        return f"outreach settings of agent {self.agent_id}"
