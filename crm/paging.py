"""Keyset pagination: a page ends at a row, and the next page starts strictly after it.

A cursor is the sort key of a page's last row (e.g. its time and id), packed into a short URL-safe
string. Unlike OFFSET, reading page 400 costs what page 1 costs, and rows that arrive meanwhile
neither repeat nor vanish from the page being read.
"""

import base64
import binascii
import datetime as dt
import json

from django.db.models import Q

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
MICROSECOND = dt.timedelta(microseconds=1)


class InvalidCursor(ValueError):
    """A cursor that this module did not write (hand-edited or truncated)."""


def encode(*values):
    """Pack datetimes, ints and strings into a URL-safe cursor."""
    packed = [{"t": (value - EPOCH) // MICROSECOND} if isinstance(value, dt.datetime) else value for value in values]
    raw = json.dumps(packed, separators=(",", ":"), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor, *types):
    """Unpack a cursor written by encode() whose values have `types`; raise InvalidCursor otherwise."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        packed = json.loads(raw)
    except (binascii.Error, ValueError, TypeError) as error:
        raise InvalidCursor("This page link is damaged; start again from the first page.") from error
    if not isinstance(packed, list) or len(packed) != len(types):
        raise InvalidCursor("This page link is damaged; start again from the first page.")
    values = []
    for value, kind in zip(packed, types, strict=False):
        if kind is dt.datetime:
            micros = value.get("t") if isinstance(value, dict) else None
            if type(micros) is not int or not 0 <= micros < 253_402_300_800_000_000:
                raise InvalidCursor("This page link is damaged; start again from the first page.")
            value = EPOCH + micros * MICROSECOND
        elif type(value) is not kind or (kind is int and not 0 < value < 2**31):
            raise InvalidCursor("This page link is damaged; start again from the first page.")
        values.append(value)
    return tuple(values)


def after(field, value, pk, *, descending=True, inclusive=False):
    """Rows after (value, pk) in the order (field, id), both descending or both ascending.

    Written as `field <= value AND (field < value OR id < pk)` so that the database bounds its
    index scan by `field` and only filters the rows that share `value`. `inclusive` keeps the
    row (value, pk) itself.
    """
    bound, strict = ("lte", "lt") if descending else ("gte", "gt")
    id_lookup = f"pk__{strict}e" if inclusive else f"pk__{strict}"
    return Q(**{f"{field}__{bound}": value}) & (Q(**{f"{field}__{strict}": value}) | Q(**{id_lookup: pk}))


def ascending_page(queryset, field, cursor, size, kind=str):
    """(rows, next cursor or None): up to `size` rows of `queryset` in (field, id) order, after `cursor`."""
    if cursor:
        value, pk = decode(cursor, kind, int)
        queryset = queryset.filter(after(field, value, pk, descending=False))
    rows = list(queryset.order_by(field, "id")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode(getattr(rows[-1], field), rows[-1].pk) if more else None
