"""Pages show times in the browser's zone, named by the `tz` cookie; anything else falls back to UTC."""

import datetime as dt

from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import timezone

from crm.timezones import BrowserTimezoneMiddleware, zone_named


def zone_during(cookie):
    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = RequestFactory().get("/")
    if cookie is not None:
        request.COOKIES["tz"] = cookie
    BrowserTimezoneMiddleware(view)(request)
    return seen["zone"]


def test_the_cookie_names_the_zone_for_the_request_only():
    assert zone_during("America/Sao_Paulo") == "America/Sao_Paulo"
    assert timezone.get_current_timezone_name() == "UTC"


def test_a_bad_zone_name_is_ignored():
    for cookie in (None, "", "Mars/Olympus", "../../etc/passwd", "x" * 100):
        assert zone_during(cookie) == "UTC"
    assert zone_named("Europe/Lisbon").utcoffset(dt.datetime(2026, 7, 1)) == dt.timedelta(hours=1)
