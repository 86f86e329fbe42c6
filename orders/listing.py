"""The orders list: the agent's orders filtered, sorted and paged, the totals of the whole filtered set,
and the same set as CSV (orders, and their items).

Pages are keyset pages on the sort key and the id (crm.paging): page 400 costs what page 1 costs,
and a fixed number of queries serves a page whatever the agent holds.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from agents.customers import phone_digits
from crm import paging
from crm.csv_export import csv_lines, csv_safe

from .statuses import SOLD_STATUSES, in_currency

PAGE_SIZE = 50
MONEY = DecimalField(max_digits=14, decimal_places=2)
# sort name -> (field, descending, the cursor's type for the field's value)
SORTS = {
    "newest": ("created_at", True, paging.dt.datetime),
    "oldest": ("created_at", False, paging.dt.datetime),
    "total_high": ("total_amount", True, str),
    "total_low": ("total_amount", False, str),
    "updated": ("updated_at", True, paging.dt.datetime),
}


@dataclass(frozen=True)
class OrderFilters:
    status: str = "all"  # all, open, drafts (cart drafts still pending), or one status
    customer: str = ""  # part of a customer's name or phone
    customer_id: int | None = None
    since: object = None  # created at or after (aware datetime)
    until: object = None  # created before
    sort: str = "newest"


@dataclass
class Totals:
    orders: int
    value: Decimal  # every filtered order's total, in the shop's currency
    revenue: Decimal  # of those that count as sales (confirmed onwards, not cancelled or refunded)
    other_currencies: int = 0  # orders in another currency (carts): counted, their amounts not added in


@dataclass
class OrderPage:
    orders: list
    next_cursor: str | None
    totals: Totals


def filtered_orders(agent_tables, filters):
    orders = agent_tables.Order.objects.all()
    if filters.status == "open":
        orders = orders.open()
    elif filters.status == "drafts":
        orders = orders.filter(source="cart", status="pending")
    elif filters.status != "all":
        orders = orders.filter(status=filters.status)
    if filters.customer_id:
        orders = orders.filter(customer_id=filters.customer_id)
    if filters.customer:
        match = Q(customer__name__icontains=filters.customer)
        digits = phone_digits(filters.customer)
        if digits:
            match |= Q(customer__phone__contains=digits)
        orders = orders.filter(match)
    if filters.since is not None:
        orders = orders.filter(created_at__gte=filters.since)
    if filters.until is not None:
        orders = orders.filter(created_at__lt=filters.until)
    return orders


def totals_of(orders, currency):
    """The orders' count, and the value and revenue of those in `currency` (the shop's)."""
    mine = in_currency(currency)
    found = orders.aggregate(
        orders=Count("id"),
        value=Coalesce(Sum("total_amount", filter=mine), Value(0), output_field=MONEY),
        revenue=Coalesce(Sum("total_amount", filter=mine & Q(status__in=SOLD_STATUSES)), Value(0), output_field=MONEY),
        other=Count("id", filter=~mine),
    )
    return Totals(found["orders"], found["value"], found["revenue"], found["other"])


def _item_count(agent_tables):
    """How many items an order has: one indexed count per order shown (no GROUP BY over every column)."""
    items = agent_tables.OrderItem.objects.filter(order=OuterRef("pk"), kind="item").order_by().values("order")
    return Coalesce(Subquery(items.annotate(count=Count("id")).values("count")[:1]), Value(0))


def _ordering(sort):
    field, descending, _ = SORTS[sort]
    sign = "-" if descending else ""
    return [f"{sign}{field}", f"{sign}id"]


def _cursor(order, sort):
    field, _, kind = SORTS[sort]
    value = getattr(order, field)
    return paging.encode(str(value) if kind is str else value, order.pk)


def orders_page(agent_tables, filters, *, currency, cursor=None, size=PAGE_SIZE):
    """A page of the filtered orders (with their customer and item count) after `cursor`.

    Raises paging.InvalidCursor for a cursor this module did not write.
    """
    orders = filtered_orders(agent_tables, filters)
    totals = totals_of(orders, currency)
    field, descending, kind = SORTS[filters.sort]
    if cursor:
        value, pk = paging.decode(cursor, kind, int)
        if kind is str:
            try:
                value = Decimal(value)
            except ArithmeticError:
                raise paging.InvalidCursor("This page link is damaged; start again from the first page.") from None
        orders = orders.filter(paging.after(field, value, pk, descending=descending))
    found = list(
        orders.select_related("customer")
        .annotate(item_count=_item_count(agent_tables))
        .order_by(*_ordering(filters.sort))[: size + 1]
    )
    more = len(found) > size
    found = found[:size]
    return OrderPage(found, _cursor(found[-1], filters.sort) if more else None, totals)


# CSV ------------------------------------------------------------------------------------------------
# Amounts are plain numbers ("1234.50", a point, no grouping) that any spreadsheet reads, each row with its
# ISO currency code beside them: the order's own (a cart's) or the shop's.

ORDER_COLUMNS = [
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
ITEM_COLUMNS = [
    "order",
    "order_created_at",
    "order_status",
    "customer",
    "phone",
    "item",
    "product_retailer_id",
    "quantity",
    "unit_price",
    "line_total",
    "currency",
    "kind",
]


def _iso(moment):
    return moment.isoformat() if moment else ""


def export_orders(agent_tables, filters, currency):
    """CSV lines (header first): one per filtered order, in the list's order, streamed."""
    orders = (
        filtered_orders(agent_tables, filters)
        .select_related("customer")
        .annotate(item_count=_item_count(agent_tables))
        .order_by(*_ordering(filters.sort))
    )
    rows = (
        [
            o.pk,
            _iso(o.created_at),
            _iso(o.updated_at),
            o.status,
            csv_safe(o.customer.name),
            o.customer.phone,
            o.item_count,
            f"{o.discount_amount or 0:.2f}",
            f"{o.total_amount:.2f}",
            o.currency or currency,
            _iso(o.paid_at),
            o.source or "",
            csv_safe(o.shipping_address),
            csv_safe(o.notes),
        ]
        for o in orders.iterator(chunk_size=2000)
    )
    return csv_lines(ORDER_COLUMNS, rows)


def export_items(agent_tables, filters, currency):
    """CSV lines (header first): one per item of the filtered orders, orders in the list's order."""
    orders = filtered_orders(agent_tables, filters)
    ordering = [f"{'-' if key.startswith('-') else ''}order__{key.lstrip('-')}" for key in _ordering(filters.sort)]
    items = (
        agent_tables.OrderItem.objects.filter(order__in=orders.values("pk"))
        .select_related("order", "order__customer")
        .order_by(*ordering, "id")
    )
    rows = (
        [
            i.order_id,
            _iso(i.order.created_at),
            i.order.status,
            csv_safe(i.order.customer.name),
            i.order.customer.phone,
            csv_safe(i.name),
            csv_safe(i.product_retailer_id),
            i.quantity,
            f"{i.price:.2f}",
            f"{i.total if i.total is not None else i.quantity * i.price:.2f}",
            i.order.currency or currency,
            i.kind,
        ]
        for i in items.iterator(chunk_size=2000)
    )
    return csv_lines(ITEM_COLUMNS, rows)
