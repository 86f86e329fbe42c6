"""The order pages' forms on their own: the item editor's line buttons, and the list's filters."""

import datetime as dt
import zoneinfo

from django.http import QueryDict
from django.utils import timezone

from orders.forms import OrderFilterForm, OrderForm
from orders.listing import OrderFilters


def posted(**extra):
    data = QueryDict(mutable=True)
    data.setlist("item_name", ["Blue mug", "Bowl"])
    data.setlist("item_quantity", ["2", "1"])
    data.setlist("item_price", ["8.00", "5.00"])
    data.update(extra)
    return data


def test_the_line_buttons_add_or_remove_a_line_and_a_save_is_not_one():
    added = OrderForm(posted(add="1"))
    assert added.edit_rows() and [row.name for row in added.rows] == ["Blue mug", "Bowl", ""]
    removed = OrderForm(posted(remove="0"))
    assert removed.edit_rows() and [row.name for row in removed.rows] == ["Bowl"]
    damaged = OrderForm(posted(remove="first"))
    assert damaged.edit_rows() and [row.name for row in damaged.rows] == ["Blue mug", "Bowl"]
    assert not OrderForm(posted()).edit_rows()


def test_the_filters_are_the_chosen_days_from_midnight_to_midnight_in_the_viewers_zone():
    lisbon = zoneinfo.ZoneInfo("Europe/Lisbon")
    form = OrderFilterForm(
        {"status": "open", "customer": " Ana ", "customer_id": "7", "date_from": "2026-05-01", "date_to": "2026-05-03"}
    )
    with timezone.override(lisbon):
        assert form.is_valid()
        filters = form.filters()
    assert filters == OrderFilters(
        status="open",
        customer="Ana",
        customer_id=7,
        since=dt.datetime(2026, 5, 1, tzinfo=lisbon),
        until=dt.datetime(2026, 5, 4, tzinfo=lisbon),
        sort="newest",
    )
    unfiltered = OrderFilterForm({})
    assert unfiltered.is_valid() and unfiltered.filters() == OrderFilters()
