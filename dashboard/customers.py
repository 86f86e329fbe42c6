"""The customers pages' reading side: avatars, the list a page at a time, a customer's summary, the CSV."""

import hashlib
import re
from dataclasses import dataclass

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from agents.customers import search_customers
from crm import paging
from crm.csv_export import csv_lines, csv_safe
from orders.statuses import SOLD_STATUSES

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
    customers: list
    next_cursor: str | None


def customers_page(agent_tables, *, search="", cursor=None, size=PAGE_SIZE):
    """Customers in name order, a page at a time (keyset on name, id)."""
    return CustomerPage(*paging.ascending_page(search_customers(agent_tables, search), "name", cursor, size))


@dataclass
class CustomerSummary:
    first_contact: object
    last_contact: object
    order_count: int
    lifetime_value: object
    recent_orders: list
    recent_messages: list


RECENT_ORDERS = 10
RECENT_MESSAGES = 5


def customer_summary(agent_tables, customer):
    Message, Order = agent_tables.Message, agent_tables.Order
    thread = Message.objects.filter(customer=customer)
    first = thread.order_by("timestamp", "id").values_list("timestamp", flat=True)
    orders = Order.objects.filter(customer=customer)
    totals = orders.aggregate(
        count=Count("id"),
        value=Coalesce(Sum("total_amount", filter=Q(status__in=SOLD_STATUSES)), Value(0), output_field=MONEY),
    )
    return CustomerSummary(
        first_contact=first.first(),
        last_contact=customer.last_message_at,
        order_count=totals["count"],
        lifetime_value=totals["value"],
        recent_orders=list(orders.order_by("-created_at", "-id")[:RECENT_ORDERS]),
        recent_messages=list(thread.order_by("-timestamp", "-id")[:RECENT_MESSAGES])[::-1],
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
]


def export_rows(agent_tables, search=""):
    """CSV lines (header first) for every customer matching `search`, streamed in id order."""
    customers = (
        search_customers(agent_tables, search)
        .annotate(
            order_count=Count("orders", distinct=True),
            lifetime_value=Coalesce(
                Sum("orders__total_amount", filter=Q(orders__status__in=SOLD_STATUSES)),
                Value(0),
                output_field=MONEY,
            ),
        )
        .order_by("id")
    )
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
            ]
            for c in customers.iterator(chunk_size=2000)
        ),
    )
