"""Opting out of marketing: the stop and start words a customer writes or taps, Meta's report of a stop,
the shop's own switch, and the guard that keeps marketing templates from whoever opted out.

Only marketing is refused: service replies and order updates reach an opted-out customer as before.
"""

import logging
import re
import unicodedata

from django.db import transaction
from django.utils import timezone

from agents import tables
from whatsapp import payloads, statuses
from whatsapp.send import AUTOMATIC, SendError, send_text

from .models import MarketingPreference, OutreachSettings

logger = logging.getLogger(__name__)

# Inbound messages that can carry a stop or start word: typed, or a tapped button.
MESSAGE_TYPES = ("text", "button", "interactive")
MARKETING = "MARKETING"
_EDGES = re.compile(r"^[\W_]+|[\W_]+$")


def normalized(text):
    """A phrase as compared: NFKC, case-folded, spaces collapsed, punctuation and emoji at the ends gone."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    return _EDGES.sub("", " ".join(text.split()))


def word_list(text):
    """The words of a settings field (one per line; commas also separate), normalized, in order."""
    found = []
    for line in re.split(r"[\n,]", text or ""):
        word = normalized(line)
        if word and word not in found:
            found.append(word)
    return found


def settings_of(agent):
    """The agent's outreach settings (the defaults until the seller saves them)."""
    return OutreachSettings.objects.filter(agent=agent).first() or OutreachSettings(agent=agent)


_READ_ONCE = "_outreach_settings_read_once"


def settings_read_once(agent):
    """settings_of(agent), read once per agent object: for the intake's handlers, which act on every
    message of a batch with the Agent rows that batch routed to (fresh ones each batch), not to read the
    same row again for each message and each handler."""
    settings = agent.__dict__.get(_READ_ONCE)
    if settings is None:
        settings = agent.__dict__[_READ_ONCE] = settings_of(agent)
    return settings


def preference(agent, customer_id):
    """The customer's MarketingPreference row, or None (they never said: marketing allowed)."""
    return MarketingPreference.objects.filter(agent=agent, customer_id=customer_id).first()


def opted_out_customer_ids(agent):
    """The ids of the agent's customers who opted out of marketing (a queryset, for a subquery)."""
    return MarketingPreference.objects.filter(agent=agent, opted_out=True).values("customer_id")


def change(agent, customer_id, *, opted_out, source, detail="", by=None, at=None):
    """Record that the customer opted out (or back in) at `at` (now by default); returns whether anything
    changed.

    Opting in a customer who never opted out records nothing: there is nothing to undo. News older than the
    last change (a replayed webhook) changes nothing either.
    """
    at, agent_id = at or timezone.now(), getattr(agent, "pk", agent)
    with transaction.atomic(using=MarketingPreference.objects.db):
        mine = MarketingPreference.objects.filter(agent_id=agent_id, customer_id=customer_id)
        current = mine.select_for_update().first()
        if (current.opted_out if current else False) == opted_out or (current and current.changed_at > at):
            return False
        MarketingPreference.objects.update_or_create(
            agent_id=agent_id,
            customer_id=customer_id,
            defaults={
                "opted_out": opted_out,
                "source": source,
                "detail": detail[:200],
                "changed_at": at,
                "changed_by": by,
            },
        )
    return True


def set_by_seller(agent, customer, *, opted_out, user):
    return change(agent, customer.pk, opted_out=opted_out, source=MarketingPreference.Source.SELLER, by=user)


def _said(message):
    """(what the customer said, as written; the source it counts as) of an inbound message."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    if message.wa_type == "button":
        body = payload.get("button") if isinstance(payload.get("button"), dict) else {}
        return [payloads.text(body.get("text")) or "", payloads.text(body.get("payload")) or ""], "button"
    if message.wa_type == "interactive":
        reply = payloads.reply(payload.get("interactive"))
        return [reply.title or "", reply.id or ""], "button"
    return [message.message or ""], "keyword"


def act_on_stored_message(agent, message):
    """The intake's handler (whatsapp.hooks): a stop word opts the customer out, a start word back in,
    each confirmed by the shop's reply (when it has one). Re-deliveries never reach here."""
    if message.direction != "inbound":
        return None
    said, how = _said(message)
    phrases = {normalized(text) for text in said} - {""}
    if not phrases:
        return None
    shop = settings_read_once(agent)
    source = MarketingPreference.Source.BUTTON if how == "button" else MarketingPreference.Source.KEYWORD
    written = next(text for text in said if normalized(text) in phrases)
    if phrases & set(word_list(shop.stop_words)):
        opted_out, reply = True, shop.opt_out_reply
    elif phrases & set(word_list(shop.start_words)):
        opted_out, reply = False, shop.opt_in_reply
    else:
        return None
    if not change(agent, message.customer_id, opted_out=opted_out, source=source, detail=written):
        return None
    if reply.strip():
        _confirm(agent, message, reply)
    return None


def _confirm(agent, message, reply):
    customer = tables.for_agent(agent).Customer.objects.get(pk=message.customer_id)
    try:
        send_text(agent, customer, reply, sent_by=None, idempotency_key=f"{AUTOMATIC}marketing:{message.wamid}")
    except SendError as error:
        logger.warning("the marketing preference reply to %s was not sent: %s", message.wamid, error)


def refuse_marketing_to_opted_out(agent, customer, template):
    """The template guard (whatsapp.hooks): a marketing template never goes to a customer who opted out."""
    if (template.category or "").upper() != MARKETING:
        return
    found = preference(agent, customer.pk)
    if found is not None and found.opted_out:
        when = timezone.localtime(found.changed_at).strftime("%-d %b %Y")
        raise SendError(
            f"{customer.name} opted out of marketing on {when} ({found.get_source_display()}), so the marketing "
            f"template {template.name} cannot be sent to them. Service replies and order updates still can.",
            "opted_out",
        )


def forget_customer(agent, customer, **kwargs):
    """customer_erased receiver: the erased customer's preference goes with them."""
    deleted, _ = MarketingPreference.objects.filter(agent=agent, customer_id=customer.pk).delete()
    return {"marketing_preferences": deleted}


# What Meta says: the user_preferences webhook, and sends refused with 131050.

STOPPED_MARKETING = 131050


def apply_meta_preferences(agent, value):
    """The `user_preferences` change handler (whatsapp.hooks): a customer who told WhatsApp to stop (or resume)
    marketing messages from the shop; returns notices for the webhook event's summary."""
    Customer = tables.for_agent(agent).Customer
    notices = []
    for preference in value.get("user_preferences") or []:
        if not isinstance(preference, dict) or preference.get("category") != "marketing_messages":
            continue
        choice, wa_id = preference.get("value"), str(preference.get("wa_id") or "")
        if choice not in ("stop", "resume") or not wa_id.isdigit():
            notices.append(f"a marketing preference that says nothing usable ({str(choice)[:20]!r} for {wa_id[:20]!r})")
            continue
        customer = Customer.objects.filter(phone=f"+{wa_id}").first()
        if customer is None:
            notices.append(f"a marketing preference of {wa_id}, who is no customer")
            continue
        at = statuses.timestamp_of(preference["timestamp"]) if preference.get("timestamp") else None
        detail = str(preference.get("detail") or f"Meta: {choice}")
        if change(
            agent, customer.pk, opted_out=choice == "stop", source=MarketingPreference.Source.META, detail=detail, at=at
        ):
            notices.append(f"customer {customer.pk} {'stopped' if choice == 'stop' else 'resumed'} marketing")
    return notices


def opt_out_on_refusal(agent_tables, message, status):
    """The status handler (whatsapp.hooks): Meta refused a send with 131050, the customer having stopped the
    shop's marketing messages in WhatsApp: record it, so that no marketing template goes to them again."""
    errors = status.get("errors") if isinstance(status.get("errors"), list) else []
    if message is None or not any(isinstance(e, dict) and e.get("code") == STOPPED_MARKETING for e in errors):
        return
    change(
        agent_tables.agent_id,
        message.customer_id,
        opted_out=True,
        source=MarketingPreference.Source.META,
        detail="Meta refused a marketing message: the customer stopped them (131050)",
        at=statuses.timestamp_of(status["timestamp"]) if status.get("timestamp") else None,
    )
