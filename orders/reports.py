"""Sales figures for an agent: orders and revenue per period, average order value, conversion,
how long customers take from their first message to their first order, orders by status, top items.

Revenue counts orders that were confirmed and not cancelled or refunded (pending orders are promises,
not sales), less what was refunded of them (the ledger above says how much, `register_refunds`), in the shop's currency (a cart priced in another is counted apart, never added in); every figure is computed by the database over the agent's own tables. Days, weeks and
months are the viewer's (the current time zone).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from statistics import median

from django.db import connections, router
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from agents import tables
from agents.shop import shop_of

from . import catalog
from .statuses import SOLD_STATUSES, in_currency

# How many of each period the reports show, the newest last.
PERIODS = {"day": 30, "week": 12, "month": 12}
# Where the amounts refunded per order come from: payments.ledger registers itself (a layer above).
_refund_sources = []


def register_refunds(source):
    """`source(agent)` answers {order id: amount refunded}; revenue is counted net of it."""
    if source not in _refund_sources:
        _refund_sources.append(source)


def _refunds_of(agent, orders):
    """{order id: amount refunded} of the orders in the queryset `orders` that had money given back."""
    refunded = {}
    for source in _refund_sources:
        for order_id, amount in source(agent).items():
            refunded[order_id] = refunded.get(order_id, Decimal("0")) + amount
    if not refunded:
        return {}
    return {
        pk: (created_at, refunded[pk])
        for pk, created_at in orders.filter(pk__in=list(refunded)).values_list("pk", "created_at")
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
    # Sales priced in another currency than the shop's (carts): [(currency, orders, amount)], never in revenue.
    other_currencies: tuple = ()


@dataclass(frozen=True)
class StatusRow:
    status: str
    orders: int
    value: Decimal


@dataclass(frozen=True)
class ItemRow:
    name: str
    quantity: int
    revenue: Decimal


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


def _next_start(period, start):
    if period == "day":
        return start + dt.timedelta(days=1)
    if period == "week":
        return start + dt.timedelta(weeks=1)
    return (start + dt.timedelta(days=32)).replace(day=1)


def period_window(period, *, now=None):
    """(period starts, edges) of the last PERIODS[period] days, weeks or months up to `now`.

    Periods begin at midnight in the current time zone (the viewer's: crm.timezones), so "today" is
    the seller's today. edges[n] is the aware start of period n and edges[-1] the end of the last one:
    the whole window is [edges[0], edges[-1]).
    """
    starts = _period_starts(period, PERIODS[period], timezone.localdate(now or timezone.now()))
    zone = timezone.get_current_timezone()
    edges = [dt.datetime.combine(day, dt.time.min, tzinfo=zone) for day in [*starts, _next_start(period, starts[-1])]]
    return starts, edges


def by_period(agent, period="day", *, now=None):
    """One PeriodRow per day (last 30), week (last 12) or month (last 12), oldest first, gaps as zeros.

    One query, grouped by the period each order falls in (a CASE over the periods' edges, in the
    viewer's time zone). Written as SQL: built through the ORM, sixty filtered aggregates cost more
    Python than the database spends answering them.
    """
    starts, edges = period_window(period, now=now)
    Order = tables.for_agent(agent).Order
    connection = connections[router.db_for_read(Order)]
    created_at = Order._meta.get_field("created_at")
    bounds = [created_at.get_db_prep_value(edge, connection) for edge in edges]
    quote = connection.ops.quote_name
    column = quote("created_at")
    sold = ", ".join(f"'{status}'" for status in SOLD_STATUSES)
    currency = quote("currency")
    in_shop_currency = f"({currency} IS NULL OR {currency} = '' OR {currency} = %s)"
    buckets = " ".join(f"WHEN {column} < %s THEN {n}" for n in range(len(starts)))
    sql = (
        f"SELECT CASE {buckets} END, COUNT(*), SUM(CASE WHEN {quote('status')} IN ({sold}) AND {in_shop_currency} "
        f"THEN {quote('total_amount')} END) "
        f"FROM {quote(Order._meta.db_table)} WHERE {column} >= %s AND {column} < %s GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*bounds[1:], shop_of(agent).currency, bounds[0], bounds[-1]])
        found = {n: (orders, revenue) for n, orders, revenue in cursor.fetchall()}
    sold = (
        Order.objects.sold()
        .in_currency(shop_of(agent).currency)
        .filter(created_at__gte=edges[0], created_at__lt=edges[-1])
    )
    for created_at, amount in _refunds_of(agent, sold).values():
        n = next(n for n in range(len(starts)) if created_at < edges[n + 1])
        orders, revenue = found.get(n, (0, 0))
        found[n] = (orders, _money(revenue) - amount)
    return [PeriodRow(start, *_counted(*found.get(n, (0, 0)))) for n, start in enumerate(starts)]


def _counted(orders, revenue):
    return orders, _money(revenue)


def _money(value):
    """A SUM as the database gave it (a Decimal, or on SQLite possibly a float or an int) in cents."""
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def by_status(agent, *, since=None, until=None):
    """How many orders created in [since, until) are in each status, and their value (of those in the shop's
    currency), in workflow order."""
    orders = _created_between(tables.for_agent(agent).Order.objects.all(), since, until)
    value = Sum("total_amount", filter=in_currency(shop_of(agent).currency))
    found = {row["status"]: row for row in orders.values("status").annotate(orders=Count("id"), value=value)}
    return [
        StatusRow(status, found.get(status, {}).get("orders", 0), found.get(status, {}).get("value") or Decimal("0"))
        for status in ("pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "refunded")
    ]


def top_items(agent, *, since=None, until=None, limit=10):
    """The items that brought the most revenue in orders sold in [since, until), by name: a cart's product
    by the name the catalog gives its retailer id, so that one product is one row however its lines were named."""
    orders = _created_between(
        tables.for_agent(agent).Order.objects.sold().in_currency(shop_of(agent).currency), since, until
    )
    rows = (
        tables.for_agent(agent)
        .OrderItem.objects.filter(order__in=orders.values("pk"), kind="item")
        .values("name", "product_retailer_id")
        .annotate(quantity=Sum("quantity"), revenue=Sum("total"))
    )
    rows = list(rows)
    names = catalog.names_by_retailer_id(agent, {row["product_retailer_id"] for row in rows})
    totals = {}
    for row in rows:
        name = names.get(row["product_retailer_id"]) or row["name"]
        quantity, revenue = totals.get(name, (0, Decimal("0")))
        totals[name] = (quantity + (row["quantity"] or 0), revenue + (row["revenue"] or Decimal("0")))
    ranked = sorted(totals.items(), key=lambda item: (-item[1][1], item[0]))[:limit]
    return [ItemRow(name, quantity, revenue) for name, (quantity, revenue) in ranked]


def _created_between(queryset, since, until, field="created_at"):
    if since is not None:
        queryset = queryset.filter(**{f"{field}__gte": since})
    if until is not None:
        queryset = queryset.filter(**{f"{field}__lt": until})
    return queryset


def summary(agent, *, since=None, until=None):
    """Headline figures for orders created (and customers who wrote) in [since, until)."""
    agent_tables = tables.for_agent(agent)
    orders = agent_tables.Order.objects.all()
    inbound = agent_tables.Message.objects.inbound()
    if since:
        orders, inbound = orders.filter(created_at__gte=since), inbound.filter(timestamp__gte=since)
    if until:
        orders, inbound = orders.filter(created_at__lt=until), inbound.filter(timestamp__lt=until)
    currency = shop_of(agent).currency
    mine = Q(status__in=SOLD_STATUSES) & in_currency(currency)
    totals = orders.aggregate(
        orders=Count("id"), sold=Count("id", filter=mine), revenue=Sum("total_amount", filter=mine)
    )
    refunded = _refunds_of(agent, orders.sold().in_currency(currency))
    revenue = (totals["revenue"] or Decimal("0")) - sum((amount for _, amount in refunded.values()), Decimal("0"))
    others = (
        orders.sold()
        .in_other_currencies(currency)
        .values("currency")
        .annotate(count=Count("id"), amount=Sum("total_amount"))
        .order_by("currency")
    )
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
        median_hours_to_first_order=_median_hours_to_first_order(agent_tables, since, until),
        other_currencies=tuple((row["currency"], row["count"], row["amount"]) for row in others),
    )


def _median_hours_to_first_order(agent_tables, since=None, until=None):
    """Over the customers whose first (not cancelled) order was placed in [since, until)."""
    first_message = agent_tables.Message.objects.inbound().filter(customer=OuterRef("pk")).order_by("timestamp")
    first_order = agent_tables.Order.objects.filter(customer=OuterRef("pk")).exclude(status="cancelled")
    ordered_in_window = _created_between(agent_tables.Order.objects.exclude(status="cancelled"), since, until)
    rows = (
        _created_between(
            agent_tables.Customer.objects.filter(pk__in=ordered_in_window.values("customer_id")).annotate(
                first_message=Subquery(first_message.values("timestamp")[:1]),
                first_order=Subquery(first_order.order_by("created_at").values("created_at")[:1]),
            ),
            since,
            until,
            field="first_order",
        )
        .filter(first_message__isnull=False, first_order__isnull=False)
        .values_list("first_message", "first_order")
    )
    hours = [max((order - message).total_seconds(), 0) / 3600 for message, order in rows]
    return round(median(hours), 1) if hours else None
