"""Template helpers of the dashboard: avatars, short times, money, phone numbers, why a message failed."""

from decimal import Decimal, InvalidOperation

from django import template
from django.template.defaultfilters import date as date_filter

from agents import shop
from agents.customers import display_phone, reach_line
from dashboard import dates
from dashboard.customers import avatar_of
from dashboard.rendering import whatsapp_markup
from whatsapp.send import REACTIONS, failure_reason

register = template.Library()
register.filter("short_time", dates.short_time)
register.filter("failure_reason", failure_reason)


@register.inclusion_tag("agents/_avatar.html")
def avatar(customer, size="md"):
    return {"avatar": avatar_of(customer), "size": size}


@register.filter
def money(value, currency=None):
    """An amount in the current shop's currency (or `currency`, e.g. a cart's) and locale (agents.shop)."""
    current = shop.current_shop()
    if current is not None:
        return shop.format_money(value, current, currency or None)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{currency} {number:,.2f}" if currency else f"{number:,.2f}"


@register.filter
def foreign_currency(currency):
    """Whether an order's `currency` (a cart's) is another than the current shop's."""
    current = shop.current_shop()
    return bool(currency) and current is not None and currency != current.currency


@register.filter
def shop_date(value, length="medium"):
    """A date in the current shop's locale ("7 Dec 2026", "07.12.2026"), in the current time zone."""
    current = shop.current_shop()
    if value in (None, ""):
        return ""
    if current is None:
        return date_filter(value, "j M Y")
    return shop.format_date(value, current, length)


@register.filter
def shop_datetime(value, length="medium"):
    """A date and time in the current shop's locale, in the current time zone (the shop's or the viewer's)."""
    current = shop.current_shop()
    if value in (None, ""):
        return ""
    if current is None:
        return date_filter(value, "j M Y, H:i")
    return shop.format_datetime(value, current, length)


register.filter("phone_display", display_phone)
register.filter("reach_line", reach_line)
register.filter("whatsapp", whatsapp_markup)


@register.simple_tag
def reaction_choices():
    """The emoji a seller may react with (whatsapp.send.REACTIONS)."""
    return REACTIONS


@register.filter
def product_price(product):
    """A product's price as every catalog page shows it: in its own currency when it has one, else the shop's,
    written by the shop's money formatter."""
    return money(product.price, product.currency or None)
