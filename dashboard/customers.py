"""The customers pages' reading side: avatars, the list a page at a time, a customer's summary, the CSV."""

import hashlib
import re
from dataclasses import dataclass

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from agents import labels
from agents.customers import search_customers
from crm import paging
from crm.csv_export import csv_lines, csv_safe
from orders.statuses import SOLD_STATUSES, in_currency
from whatsapp.costs import customer_costs
from whatsapp.customers import number_changes

PAGE_SIZE = 50
MONEY = DecimalField(max_digits=14, decimal_places=2)


AVATAR_COLOURS = 8


@dataclass
class Avatar:
    picture: str | None  # the URL of the uploaded picture, or None for initials
    initials: str
    colour: int


def avatar_of(customer):
    """The uploaded picture (served by customer_avatar, versioned so browsers may cache it) or initials."""
    picture = None
    if customer.profile_image_url:
        version = hashlib.blake2b(customer.profile_image_url.encode(), digest_size=6).hexdigest()
        picture = f"{reverse('customer_avatar', args=[customer.pk])}?v={version}"
    return Avatar(picture=picture, initials=initials(customer.name), colour=customer.pk % AVATAR_COLOURS)


def initials(name):
    """Up to two letters for an avatar: "Maria Silva" -> "MS", "+14155550100" -> "#"."""
    words = [w for w in re.split(r"\s+", name or "") if w and w[0].isalpha()]
    if not words:
        return "#"
    letters = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return letters.upper()


@dataclass
class CustomerPage:
    customers: list  # each with .labels
    next_cursor: str | None


def customers_page(agent_tables, *, agent=None, search="", label=None, cursor=None, size=PAGE_SIZE):
    """Customers in name order, a page at a time (keyset on name, id); with `label`, those that carry it."""
    customers = search_customers(agent_tables, search)
    if label is not None:
        customers = customers.filter(pk__in=labels.customer_ids_labelled(agent, agent_tables, label))
    if cursor:
        name, pk = paging.decode(cursor, str, int)
        customers = customers.filter(paging.after("name", name, pk, descending=False))
    found = list(customers.order_by("name", "id")[: size + 1])
    more = len(found) > size
    found = found[:size]
    on = labels.labels_by_customer(agent, [c.pk for c in found]) if agent is not None and found else {}
    for customer in found:
        customer.labels = on.get(customer.pk, [])
    return CustomerPage(found, paging.encode(found[-1].name, found[-1].pk) if more else None)


@dataclass
class CustomerSummary:
    first_contact: object
    last_contact: object
    order_count: int
    lifetime_value: object
    recent_orders: list
    recent_messages: list
    number_changes: list  # whatsapp.models.CustomerNumberChange, newest first
    costs: object  # whatsapp.costs.Costs of all their messages


RECENT_ORDERS = 10
RECENT_MESSAGES = 5


def customer_summary(agent_tables, customer, currency):
    """The customer page's figures; the lifetime value adds the sales in `currency` (the shop's) only."""
    Message, Order = agent_tables.Message, agent_tables.Order
    thread = Message.objects.filter(customer=customer)
    first = thread.order_by("timestamp", "id").values_list("timestamp", flat=True)
    orders = Order.objects.filter(customer=customer)
    totals = orders.aggregate(
        count=Count("id"),
        value=Coalesce(
            Sum("total_amount", filter=Q(status__in=SOLD_STATUSES) & in_currency(currency)),
            Value(0),
            output_field=MONEY,
        ),
    )
    return CustomerSummary(
        first_contact=first.first(),
        last_contact=customer.last_message_at,
        order_count=totals["count"],
        lifetime_value=totals["value"],
        recent_orders=list(orders.order_by("-created_at", "-id")[:RECENT_ORDERS]),
        recent_messages=list(thread.order_by("-timestamp", "-id")[:RECENT_MESSAGES])[::-1],
        number_changes=number_changes(agent_tables.agent_id, customer.pk),
        costs=customer_costs(agent_tables, customer),
    )


EXPORT_HEADER = [
    "id",
    "name",
    "phone",
    "customer_since",
    "last_message_at",
    "unread_messages",
    "orders",
    "lifetime_value",
    "currency",
    "labels",
]


def export_rows(agent_tables, currency, search="", *, agent=None, label=None):
    """CSV lines (header first) for every customer matching `search` (and carrying `label`), in id order;
    the lifetime value is a plain number of the sales in `currency` (the shop's), named in its column."""
    agent_tables.Order  # noqa: B018 (built first: the customers' `orders` relation comes with the class)
    customers = search_customers(agent_tables, search)
    if label is not None:
        customers = customers.filter(pk__in=labels.customer_ids_labelled(agent, agent_tables, label))
    # Every labelled customer's labels at once: a few thousand rows at most, read before the first byte.
    on = labels.label_names_by_customer(agent) if agent is not None else {}
    in_shop_currency = Q(orders__currency__isnull=True) | Q(orders__currency="") | Q(orders__currency=currency)
    customers = customers.annotate(
        order_count=Count("orders", distinct=True),
        lifetime_value=Coalesce(
            Sum("orders__total_amount", filter=Q(orders__status__in=SOLD_STATUSES) & in_shop_currency),
            Value(0),
            output_field=MONEY,
        ),
    ).order_by("id")
    return csv_lines(
        EXPORT_HEADER,
        (
            [
                c.pk,
                csv_safe(c.name),
                c.phone,
                c.created_at.isoformat() if c.created_at else "",
                c.last_message_at.isoformat() if c.last_message_at else "",
                c.unread_count or 0,
                c.order_count,
                f"{c.lifetime_value:.2f}",
                currency,
                ", ".join(on.get(c.pk, [])),
            ]
            for c in customers.iterator(chunk_size=2000)
        ),
    )
