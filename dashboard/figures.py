"""The figures on the home page: what needs attention today and how the month is going."""

from dataclasses import dataclass

from django.db.models import DecimalField, Sum, Value
from django.db.models.functions import Coalesce


@dataclass
class HomeFigures:
    unread_conversations: int
    messages_today: int
    open_orders: int
    revenue_this_month: object


def home_figures(agent_tables, *, today_start, month_start, currency):
    """Four indexed counts: customers with unread messages (partial index), messages since
    `today_start` (timestamp index), open orders, and revenue of orders created since `month_start` in
    `currency` (the shop's: a cart priced in another is not added in)."""
    Customer, Message, Order = agent_tables.Customer, agent_tables.Message, agent_tables.Order
    revenue = (
        Order.objects.sold()
        .in_currency(currency)
        .filter(created_at__gte=month_start)
        .aggregate(
            total=Coalesce(Sum("total_amount"), Value(0), output_field=DecimalField(max_digits=14, decimal_places=2))
        )["total"]
    )
    return HomeFigures(
        unread_conversations=Customer.objects.with_messages().with_unread().count(),
        messages_today=Message.objects.filter(timestamp__gte=today_start).count(),
        open_orders=Order.objects.open().count(),
        revenue_this_month=revenue,
    )
