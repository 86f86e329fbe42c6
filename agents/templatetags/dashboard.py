"""Template helpers of the dashboard: avatars, short times, money, delivery ticks."""

import datetime as dt
import hashlib
from decimal import Decimal, InvalidOperation

import phonenumbers
from django import template
from django.urls import reverse
from django.utils import timezone

from agents.customers import initials

register = template.Library()

AVATAR_COLOURS = 8
TICKS = {
    "queued": ("🕓", "Queued"),
    "sent": ("✓", "Sent"),
    "delivered": ("✓✓", "Delivered"),
    "read": ("✓✓", "Read"),
    "failed": ("⚠", "Failed"),
}


@register.inclusion_tag("agents/_avatar.html")
def avatar(customer, size="md"):
    picture = None
    if customer.profile_image_url:
        version = hashlib.blake2b(customer.profile_image_url.encode(), digest_size=6).hexdigest()
        picture = f"{reverse('customer_avatar', args=[customer.pk])}?v={version}"
    return {
        "picture": picture,
        "initials": initials(customer.name),
        "colour": customer.pk % AVATAR_COLOURS,
        "size": size,
    }


@register.filter
def short_time(value):
    """How a chat app says when: 14:05 today, Yesterday, Mon within the week, 12 May, 12 May 2025."""
    if not isinstance(value, dt.datetime):
        return ""
    local = timezone.localtime(value)
    today = timezone.localdate()
    days = (today - local.date()).days
    if days <= 0:
        return local.strftime("%H:%M")
    if days == 1:
        return "Yesterday"
    if days < 7:
        return local.strftime("%a")
    if local.year == today.year:
        return f"{local.day} {local.strftime('%b')}"
    return f"{local.day} {local.strftime('%b %Y')}"


@register.filter
def day_label(value):
    """The date line between messages of different days: Today, Yesterday, Monday 12 May 2025."""
    if not isinstance(value, dt.datetime):
        return ""
    local = timezone.localtime(value).date()
    days = (timezone.localdate() - local).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    return f"{local.strftime('%A')} {local.day} {local.strftime('%B %Y')}"


@register.filter
def local_day(value):
    return timezone.localtime(value).date() if isinstance(value, dt.datetime) else None


@register.filter
def money(value):
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    return f"{number:,.2f}"


@register.filter
def tick_icon(status):
    return TICKS.get(status, ("", ""))[0]


@register.filter
def tick_label(status):
    return TICKS.get(status, ("", status or ""))[1]


@register.filter
def phone_display(phone):
    """+14155550100 -> +1 415-555-0100 (the number's international format), else as stored."""
    try:
        return phonenumbers.format_number(phonenumbers.parse(phone, None), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    except (phonenumbers.NumberParseException, TypeError):
        return phone or ""
