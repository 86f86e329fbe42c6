"""Saving a user's WhatsApp configuration: the one place that writes it, token encrypted."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from .models import WhatsAppConfiguration
from .phones import to_e164

WEBHOOK_PATH = "/whatsapp/webhook/"


def default_webhook_url():
    return settings.PUBLIC_BASE_URL.rstrip("/") + WEBHOOK_PATH


def save_configuration(
    *, user, whatsapp_number, phone_number_id, business_account_id=None, webhook_url=None, access_token=""
):
    """Create or update `user`'s configuration; returns (configuration, created).

    An empty access_token keeps the stored one; a new configuration needs one.
    """
    if not (phone_number_id or "").strip():
        raise ValidationError("The phone number id is required.")
    with transaction.atomic():
        configuration = WhatsAppConfiguration.objects.select_for_update().filter(user=user).first()
        created = configuration is None
        if created:
            configuration = WhatsAppConfiguration(user=user)
        if not access_token and not configuration.api_key:
            raise ValidationError("An access token is required (pass it on standard input).")
        configuration.whatsapp_number = to_e164(whatsapp_number)
        configuration.phone_number_id = phone_number_id.strip()
        if business_account_id is not None:
            configuration.business_account_id = business_account_id.strip() or None
        configuration.webhook_url = webhook_url or configuration.webhook_url or default_webhook_url()
        if access_token:
            configuration.set_access_token(access_token)
        configuration.full_clean()
        configuration.save()
    return configuration, created
