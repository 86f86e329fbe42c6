"""An agent's shop: its name, currency, locale and time zone, and the one way an amount or a date is
written for it (Babel, in the shop's currency and locale), on pages, in CSV files and in WhatsApp messages.

Each dashboard request works as one agent (agents.access), which makes its shop the current one: the
`money` template filter reads it from there; code outside a request passes the shop itself.
"""

import functools
import zoneinfo
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal, InvalidOperation

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from babel.localedata import locale_identifiers
from babel.numbers import format_currency, format_decimal, get_currency_name, list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

import audit
from crm import rls

from .models import Agent, Shop

NAME_MAX_LENGTH = Agent._meta.get_field("name").max_length

_current = ContextVar("current_shop", default=None)


def default_shop():
    """The shop of an agent that has not set its own (unsaved, with no agent)."""
    return Shop(currency=settings.SHOP_DEFAULT_CURRENCY, locale=settings.SHOP_DEFAULT_LOCALE, time_zone="")


def shop_of(agent):
    """The agent's Shop (its defaults, unsaved, when the seller has not set one), read once per agent object."""
    try:
        return agent._shop_cache
    except AttributeError:
        pass
    # Read in the agent's own row scope: a webhook's request works as nobody until it stores for an agent.
    with rls.agent_scope(agent):
        shop = Shop.objects.filter(agent_id=agent.pk).first()
    if shop is None:
        shop = default_shop()
        shop.agent = agent
    agent._shop_cache = shop
    return shop


def read_shops(agents):
    """Read the shops of many agent objects in one query, as shop_of() would one by one (the intake's batch)."""
    missing = {agent.pk: agent for agent in agents if not hasattr(agent, "_shop_cache")}
    if not missing:
        return
    with rls.unrestricted():  # exactly these agents' rows, for the process that routed their messages
        found = {shop.agent_id: shop for shop in Shop.objects.filter(agent_id__in=list(missing))}
    for agent_id, agent in missing.items():
        shop = found.get(agent_id) or default_shop()
        shop.agent = agent
        agent._shop_cache = shop


@contextmanager
def working_for(shop):
    """Run the block with `shop` as the current one (amounts and dates written its way), and in its time zone
    when it has one (else the viewer's, crm.timezones)."""
    token = _current.set(shop)
    zone = zone_named(shop.time_zone)
    previous = timezone.get_current_timezone() if zone else None
    if zone:
        timezone.activate(zone)
    try:
        yield shop
    finally:
        _current.reset(token)
        if previous is not None:
            timezone.activate(previous)


def current_shop():
    """The shop of the agent the request works as, or None outside one."""
    return _current.get()


# Writing amounts and dates ------------------------------------------------------------------------------


def _decimal(amount):
    try:
        number = Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def format_money(amount, shop, currency=None):
    """`amount` in `currency` (the shop's by default), written in the shop's locale: "1.234,50 €" for
    de_DE, "$1,234.50" for en_US; "" for what is not a number."""
    number = _decimal(amount)
    if number is None:
        return ""
    return format_currency(number, currency or shop.currency, locale=shop.locale)


def format_number(amount, shop):
    """`amount` with two decimals in the shop's locale, without a currency ("1.234,50")."""
    number = _decimal(amount)
    if number is None:
        return ""
    return format_decimal(number, format="#,##0.00", locale=shop.locale)


def format_date(value, shop, length="medium"):
    """A date (or the date of a datetime, in the current time zone) in the shop's locale: "7 Dec 2026"."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return babel_format_date(value, format=length, locale=shop.locale)


def format_datetime(value, shop, length="medium"):
    """A datetime in the current time zone (the shop's, or the viewer's) and the shop's locale."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    # The date as format_date writes it and the time without seconds ("7 Dec 2026, 14:05", "Dec 7, 2026, 2:05 PM").
    time = babel_format_time(value, format="short", tzinfo=value.tzinfo, locale=shop.locale)
    return f"{babel_format_date(value.date(), format=length, locale=shop.locale)}, {time}"


# What a seller may choose ---------------------------------------------------------------------------


@functools.cache
def currency_choices():
    """[(code, "EUR – Euro")] of every ISO 4217 currency Babel knows, by code."""
    return [(code, f"{code} – {get_currency_name(code, locale='en')}") for code in sorted(list_currencies())]


@functools.cache
def locale_choices():
    """[(identifier, "German (Germany)")] of Babel's locales with a territory, by name."""
    choices = []
    for identifier in locale_identifiers():
        locale = Locale.parse(identifier)
        name = locale.get_display_name("en")
        if name and locale.territory and not locale.script and not locale.variant:
            choices.append((identifier, name))
    return sorted(choices, key=lambda choice: choice[1])


@functools.cache
def time_zone_choices():
    return sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


def zone_named(name):
    if not name or name not in time_zone_choices():
        return None
    return zoneinfo.ZoneInfo(name)


def clean_currency(code):
    code = (code or "").strip().upper()
    if code not in {choice for choice, _ in currency_choices()}:
        raise ValidationError("Choose a currency from the list (an ISO 4217 code such as EUR).", code="currency")
    return code


def clean_locale(identifier):
    identifier = (identifier or "").strip().replace("-", "_")
    try:
        Locale.parse(identifier)
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError("Choose a language and country from the list (such as de_DE).", code="locale")
    return identifier


def clean_time_zone(name):
    name = (name or "").strip()
    if name and zone_named(name) is None:
        raise ValidationError("Choose a time zone from the list (such as Europe/Berlin).", code="time_zone")
    return name


def clean_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError("Enter the shop's name.", code="required")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"The shop's name can be at most {NAME_MAX_LENGTH} characters (this one has {len(name):,}).",
            code="max_length",
        )
    return name


def save_shop(agent, *, name, currency, locale, time_zone, actor, request=None):
    """Set the shop's name, currency, locale and time zone (each checked); returns the Shop."""
    name, currency = clean_name(name), clean_currency(currency)
    locale, time_zone = clean_locale(locale), clean_time_zone(time_zone)
    before = shop_of(agent)
    old = {"name": agent.name, "currency": before.currency, "locale": before.locale, "time_zone": before.time_zone}
    with transaction.atomic():
        Agent.objects.filter(pk=agent.pk).update(name=name)
        agent.name = name
        shop, _ = Shop.objects.update_or_create(
            agent=agent, defaults={"currency": currency, "locale": locale, "time_zone": time_zone}
        )
        new = {"name": name, "currency": currency, "locale": locale, "time_zone": time_zone}
        audit.record(
            "shop.changed",
            actor=actor,
            target=agent,
            request=request,
            changed={key: [old[key], new[key]] for key in new if old[key] != new[key]},
        )
    agent._shop_cache = shop
    return shop
