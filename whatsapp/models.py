"""A user's WhatsApp Business number and the credentials that reach it through the Cloud API."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.views.decorators.debug import sensitive_variables

from . import encryption


class WhatsAppConfiguration(models.Model):
    """A row of the contract's `whatsapp_configuration` table, one per user.

    `api_key` holds the access token encrypted (whatsapp.encryption); read it with access_token()
    and change it with set_access_token(). Beside the contract's columns: `agent`, the agent whose
    inbox receives this number's messages (empty: the user's oldest agent).
    """

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_column="user_id",
        related_name="whatsapp_configuration",
    )
    whatsapp_number = models.CharField(max_length=32, help_text="The business number, in E.164 (+country code).")
    webhook_url = models.TextField(help_text="The URL Meta posts this number's notifications to.")
    api_key = models.TextField(null=True, blank=True, editable=False)
    business_account_id = models.CharField(max_length=64, null=True, blank=True)
    phone_number_id = models.CharField(max_length=64, null=True, blank=True)
    is_active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)
    agent = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent whose inbox receives this number's messages. Empty: the user's oldest agent.",
    )

    class Meta:
        db_table = "whatsapp_configuration"
        verbose_name = "WhatsApp configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number_id"],
                condition=models.Q(is_active=True, phone_number_id__isnull=False),
                name="whatsapp_configuration_active_phone_number_id",
                violation_error_message="This phone number id is already used by another active configuration.",
            ),
        ]

    def __str__(self):
        return f"{self.whatsapp_number} ({self.user.email})"

    @sensitive_variables("token")
    def set_access_token(self, token):
        self.api_key = encryption.encrypt(token) if token else None

    @sensitive_variables("token")
    def access_token(self):
        return encryption.decrypt(self.api_key) if self.api_key else None

    @property
    @sensitive_variables("token")
    def masked_api_key(self):
        """The token's last four characters, the most any page shows of it."""
        if not self.api_key:
            return "not set"
        try:
            token = self.access_token()
        except encryption.DecryptionError:
            return "unreadable (key missing)"
        # A short token would be given away whole by its last four characters.
        return "••••" + token[-4:] if len(token) >= 16 else "••••"
