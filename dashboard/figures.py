"""The figures on the home page: what needs attention today (how the month is going: orders.reports)."""

from dataclasses import dataclass


@dataclass
class HomeFigures:
    unread_conversations: int
    messages_today: int
    open_orders: int


def home_figures(agent_tables, *, today_start):
    """Three indexed counts: customers with unread messages (partial index), messages since `today_start`
    (timestamp index), and open orders. Revenue comes from orders.reports (net of refunds)."""
    Customer, Message, Order = agent_tables.Customer, agent_tables.Message, agent_tables.Order
    return HomeFigures(
        unread_conversations=Customer.objects.with_messages().with_unread().count(),
        messages_today=Message.objects.filter(timestamp__gte=today_start).count(),
        open_orders=Order.objects.open().count(),
    )
