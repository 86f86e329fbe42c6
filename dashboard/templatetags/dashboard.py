"""Template helpers of the dashboard: avatars, short times, money, phone numbers, why a message failed."""

from decimal import Decimal, InvalidOperation

from django import template

from agents.customers import display_phone
from dashboard import dates
from dashboard.customers import avatar_of
from whatsapp.send import failure_reason

register = template.Library()
register.filter("short_time", dates.short_time)
register.filter("failure_reason", failure_reason)


@register.inclusion_tag("agents/_avatar.html")
def avatar(customer, size="md"):
    return {"avatar": avatar_of(customer), "size": size}


@register.filter
def money(value):
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{number:,.2f}"


register.filter("phone_display", display_phone)


@register.filter
def product_price(product):
    """A product's price as every catalog page shows it: "EUR 25.50", or "25.50" in the shop's own currency.

    The one place prices of products are written out, to switch to the shop's money formatter.
    """
    amount = money(product.price)
    return f"{product.currency} {amount}" if product.currency else amount
