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


class Order(OrderBase):
    objects = OrderQuerySet.as_manager()

    class Meta:
        abstract = True
