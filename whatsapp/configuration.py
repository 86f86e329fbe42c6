"""Saving a user's WhatsApp configuration: the one place that writes it, token encrypted."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from agents.models import Agent

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


def agent_for_configuration(configuration):
    """The agent whose inbox this configuration's number serves: the one it names, else its user's oldest."""
    if configuration.agent_id is not None:
        return configuration.agent
    return Agent.objects.filter(user_id=configuration.user_id).order_by("id").first()


def configuration_for_agent(agent):
    """The active configuration whose number serves `agent` (sending, read receipts, templates), or None."""
    configurations = WhatsAppConfiguration.objects.filter(is_active=True)
    configuration = configurations.filter(agent=agent).first()
    if configuration is None and agent.user_id is not None:
        configuration = configurations.filter(user_id=agent.user_id, agent__isnull=True).first()
        if configuration is not None and agent_for_configuration(configuration) != agent:
            configuration = None
    return configuration
