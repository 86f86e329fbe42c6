"""What WhatsApp charges the seller: the billable outbound messages of an order's conversation, of a customer,
of each month, by pricing category (kept per message from the statuses' `pricing`), and what they cost by the
seller's price table (MessagePrice: a price per category and country code prefix).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404

from .models import MessagePrice

CENT = Decimal("0.01")
# Billable: Meta's `pricing.type` "regular"; before it sent a type, `billable` said so (it is being retired).
BILLABLE = Q(pricing_type="regular") | Q(pricing_type__isnull=True, pricing_billable=True)


@dataclass
class Costs:
    """The billable messages of a set, by category, and their cost in each currency of the price table."""

    billable: int = 0
    by_category: dict = field(default_factory=dict)  # {category: count}
    cost: dict = field(default_factory=dict)  # {currency: Decimal}
    unpriced: int = 0  # billable messages the price table has no price for

    @property
    def cost_text(self):
        return " + ".join(
            f"{amount.quantize(CENT, ROUND_HALF_UP)} {currency}" for currency, amount in sorted(self.cost.items())
        )


def price_table(agent_id):
    """The agent's prices, longest country code prefix first (the most precise one wins)."""
    return sorted(MessagePrice.objects.filter(agent_id=agent_id), key=lambda p: (-len(p.country_prefix), p.pk))


def price_for(prices, category, phone):
    """The price of a `category` message to `phone` (E.164; a user id has no country: only "" prefixes match)."""
    digits = phone[1:] if phone.startswith("+") else ""
    for price in prices:
        if price.category == category and (
            digits.startswith(price.country_prefix) if digits else not price.country_prefix
        ):
            return price
    return None


def summarize(prices, messages):
    """Costs of a queryset of an agent's messages (one query)."""
    costs = Costs()
    by_category, cost = defaultdict(int), defaultdict(Decimal)
    rows = (
        messages.outbound()
        .filter(BILLABLE)
        .values_list("customer__phone", "pricing_category")
        .annotate(count=Count("id"))
        .order_by()
    )
    for phone, category, count in rows:
        category = category or "unknown"
        costs.billable += count
        by_category[category] += count
        price = price_for(prices, category, phone)
        if price is None:
            costs.unpriced += count
        else:
            cost[price.currency] += price.price * count
    costs.by_category, costs.cost = dict(sorted(by_category.items())), dict(cost)
    return costs


def order_messages(agent_tables, order):
    """The messages of an order's conversation: the customer's, from the order's creation until their next order."""
    later = (
        agent_tables.Order.objects.filter(customer_id=order.customer_id, created_at__gt=order.created_at)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    messages = agent_tables.Message.objects.filter(customer_id=order.customer_id, timestamp__gte=order.created_at)
    return messages.filter(timestamp__lt=later) if later else messages


def order_costs(agent_tables, order):
    return summarize(price_table(agent_tables.agent_id), order_messages(agent_tables, order))


def customer_costs(agent_tables, customer):
    return summarize(price_table(agent_tables.agent_id), agent_tables.Message.objects.filter(customer_id=customer.pk))


def monthly_costs(agent_tables, since):
    """[(first day of the month, Costs)] of every month from `since` with billable messages, newest first."""
    prices = price_table(agent_tables.agent_id)
    rows = (
        agent_tables.Message.objects.outbound()
        .filter(BILLABLE, timestamp__gte=since)
        .annotate(month=TruncMonth("timestamp"))
        .values_list("month", "customer__phone", "pricing_category")
        .annotate(count=Count("id"))
        .order_by()
    )
    months = defaultdict(lambda: (defaultdict(int), defaultdict(Decimal), [0, 0]))
    for month, phone, category, count in rows:
        by_category, cost, totals = months[month]
        category = category or "unknown"
        by_category[category] += count
        totals[0] += count
        price = price_for(prices, category, phone)
        if price is None:
            totals[1] += count
        else:
            cost[price.currency] += price.price * count
    return [
        (month, Costs(totals[0], dict(sorted(by_category.items())), dict(cost), totals[1]))
        for month, (by_category, cost, totals) in sorted(months.items(), key=lambda item: item[0], reverse=True)
    ]


def save_price(agent, *, category, country_prefix, price, currency):
    """Set the agent's price of a category to a prefix (a second price for the same pair replaces the first)."""
    found, _ = MessagePrice.objects.update_or_create(
        agent=agent,
        category=category,
        country_prefix=country_prefix,
        defaults={"price": price, "currency": currency.upper()},
    )
    return found


def prices_of(agent):
    return MessagePrice.objects.filter(agent=agent).order_by("category", "country_prefix")


def get_price_or_404(agent, price_id):
    return get_object_or_404(MessagePrice, pk=price_id, agent=agent)


def delete_price(price):
    price.delete()
