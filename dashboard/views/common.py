"""What several dashboard views share: the day boundaries in the viewer's zone, bad-input answers."""

from django.shortcuts import render
from django.utils import timezone


def today_start():
    """Midnight today in the viewer's time zone (see crm.timezones)."""
    return timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)


def month_start():
    return today_start().replace(day=1)


def bad_request(request, message):
    """A clear 400 page for input we cannot use (a damaged page link, an unknown filter)."""
    return render(request, "agents/bad_request.html", {"message": message}, status=400)


def choice(request, name, allowed, default):
    """GET parameter `name` if it is one of `allowed`, the default when absent, None when invalid."""
    value = request.GET.get(name, "") or default
    return value if value in allowed else None


def is_htmx(request):
    """Whether htmx made the request (it then swaps the answer into the page)."""
    return request.headers.get("HX-Request") == "true"
