"""What a seller chose about alerts: the browsers that receive Web Push, and whether notifications show text.

Both are core tables every agent shares (an `agent` column, row security keyed on it), reached only
through the current agent and its user.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now

from agents.models import Agent


class PushSubscription(models.Model):
    """One browser of a user that receives Web Push for one agent (the PushSubscription the browser gave)."""

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="push_subscriptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    # The push service's URL for this browser: a capability, as secret as a password.
    endpoint = models.TextField()
    # The browser's P-256 public key and authentication secret (base64url), which encrypt each push (RFC 8291).
    p256dh = models.TextField()
    auth = models.TextField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    last_pushed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "alert_push_subscriptions"
        constraints = [
            models.UniqueConstraint(fields=["agent", "endpoint"], name="alert_push_subscriptions_unique_endpoint"),
        ]

    def __str__(self):
        return f"push to {self.user} for {self.agent}"


class AlertSettings(models.Model):
    """A user's choices for one agent's alerts; no row means the defaults."""

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="alert_settings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_settings")
    show_message_text = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Notifications show what the customer wrote (it then passes through the push service, encrypted).",
    )
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)

    class Meta:
        db_table = "alert_settings"
        constraints = [models.UniqueConstraint(fields=["agent", "user"], name="alert_settings_unique_user")]

    def __str__(self):
        return f"alerts of {self.user} for {self.agent}"
