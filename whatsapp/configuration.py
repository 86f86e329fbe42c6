"""A user's WhatsApp configuration: the one place that writes it (token encrypted, audited), and the one
rule that routes its number to an agent (route) and an agent back to its number (configuration_for_agent)."""

from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
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
    "catalog_id",
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


class Route(NamedTuple):
    configuration: WhatsAppConfiguration
    agent: Agent


def route(phone_number_ids):
    """{phone number id: Route(configuration, agent)} for each of the ids that reaches an agent, in two queries.

    The rule, the only one: a number routes through its active configuration (an inactive one receives,
    sends and downloads nothing), to the configuration's `agent` when set, else to its user's oldest
    agent (first created, then lowest id). configuration_for_agent reads it backwards.
    """
    configurations = WhatsAppConfiguration.objects.routable().filter(phone_number_id__in=set(phone_number_ids))
    return {
        configuration.phone_number_id: Route(configuration, agent) for configuration, agent in _routed(configurations)
    }


def _routed(configurations):
    """(configuration, agent) for each of the routable `configurations` that reaches an agent."""
    configurations = list(configurations.select_related("agent"))
    users = {configuration.user_id for configuration in configurations if configuration.agent_id is None}
    oldest = {}
    for agent in Agent.objects.filter(user_id__in=users).order_by("created_at", "id") if users else ():
        oldest.setdefault(agent.user_id, agent)
    for configuration in configurations:
        agent = configuration.agent if configuration.agent_id is not None else oldest.get(configuration.user_id)
        if agent is not None:
            yield configuration, agent


def configuration_for_agent(agent):
    """The configuration whose number routes to `agent` (sending, read receipts, templates, media), or None."""
    serving = Q(agent=agent)
    if agent.user_id is not None:
        serving |= Q(agent__isnull=True, user_id=agent.user_id)
    configurations = WhatsAppConfiguration.objects.routable().filter(serving).order_by("id")
    return next((configuration for configuration, routed in _routed(configurations) if routed.pk == agent.pk), None)


def agent_for_configuration(configuration):
    """The agent `configuration`'s number routes to, or None (inactive, without a number, or no agent)."""
    routed = route([configuration.phone_number_id]).get(configuration.phone_number_id)
    return routed.agent if routed is not None and routed.configuration.pk == configuration.pk else None


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
