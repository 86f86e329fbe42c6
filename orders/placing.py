"""Taking orders: an order and its line items written together, totals computed here, never trusted.

`total_amount` always equals the sum of the item totals (quantity x unit price), computed on the
server in the transaction that writes the items, whatever a client sent.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents import tables

from .history import record_event

MAX_ITEMS = 200
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("9999999999.99")
MAX_NAME_LENGTH = 300
# Orders that can still be edited: once shipped, what was shipped is what the order says.
EDITABLE_STATUSES = frozenset({"pending", "confirmed", "processing"})


class OrderError(ValidationError):
    """An order request that cannot be carried out, with a message for the agent."""


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: int
    price: Decimal
    product_retailer_id: str | None = None

    @property
    def total(self):
        return self.quantity * self.price


def clean_line_item(name, quantity, price, product_retailer_id=None):
    """A LineItem from raw values, or OrderError saying what is wrong with them."""
    name = (name or "").strip()
    if not name:
        raise OrderError("Every item needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise OrderError(f"Item names are at most {MAX_NAME_LENGTH} characters.")
    try:
        quantity = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise OrderError(f"The quantity of {name!r} must be a whole number.")
    if not 0 < quantity <= MAX_QUANTITY:
        raise OrderError(f"The quantity of {name!r} must be at least 1.")
    try:
        price = Decimal(str(price).strip())
    except (InvalidOperation, TypeError, ValueError):
        raise OrderError(f"The price of {name!r} must be a number.")
    if not price.is_finite() or price < 0 or price > MAX_PRICE:
        raise OrderError(f"The price of {name!r} must be zero or more.")
    if price != price.quantize(Decimal("0.01")):
        raise OrderError(f"The price of {name!r} has more than two decimals.")
    return LineItem(name=name, quantity=quantity, price=price, product_retailer_id=product_retailer_id)


def _check_items(items):
    if not items:
        raise OrderError("An order needs at least one item.")
    if len(items) > MAX_ITEMS:
        raise OrderError(f"An order holds at most {MAX_ITEMS} items.")


def _write_items(agent_tables, order, items):
    agent_tables.OrderItem.objects.bulk_create(
        agent_tables.OrderItem(
            order=order,
            name=item.name,
            quantity=item.quantity,
            price=item.price,
            total=item.total,
            product_retailer_id=item.product_retailer_id,
        )
        for item in items
    )
    return sum((item.total for item in items), Decimal("0"))


def create_order(
    agent,
    customer,
    items,
    *,
    actor,
    notes="",
    shipping_address="",
    source="agent",
    source_wamid=None,
    currency=None,
    actor_name=None,
):
    """Create a pending order for `customer` with `items` (LineItems); returns the order.

    The history starts with the creation, by `actor` (a user, or None for WhatsApp: `actor_name` then
    says who, e.g. the customer who sent a cart).
    """
    _check_items(items)
    agent_tables = tables.for_agent(agent)
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.create(
            customer=customer,
            status="pending",
            notes=(notes or "").strip() or None,
            shipping_address=(shipping_address or "").strip() or None,
            source=source,
            source_wamid=source_wamid,
            currency=currency,
        )
        order.total_amount = _write_items(agent_tables, order, items)
        order.save(update_fields=["total_amount"])
        record_event(
            agent_tables,
            order,
            None,
            "pending",
            actor=actor,
            note="Order created",
            kind="created",
            actor_name=actor_name,
        )
    return order


def update_order(agent, order, items, *, actor, notes="", shipping_address=""):
    """Replace an order's items, notes and address while it is still editable."""
    _check_items(items)
    agent_tables = tables.for_agent(agent)
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        if order.status not in EDITABLE_STATUSES:
            raise OrderError(f"A {order.status} order can no longer be edited.")
        agent_tables.OrderItem.objects.filter(order=order).delete()
        order.total_amount = _write_items(agent_tables, order, items)
        order.notes = (notes or "").strip() or None
        order.shipping_address = (shipping_address or "").strip() or None
        order.updated_at = timezone.now()
        order.save(update_fields=["total_amount", "notes", "shipping_address", "updated_at"])
        record_event(agent_tables, order, order.status, order.status, actor=actor, note="Items edited", kind="edited")
    return order


def known_items(agent, prefix="", limit=10):
    """Item names the agent sold before, newest first, each with its last unit price (for autocomplete)."""
    agent_tables = tables.for_agent(agent)
    seen, suggestions = set(), []
    rows = (
        agent_tables.OrderItem.objects.filter(name__istartswith=prefix.strip())
        .order_by("-created_at", "-id")
        .values_list("name", "price")[: limit * 10]
    )
    for name, price in rows:
        if name.lower() not in seen:
            seen.add(name.lower())
            suggestions.append((name, price))
        if len(suggestions) == limit:
            break
    return suggestions
