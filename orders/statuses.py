"""What an order's status means to the business: which statuses close an order, which count as sold, and the
QuerySet that speaks them, given to every agent's generated Order class (agents.tables.register_behaviour).

The statuses themselves are the contract's order_status enum (agents.tables.ORDER_STATUSES).
"""

from django.db import models

from agents.tables import OrderBase

CLOSED_STATUSES = ("delivered", "cancelled", "refunded")
# Orders that count as revenue and lifetime value: confirmed and not undone.
SOLD_STATUSES = ("confirmed", "processing", "shipped", "delivered")


class OrderQuerySet(models.QuerySet):
    def open(self):
        return self.exclude(status__in=CLOSED_STATUSES)

    def sold(self):
        return self.filter(status__in=SOLD_STATUSES)

    def in_currency(self, currency):
        """Orders whose amounts are in `currency` (the shop's): those that carry it, and those that carry
        none (taken in the dashboard, in the shop's own)."""
        return self.filter(in_currency(currency))

    def in_other_currencies(self, currency):
        """Orders in another currency than `currency` (a cart priced in another): flagged, never added in."""
        return self.exclude(in_currency(currency))


def in_currency(currency):
    """The condition that an order's amounts are in `currency`."""
    return models.Q(currency__isnull=True) | models.Q(currency="") | models.Q(currency=currency)


class Order(OrderBase):
    objects = OrderQuerySet.as_manager()

    class Meta:
        abstract = True
