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
from whatsapp import payloads
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


def preference(agent, customer_id):
    """The customer's MarketingPreference row, or None (they never said: marketing allowed)."""
    return MarketingPreference.objects.filter(agent=agent, customer_id=customer_id).first()


def opted_out_customer_ids(agent):
    """The ids of the agent's customers who opted out of marketing (a queryset, for a subquery)."""
    return MarketingPreference.objects.filter(agent=agent, opted_out=True).values("customer_id")


def change(agent, customer_id, *, opted_out, source, detail="", by=None):
    """Record that the customer opted out (or back in); returns whether anything changed.

    Opting in a customer who never opted out records nothing: there is nothing to undo.
    """
    with transaction.atomic(using=MarketingPreference.objects.db):
        current = MarketingPreference.objects.select_for_update().filter(agent=agent, customer_id=customer_id).first()
        if (current.opted_out if current else False) == opted_out:
            return False
        MarketingPreference.objects.update_or_create(
            agent=agent,
            customer_id=customer_id,
            defaults={
                "opted_out": opted_out,
                "source": source,
                "detail": detail[:200],
                "changed_at": timezone.now(),
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
    shop = settings_of(agent)
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
