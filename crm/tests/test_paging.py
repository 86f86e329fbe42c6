import datetime as dt

import pytest

from crm import paging


def test_a_cursor_round_trips_its_values():
    at = dt.datetime(2026, 5, 4, 12, 0, 0, 123456, tzinfo=dt.UTC)
    assert paging.decode(paging.encode(at, 42), dt.datetime, int) == (at, 42)
    assert paging.decode(paging.encode("Zoë", 7), str, int) == ("Zoë", 7)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bnVsbA",
        paging.encode(1, 2),
        paging.encode("a", "b"),
        paging.encode({"t": "x"}, 1),
        paging.encode({"t": 1}, 0),
        paging.encode(1),
    ],
)
def test_a_damaged_cursor_is_refused(cursor):
    with pytest.raises(paging.InvalidCursor):
        paging.decode(cursor, dt.datetime, int)
