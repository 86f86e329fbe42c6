"""The orders list: filters (status, customer, dates), sorts, keyset pages, the totals of the filtered set,
CSV of the filtered orders and their items, and a query count that does not grow with the orders."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.tests.factories import customer

NOW = timezone.now()


def order_ids(response):
    return [int(n) for n in re.findall(r'<td><a href="/orders/(\d+)/">#\d+</a></td>', response.content.decode())]


def add_order(t, who, total="10.00", status="pending", *, created=None, items=(), **fields):
    order = t.Order.objects.create(customer=who, total_amount=Decimal(total), status=status, **fields)
    for name, quantity, price in items:
        t.OrderItem.objects.create(
            order=order, name=name, quantity=quantity, price=Decimal(price), total=quantity * Decimal(price)
        )
    if created is not None:
        t.Order.objects.filter(pk=order.pk).update(created_at=created, updated_at=created)
    return order


def get(seller, **params):
    return seller.client.get(reverse("order_list"), params)


def test_filters_by_status_with_the_totals_of_the_whole_filtered_set(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    shipped = add_order(t, ana, "10.00", "shipped")
    delivered = add_order(t, ana, "20.00", "delivered")
    pending = add_order(t, ana, "99.00", "pending")
    cancelled = add_order(t, ana, "7.00", "cancelled")
    draft = add_order(t, ana, "5.00", "pending", source="cart")

    assert sorted(order_ids(get(seller, status="open"))) == [shipped.pk, pending.pk, draft.pk]
    assert order_ids(get(seller, status="delivered")) == [delivered.pk]
    assert order_ids(get(seller, status="drafts")) == [draft.pk]
    body = get(seller).content.decode()
    assert sorted(order_ids(get(seller))) == sorted([shipped.pk, delivered.pk, pending.pk, cancelled.pk, draft.pk])
    assert re.search(r'class="value">5</span><span class="label">Orders', body)
    assert '<span class="value">$141.00</span><span class="label">Total value' in body
    assert '<span class="value">$30.00</span><span class="label">Revenue' in body
    assert "Cart draft" in body


def test_filters_by_customer_name_phone_or_link(seller):
    t = seller.tables
    ana, bo = customer(t, "Ana Lima", phone="+5511900000001"), customer(t, "Bo Chen", phone="+14155550177")
    ana_order, bo_order = add_order(t, ana), add_order(t, bo)

    assert order_ids(get(seller, customer="lima")) == [ana_order.pk]
    assert order_ids(get(seller, customer="+1 415-555-0177")) == [bo_order.pk]
    by_link = get(seller, customer_id=bo.pk)
    assert order_ids(by_link) == [bo_order.pk] and "Orders of <a" in by_link.content.decode()
    assert order_ids(get(seller, customer="nobody")) == []
    assert "No orders here." in get(seller, customer="nobody").content.decode()


def test_filters_by_creation_date_in_the_viewers_time_zone(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    # 23:30 on 1 March in New York is already 2 March in UTC.
    late = add_order(t, ana, created=dt.datetime(2026, 3, 2, 4, 30, tzinfo=dt.UTC))
    early = add_order(t, ana, created=dt.datetime(2026, 3, 1, 5, 30, tzinfo=dt.UTC))
    add_order(t, ana, created=dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC))

    seller.client.cookies["tz"] = "America/New_York"
    assert order_ids(get(seller, date_from="2026-03-01", date_to="2026-03-01")) == [late.pk, early.pk]
    seller.client.cookies["tz"] = "UTC"
    assert order_ids(get(seller, date_from="2026-03-01", date_to="2026-03-01")) == [early.pk]


def test_the_home_pages_month_link_still_shows_this_months_orders(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    this_month = add_order(t, ana, "10.00", "confirmed")
    add_order(t, ana, created=timezone.now() - dt.timedelta(days=70))
    response = get(seller, period="month", status="all")
    month = timezone.localdate().replace(day=1).isoformat()
    assert response.status_code == 302 and response.url == f"/orders/?status=all&date_from={month}"
    assert order_ids(seller.client.get(response.url)) == [this_month.pk]


@pytest.mark.parametrize(
    "params, message",
    [
        ({"status": "lost"}, "Select a valid choice."),
        ({"sort": "random"}, "Select a valid choice."),
        ({"date_from": "31/02/2026"}, "Enter a valid date."),
        ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "The end date is before the start date."),
        ({"after": "nope"}, "This page link is damaged"),
        ({"sort": "total_high", "after": "WyJ4IiwxXQ"}, "This page link is damaged"),
    ],
)
def test_bad_filters_are_shown_and_answered_400(seller, params, message):
    customer(seller.tables, "Ana")
    response = get(seller, **params)
    assert response.status_code == 400 and message in response.content.decode()


@pytest.mark.parametrize(
    "sort, key",
    [
        ("newest", lambda o: (-o.created_at.timestamp(), -o.pk)),
        ("oldest", lambda o: (o.created_at.timestamp(), o.pk)),
        ("total_high", lambda o: (-o.total_amount, -o.pk)),
        ("total_low", lambda o: (o.total_amount, o.pk)),
        ("updated", lambda o: (-o.updated_at.timestamp(), -o.pk)),
    ],
)
def test_every_sort_pages_through_every_order_once(seller, sort, key):
    t = seller.tables
    ana = customer(t, "Ana")
    for n in range(120):
        # Ties on purpose: pages break them by id.
        add_order(t, ana, f"{n % 7}.50", created=NOW - dt.timedelta(minutes=n % 13))
    expected = [o.pk for o in sorted(t.Order.objects.all(), key=key)]

    seen, params = [], {"sort": sort}
    while True:
        response = get(seller, **params)
        seen += order_ids(response)
        found = re.search(r'href="([^"]+)" rel="next"', response.content.decode())
        if not found:
            break
        params = dict(re.findall(r"([a-z_]+)=([^&]+)", found.group(1).split("?", 1)[1].replace("&amp;", "&")))
    assert seen == expected


def test_the_list_costs_the_same_queries_for_3_or_60_orders(seller, django_assert_max_num_queries):
    t = seller.tables
    people = [customer(t, f"Customer {n}") for n in range(60)]
    for who in people[:3]:
        add_order(t, who, items=[("Mug", 1, "2.00")])
    with django_assert_max_num_queries(12) as few:
        get(seller)
    for who in people[3:]:
        add_order(t, who, items=[("Mug", 1, "2.00"), ("Bowl", 2, "3.00")])
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(order_ids(get(seller))) == 50


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_filtered_orders_and_their_items_download_as_csv(seller):
    t = seller.tables
    ana, bo = customer(t, "=HYPERLINK(1)"), customer(t, "Bo")
    order = add_order(
        t,
        ana,
        "19.00",
        "shipped",
        items=[("Blue mug", 2, "8.00"), ("Gift wrap", 1, "3.00")],
        shipping_address="Rua Augusta 500",
        notes="-leave at door",
        currency="BRL",
    )
    add_order(t, bo, "5.00", "pending", items=[("Bowl", 1, "5.00")])

    response = seller.client.get(reverse("order_export"), {"status": "shipped"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(r'attachment; filename="orders-\d{4}-\d\d-\d\d\.csv"', response["Content-Disposition"])
    header, *rows = csv_rows(response)
    assert header == [
        "order",
        "created_at",
        "updated_at",
        "status",
        "customer",
        "phone",
        "items",
        "discount",
        "total",
        "currency",
        "paid_at",
        "source",
        "shipping_address",
        "notes",
    ]
    [row] = rows
    assert row[0] == str(order.pk) and row[3:10] == [
        "shipped",
        "'=HYPERLINK(1)",
        ana.phone,
        "2",
        "0.00",
        "19.00",
        "BRL",
    ]
    assert row[12:] == ["Rua Augusta 500", "'-leave at door"]

    header, *items = csv_rows(seller.client.get(reverse("order_items_export"), {"status": "shipped"}))
    assert header[5:] == ["item", "product_retailer_id", "quantity", "unit_price", "line_total", "currency", "kind"]
    assert [item[5:] for item in items] == [
        ["Blue mug", "", "2", "8.00", "16.00", "BRL", "item"],
        ["Gift wrap", "", "1", "3.00", "3.00", "BRL", "item"],
    ]
    assert {item[0] for item in items} == {str(order.pk)}
    assert len(csv_rows(seller.client.get(reverse("order_items_export")))) == 4
    assert seller.client.get(reverse("order_export"), {"status": "lost"}).status_code == 400
    assert seller.client.get(reverse("order_items_export"), {"sort": "x"}).status_code == 400


def test_no_orders_yet_says_where_orders_come_from(seller):
    body = get(seller).content.decode()
    assert "No orders here." in body and "New order" in body
