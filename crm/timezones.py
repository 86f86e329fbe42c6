"""Pages show times in the browser's time zone, which static/js/app.js keeps in the `tz` cookie."""

import zoneinfo

from django.utils import timezone

COOKIE = "tz"


def zone_named(name):
    """The ZoneInfo for an IANA name like "Europe/Lisbon", or None for anything else."""
    if not name or len(name) > 64:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None


class BrowserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        zone = zone_named(request.COOKIES.get(COOKIE))
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
