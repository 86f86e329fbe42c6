"""The orders list the home page's figures link to: open orders, this month's orders, a page at a time."""

from dataclasses import dataclass

from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce

from . import paging
from .tables import ORDER_STATUSES

PAGE_SIZE = 50
STATUS_FILTERS = ("all", "open", *ORDER_STATUSES)
PERIODS = ("all", "month")


@dataclass
class OrderPage:
    orders: list
    next_cursor: str | None
    revenue: object  # of the whole filtered set, not only this page


def orders_page(agent_tables, *, status="all", since=None, cursor=None, size=PAGE_SIZE):
    orders = agent_tables.Order.objects.all()
    if status == "open":
        orders = orders.open()
    elif status != "all":
        orders = orders.filter(status=status)
    if since is not None:
        orders = orders.filter(created_at__gte=since)
    revenue = orders.revenue().aggregate(
        total=Coalesce(Sum("total_amount"), Value(0), output_field=DecimalField(max_digits=14, decimal_places=2))
    )["total"]
    if cursor:
        at, pk = paging.decode(cursor, paging.dt.datetime, int)
        orders = orders.filter(paging.after("created_at", at, pk))
    found = list(orders.select_related("customer").order_by("-created_at", "-id")[: size + 1])
    more = len(found) > size
    found = found[:size]
    return OrderPage(found, paging.encode(found[-1].created_at, found[-1].pk) if more else None, revenue)
