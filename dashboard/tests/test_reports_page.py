"""The reports page and the home page's sales figures: charts drawn as SVG with the numbers in tables,
CSV of every table, periods in the viewer's time zone."""

import csv
import datetime as dt
import io
import re
import zoneinfo
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.tests.factories import customer, message
from dashboard.charts import bar_chart, nice_ceiling
from orders import reports


def zone_past_six_am():
    """A time zone where it is now past 06:00, so that the last few hours are all today (and this month)."""
    for name in ("UTC", "Pacific/Pago_Pago", "Pacific/Kiritimati"):
        if timezone.localtime(timezone=zoneinfo.ZoneInfo(name)).hour >= 6:
            return name
    raise AssertionError("unreachable: the three zones are 11 and 14 hours apart")


@pytest.fixture
def sales(seller):
    t = seller.tables
    now = timezone.now()
    seller.zone = zone_past_six_am()
    seller.client.cookies["tz"] = seller.zone
    ana, bo = customer(t, "Ana"), customer(t, "Bo")
    customer(t, "Cy")
    message(t, ana, "hi", at=now - dt.timedelta(hours=5))
    message(t, bo, "hello", at=now - dt.timedelta(hours=3))
    order = t.Order.objects.create(customer=ana, total_amount=Decimal("30.00"), status="delivered")
    t.OrderItem.objects.create(order=order, name="Blue mug", quantity=3, price=Decimal("10.00"), total=Decimal("30.00"))
    t.Order.objects.create(customer=bo, total_amount=Decimal("12.00"), status="pending")
    t.Order.objects.filter(customer=ana).update(created_at=now - dt.timedelta(hours=1))
    return seller


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_the_reports_page_draws_accessible_charts_with_the_numbers_beside_them(sales):
    body = sales.client.get(reverse("reports")).content.decode()

    assert body.count('<svg class="bar-chart"') == 2
    assert re.search(
        r'<svg class="bar-chart" viewBox="0 0 720 240" role="img" '
        r'aria-labelledby="revenue-chart-title revenue-chart-desc"',
        body,
    )
    assert '<title id="revenue-chart-title">Revenue per day, last 30 days</title>' in body
    assert "$30.00 in all" in body
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(sales.zone))
    assert (
        f'<th scope="row">{today.day} {today.strftime("%b")}</th><td class="num">2</td>'
        f'<td class="num">$30.00</td>' in body
    )
    assert "50%" in body  # 1 of the 2 customers who wrote ordered
    assert "Blue mug" in body
    for table in ("periods", "summary", "statuses", "items"):
        assert f'href="/reports/export.csv?table={table}&amp;period=day"' in body


@pytest.mark.parametrize("period, rows", [("day", 30), ("week", 12), ("month", 12)])
def test_each_period_has_its_rows_and_csv(sales, period, rows):
    assert sales.client.get(reverse("reports"), {"period": period}).status_code == 200
    header, *lines = csv_rows(sales.client.get(reverse("report_export"), {"table": "periods", "period": period}))
    assert header == ["period_start", "orders", "revenue", "currency"] and len(lines) == rows
    assert lines[-1][1:] == ["2", "30.00", "USD"]


def test_every_table_downloads_as_csv(sales):
    def table(name):
        return csv_rows(sales.client.get(reverse("report_export"), {"table": name}))

    summary = {row[0]: row[1] for row in table("summary")[1:]}
    assert summary["Orders"] == "2" and summary["Revenue"] == "30.00" and summary["Average sale"] == "30.00"
    assert summary["Conversion"] == "0.5000" and summary["Customers who wrote"] == "2"
    assert summary["Time to first order"] == "3.5"  # median of 4 h (Ana) and 3 h (Bo, pending)
    statuses = {row[0]: row[1:] for row in table("statuses")[1:]}
    assert statuses["delivered"] == ["1", "30.00", "USD"] and statuses["pending"] == ["1", "12.00", "USD"]
    assert table("items") == [["item", "quantity", "revenue", "currency"], ["Blue mug", "3", "30.00", "USD"]]


def test_unknown_periods_and_tables_are_refused(sales):
    assert sales.client.get(reverse("reports"), {"period": "year"}).status_code == 400
    assert sales.client.get(reverse("report_export"), {"table": "secrets"}).status_code == 400
    assert sales.client.get(reverse("report_export")).status_code == 400
    assert sales.client.get(reverse("report_export"), {"table": "summary", "period": "x"}).status_code == 400


def test_the_home_page_shows_this_months_sales(sales):
    body = sales.client.get(reverse("home")).content.decode()
    assert "Sales this month" in body and '<svg class="bar-chart"' in body
    assert '<dt>Average sale</dt><dd>$30.00 <span class="help">revenue over 1 sale</span></dd>' in body
    assert "50%" in body and "3.5 hours" in body


def test_days_are_the_viewers_days(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    now = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)
    # 02:00 UTC on 15 June is still 14 June in New York.
    t.Order.objects.create(
        customer=ana,
        total_amount=Decimal("5.00"),
        status="confirmed",
        created_at=dt.datetime(2026, 6, 15, 2, 0, tzinfo=dt.UTC),
    )
    agent = seller.agent
    assert [r.orders for r in reports.by_period(agent, "day", now=now)][-2:] == [0, 1]
    with timezone.override("America/New_York"):
        assert [r.orders for r in reports.by_period(agent, "day", now=now)][-2:] == [1, 0]


def test_orders_by_status_and_top_items_cover_the_period(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    old = t.Order.objects.create(customer=ana, total_amount=Decimal("8.00"), status="delivered")
    t.OrderItem.objects.create(order=old, name="Old thing", quantity=1, price=Decimal("8.00"), total=Decimal("8.00"))
    t.Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=90))
    since = timezone.now() - dt.timedelta(days=30)
    assert reports.top_items(seller.agent, since=since) == []
    assert [r.orders for r in reports.by_status(seller.agent, since=since)] == [0] * 7
    assert reports.top_items(seller.agent)[0].name == "Old thing"


@pytest.mark.parametrize(
    "value, ceiling",
    [(0, 1), (0.3, Decimal("0.5")), (7, 10), (12, 20), (240, Decimal("250")), (1000, 1000), (31.5, 50)],
)
def test_axes_end_on_a_round_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_a_chart_of_counts_has_whole_numbers_on_its_grid_and_labels_the_newest_bar():
    chart = bar_chart("Orders", [(f"Day {n}", n % 3) for n in range(30)])
    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert chart.x_labels[-1].text == "Day 29" and len(chart.x_labels) <= 10
    assert chart.bars[0].height == 0 and chart.bars[2].height > chart.bars[1].height
    assert bar_chart("Nothing", []).description == "Nothing in this period."


def test_the_home_page_points_to_carts_waiting_as_drafts(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    assert "waiting as draft" not in seller.client.get(reverse("home")).content.decode()
    t.Order.objects.create(customer=ana, total_amount=Decimal("9.00"), source="cart")
    t.Order.objects.create(customer=ana, total_amount=Decimal("9.00"), source="cart", status="confirmed")
    body = seller.client.get(reverse("home")).content.decode()
    assert "<strong>1 WhatsApp cart</strong> is waiting as draft order." in body
    assert 'href="/orders/?status=drafts">Review it</a>' in body
