"""A shop's ways to pay and what the customer reads about them: the seller's own payment link filled in for
the order, bank details with the order number as the reference, or cash on delivery."""

import re
from decimal import Decimal
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

import audit

from .models import PaymentSettings

PLACEHOLDER = re.compile(r"\{(order|total|currency)\}")
MAX_LINK_LENGTH = 500
_https = URLValidator(schemes=["https"])


class CheckoutError(ValueError):
    """A way to pay that cannot be offered, with a sentence for the seller."""


def settings_of(agent):
    """The agent's PaymentSettings (unsaved, with nothing on, when it set none)."""
    return PaymentSettings.objects.filter(agent=agent).first() or PaymentSettings(agent=agent)


def save_settings(agent, *, actor, request=None, **values):
    """Save the agent's ways to pay (the fields of PaymentSettings, checked by the form)."""
    with transaction.atomic():
        settings = PaymentSettings.objects.select_for_update().filter(agent=agent).first() or PaymentSettings(
            agent=agent
        )
        for name, value in values.items():
            setattr(settings, name, value)
        if settings.default_way and settings.default_way not in settings.ways():
            settings.default_way = ""
        settings.updated_at = timezone.now()
        settings.save()
        audit.record(
            "checkout.settings_changed",
            actor=actor,
            target=agent,
            request=request,
            agent=agent.agent_prefix,
            ways=",".join(settings.ways()),
        )
    return settings


def fill_link(pattern, *, order, total, currency):
    """The seller's link pattern with {order}, {total} and {currency} filled in (url-encoded).

    Raises CheckoutError unless the result is an https URL: a pattern with another placeholder, a broken
    link or one that is too long is refused, whatever order fills it.
    """
    values = {"order": str(order), "total": f"{Decimal(total):.2f}", "currency": currency}
    link = PLACEHOLDER.sub(lambda match: quote(values[match.group(1)], safe=""), pattern.strip())
    if "{" in link or "}" in link:
        raise CheckoutError("Only {order}, {total} and {currency} can be filled into the link.")
    if len(link) > MAX_LINK_LENGTH:
        raise CheckoutError(f"The filled link would be longer than {MAX_LINK_LENGTH} characters.")
    try:
        _https(link)
    except ValidationError:
        raise CheckoutError("The link must be a web address starting with https://.") from None
    return link


def check_pattern(pattern, currency):
    """CheckoutError unless `pattern` makes an https link for any order (tried with the largest values)."""
    fill_link(pattern, order=9_999_999_999, total=Decimal("999999999999.99"), currency=currency)


def way_for(settings, chosen=""):
    """The way to pay the customer is told of: `chosen` when it is on, else the shop's default, else the
    first way on, else "" (none)."""
    ways = settings.ways()
    for way in (chosen, settings.default_way):
        if way and way in ways:
            return way
    return ways[0] if ways else ""


def payment_lines(settings, way, *, order, currency):
    """The lines of an order summary that say how to pay `order` the `way` chosen ([] for none)."""
    if way == PaymentSettings.Way.LINK:
        link = fill_link(settings.link_pattern, order=order.pk, total=order.total_amount, currency=currency)
        return [f"Pay here: {link}"]
    if way == PaymentSettings.Way.BANK:
        return [
            "Pay by bank transfer to:",
            settings.bank_details.strip(),
            f"Reference: order {order.pk}",
        ]
    if way == PaymentSettings.Way.CASH:
        return ["Payment: cash on delivery."]
    if way == PaymentSettings.Way.META:
        return ["We will send you a request to review and pay in WhatsApp."]
    return []
