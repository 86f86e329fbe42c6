"""Reading text from a request without ever raising on it: whole numbers, dates, and a guard for NUL bytes.

Every number in a URL or form is parsed by `whole_number`, which accepts ASCII digits only ("²" and "٣"
pass `str.isdigit()` but are no number here) within a range; dates by `date_in_range`. NUL characters,
which PostgreSQL refuses in text, are turned away by `RefuseNulBytesMiddleware` before any view runs.
"""

import datetime as dt
import re

from django.http import HttpResponse
from django.urls import Resolver404, resolve

# The largest id of a serial column (PostgreSQL's integer): anything past it names no row.
MAX_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,18}")
# Dates a filter may name: wide enough for any real order, narrow enough that a day more or less never
# leaves the calendar (Python's and PostgreSQL's).
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


def whole_number(text, *, minimum=0, maximum=MAX_ID):
    """`text` as an int when it is ASCII digits within [minimum, maximum]; None otherwise."""
    if not isinstance(text, str) or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def object_id(text):
    """An id from a URL or form (1 to MAX_ID), or None."""
    return whole_number(text, minimum=1)


def date_in_range(value):
    """`value` (a date) when it lies between EARLIEST_DATE and LATEST_DATE; None otherwise."""
    return value if value is not None and EARLIEST_DATE <= value <= LATEST_DATE else None


def has_nul(values):
    return any("\x00" in text for text in values)


NUL_REFUSED = (
    "This request contains a NUL character (\\0), which no field here accepts. "
    "Remove it (it often comes with text pasted from another program) and try again."
)


class RefuseNulBytesMiddleware:
    """Answer 400 with a plain sentence to a query string or form that carries a NUL character, before any
    view or query sees it (PostgreSQL cannot store one, and would fail the request half-way).

    Views that read their body themselves (the webhook, csrf_exempt) are left to do so: parsing their body
    as a form here would consume it.
    """

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        fields = [request.GET]
        if request.method == "POST" and request.content_type in self.FORM_TYPES and not _reads_its_own_body(request):
            fields.append(request.POST)
        for query in fields:
            if has_nul(query.keys()) or has_nul(value for values in query.lists() for value in values[1]):
                return HttpResponse(NUL_REFUSED, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)


def _reads_its_own_body(request):
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return False
    return getattr(match.func, "csrf_exempt", False)
