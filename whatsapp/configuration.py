"""Saving a user's WhatsApp configuration: the one place that writes it, token encrypted, audited."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.views.decorators.debug import sensitive_variables

import audit
from agents.models import Agent
from crm.phones import to_e164

from . import encryption
from .models import WhatsAppConfiguration

WEBHOOK_PATH = "/whatsapp/webhook/"
# Configuration fields whose changes the audit log records (old and new values). The token is
# recorded only as "changed", never its value.
AUDITED_FIELDS = (
    "user_id",
    "agent_id",
    "whatsapp_number",
    "phone_number_id",
    "business_account_id",
    "webhook_url",
    "is_active",
)


def default_webhook_url():
    return settings.PUBLIC_BASE_URL.rstrip("/") + WEBHOOK_PATH


def audited_values(configuration):
    return {name: getattr(configuration, name) for name in AUDITED_FIELDS}


def record_configuration_change(configuration, *, before, token_changed, actor, request=None, source=None):
    """Audit a configuration just saved: created, or which fields changed (and whether the token did).

    `before` is audited_values() of the configuration as loaded, or None when it is new.
    """
    after = audited_values(configuration)
    extra = {"source": source} if source else {}
    if before is None:
        audit.record(
            "whatsapp.configuration_created",
            actor=actor,
            target=configuration,
            request=request,
            values={name: str(value) if value is not None else None for name, value in after.items()},
            **extra,
        )
        return
    changes = {
        name: {
            "from": str(before[name]) if before[name] is not None else None,
            "to": str(after[name]) if after[name] is not None else None,
        }
        for name in AUDITED_FIELDS
        if before[name] != after[name]
    }
    if changes:
        audit.record(
            "whatsapp.configuration_changed",
            actor=actor,
            target=configuration,
            request=request,
            changes=changes,
            **extra,
        )
    if token_changed:
        audit.record("whatsapp.access_token_changed", actor=actor, target=configuration, request=request, **extra)


@sensitive_variables("access_token")
def save_configuration(
    *,
    user,
    whatsapp_number,
    phone_number_id,
    business_account_id=None,
    webhook_url=None,
    access_token="",
    actor=None,
    request=None,
):
    """Create or update `user`'s configuration; returns (configuration, created).

    An empty access_token keeps the stored one; a new configuration needs one. `actor` (None for
    the command line) and `request` go to the audit log.
    """
    if not (phone_number_id or "").strip():
        raise ValidationError("The phone number id is required.")
    with transaction.atomic():
        configuration = WhatsAppConfiguration.objects.select_for_update().filter(user=user).first()
        created = configuration is None
        if created:
            configuration = WhatsAppConfiguration(user=user)
        before = None if created else audited_values(configuration)
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
        record_configuration_change(
            configuration,
            before=before,
            token_changed=bool(access_token) and not created,
            actor=actor,
            request=request,
            source=None if actor else "configure_whatsapp command",
        )
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


def encrypt_adopted_access_tokens(report, **kwargs):
    """An adopted contract database stores api_key as the token itself; this app keeps it encrypted."""
    plain = [
        configuration
        for configuration in WhatsAppConfiguration.objects.exclude(api_key=None).exclude(api_key="")
        if not encryption.is_encrypted(configuration.api_key)
    ]
    for configuration in plain:
        configuration.set_access_token(configuration.api_key)
        WhatsAppConfiguration.objects.filter(pk=configuration.pk).update(api_key=configuration.api_key)
    if plain:
        report(f"whatsapp_configuration: encrypted {len(plain)} access token(s)")
