"""Sales figures computed from the agent's own orders and messages."""

import datetime as dt
from decimal import Decimal

import pytest

from agents import tables
from orders import reports

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.UTC)


def customer_with(t, phone, wrote_at=None, orders=()):
    customer = t.Customer.objects.create(name=phone, phone=phone)
    if wrote_at:
        t.Message.objects.create(customer=customer, message="hi", direction="inbound", timestamp=wrote_at)
    for created_at, status, total in orders:
        t.Order.objects.create(customer=customer, status=status, total_amount=Decimal(total), created_at=created_at)
    return customer


def test_orders_and_revenue_per_day_fill_gaps_and_count_only_sales(agent_a):
    agent, t = agent_a, tables.for_agent(agent_a)
    customer_with(
        t,
        "+15550000001",
        orders=[
            (NOW, "confirmed", "10.00"),
            (NOW - dt.timedelta(hours=1), "pending", "99.00"),
            (NOW - dt.timedelta(days=2), "delivered", "5.50"),
            (NOW - dt.timedelta(days=2), "cancelled", "7.00"),
            (NOW - dt.timedelta(days=40), "delivered", "1000.00"),
        ],
    )
    rows = reports.by_period(agent, "day", now=NOW)
    assert len(rows) == 30 and rows[-1].start == NOW.date()
    assert (rows[-1].orders, rows[-1].revenue) == (2, Decimal("10.00"))
    assert (rows[-3].orders, rows[-3].revenue) == (2, Decimal("5.50"))
    assert (rows[-2].orders, rows[-2].revenue) == (0, Decimal("0"))
    assert sum(row.orders for row in rows) == 4


@pytest.mark.parametrize("period, expected_count", [("week", 12), ("month", 12)])
def test_weeks_and_months_start_on_their_first_day(agent_a, period, expected_count):
    agent, t = agent_a, tables.for_agent(agent_a)
    customer_with(t, "+15550000001", orders=[(NOW, "shipped", "3.00")])
    rows = reports.by_period(agent, period, now=NOW)
    assert len(rows) == expected_count
    assert rows[-1].start == (dt.date(2026, 6, 15) if period == "week" else dt.date(2026, 6, 1))
    assert rows[-1].revenue == Decimal("3.00")


def test_summary_gives_average_order_value_conversion_and_time_to_first_order(agent_a):
    agent, t = agent_a, tables.for_agent(agent_a)
    customer_with(
        t,
        "+15550000001",
        wrote_at=NOW - dt.timedelta(hours=10),
        orders=[(NOW - dt.timedelta(hours=8), "confirmed", "30.00"), (NOW, "delivered", "10.00")],
    )
    customer_with(t, "+15550000002", wrote_at=NOW - dt.timedelta(hours=5), orders=[(NOW, "shipped", "20.00")])
    customer_with(t, "+15550000003", wrote_at=NOW - dt.timedelta(hours=1))
    customer_with(t, "+15550000004", wrote_at=NOW - dt.timedelta(hours=1), orders=[(NOW, "cancelled", "50.00")])

    summary = reports.summary(agent)

    assert (summary.orders, summary.sold_orders, summary.revenue) == (4, 3, Decimal("60.00"))
    assert summary.average_order_value == Decimal("20.00")
    assert (summary.customers_who_wrote, summary.customers_who_ordered) == (4, 2)
    assert summary.conversion == 0.5
    # First message to first order: 2 h for the first customer, 5 h for the second.
    assert summary.median_hours_to_first_order == 3.5


def test_an_empty_shop_has_no_averages(agent_a):
    agent = agent_a
    summary = reports.summary(agent)
    assert summary.average_order_value is None and summary.conversion is None
    assert summary.median_hours_to_first_order is None
