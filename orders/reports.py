"""Sales figures for an agent: orders and revenue per period, average order value, conversion,
and how long customers take from their first message to their first order.

Revenue counts orders that were confirmed and not cancelled or refunded (pending orders are promises,
not sales); every figure is computed by the database over the agent's own tables.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.utils import timezone

from agents import tables

SOLD_STATUSES = ("confirmed", "processing", "shipped", "delivered")
PERIODS = {
    "day": (TruncDay, 30),
    "week": (TruncWeek, 12),
    "month": (TruncMonth, 12),
}


@dataclass(frozen=True)
class PeriodRow:
    start: dt.date
    orders: int
    revenue: Decimal


@dataclass(frozen=True)
class Summary:
    orders: int
    sold_orders: int
    revenue: Decimal
    average_order_value: Decimal | None
    customers_who_wrote: int
    customers_who_ordered: int
    conversion: float | None
    median_hours_to_first_order: float | None


def _period_starts(period, count, today):
    if period == "day":
        return [today - dt.timedelta(days=n) for n in reversed(range(count))]
    if period == "week":
        monday = today - dt.timedelta(days=today.weekday())
        return [monday - dt.timedelta(weeks=n) for n in reversed(range(count))]
    starts, month = [], today.replace(day=1)
    for _ in range(count):
        starts.append(month)
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return list(reversed(starts))


def by_period(agent, period="day", *, now=None):
    """One PeriodRow per day (last 30), week (last 12) or month (last 12), oldest first, gaps as zeros."""
    trunc, count = PERIODS[period]
    now = now or timezone.now()
    starts = _period_starts(period, count, now.date())
    since = dt.datetime.combine(starts[0], dt.time.min, tzinfo=dt.UTC)
    rows = (
        tables.for_agent(agent)
        .Order.objects.filter(created_at__gte=since)
        .annotate(period=trunc("created_at"))
        .values("period")
        .annotate(orders=Count("id"), revenue=Sum("total_amount", filter=Q(status__in=SOLD_STATUSES)))
    )
    found = {row["period"].date(): row for row in rows}
    return [
        PeriodRow(start, found.get(start, {}).get("orders", 0), found.get(start, {}).get("revenue") or Decimal("0"))
        for start in starts
    ]


def summary(agent, *, since=None, until=None):
    """Headline figures for orders created (and customers who wrote) in [since, until)."""
    agent_tables = tables.for_agent(agent)
    orders = agent_tables.Order.objects.all()
    inbound = agent_tables.Message.objects.inbound()
    if since:
        orders, inbound = orders.filter(created_at__gte=since), inbound.filter(timestamp__gte=since)
    if until:
        orders, inbound = orders.filter(created_at__lt=until), inbound.filter(timestamp__lt=until)
    totals = orders.aggregate(
        orders=Count("id"),
        sold=Count("id", filter=Q(status__in=SOLD_STATUSES)),
        revenue=Sum("total_amount", filter=Q(status__in=SOLD_STATUSES)),
    )
    revenue = totals["revenue"] or Decimal("0")
    sold = orders.filter(status__in=SOLD_STATUSES)
    wrote = agent_tables.Customer.objects.filter(Exists(inbound.filter(customer=OuterRef("pk"))))
    ordered = wrote.filter(Exists(sold.filter(customer=OuterRef("pk"))))
    counts = {"wrote": wrote.count(), "ordered": ordered.count()}
    return Summary(
        orders=totals["orders"],
        sold_orders=totals["sold"],
        revenue=revenue,
        average_order_value=(revenue / totals["sold"]).quantize(Decimal("0.01")) if totals["sold"] else None,
        customers_who_wrote=counts["wrote"],
        customers_who_ordered=counts["ordered"],
        conversion=counts["ordered"] / counts["wrote"] if counts["wrote"] else None,
        median_hours_to_first_order=_median_hours_to_first_order(agent_tables),
    )


def _median_hours_to_first_order(agent_tables):
    first_message = agent_tables.Message.objects.inbound().filter(customer=OuterRef("pk")).order_by("timestamp")
    first_order = agent_tables.Order.objects.filter(customer=OuterRef("pk")).exclude(status="cancelled")
    rows = (
        agent_tables.Customer.objects.annotate(
            first_message=Subquery(first_message.values("timestamp")[:1]),
            first_order=Subquery(first_order.order_by("created_at").values("created_at")[:1]),
        )
        .filter(first_message__isnull=False, first_order__isnull=False)
        .values_list("first_message", "first_order")
    )
    hours = [max((order - message).total_seconds(), 0) / 3600 for message, order in rows]
    return round(median(hours), 1) if hours else None


def revenue_this_month(agent, *, now=None):
    now = now or timezone.now()
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    total = (
        tables.for_agent(agent)
        .Order.objects.filter(created_at__gte=start, status__in=SOLD_STATUSES)
        .aggregate(total=Sum("total_amount"))["total"]
    )
    return total or Decimal("0")


