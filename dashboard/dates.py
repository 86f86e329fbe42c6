"""How the dashboard says when, in the viewer's time zone (see crm.timezones)."""

import datetime as dt

from django.utils import timezone


def short_time(moment):
    """How a chat app says when: 14:05 today, Yesterday, Mon within the week, 12 May, 12 May 2025."""
    if not isinstance(moment, dt.datetime):
        return ""
    local = timezone.localtime(moment)
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


def day_label(moment):
    """The date line between days: Today, Yesterday, Monday 12 May 2025."""
    day = timezone.localtime(moment).date()
    days = (timezone.localdate() - day).days
    if days == 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    return f"{day.strftime('%A')} {day.day} {day.strftime('%B %Y')}"
