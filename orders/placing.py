"""Taking orders: an order and its line items written together, totals computed here, never trusted.

`total_amount` is computed on the server in the transaction that writes the rows, whatever a client sent:
the items' totals (quantity x unit price), less the order's discount (an amount, or a percent of the items,
never more than they come to), plus its fee lines (delivery), which are order items of kind "fee".
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from agents import tables

from .history import record_event

MAX_ITEMS = 200
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("9999999999.99")
MAX_NAME_LENGTH = 300
DELIVERY_FEE_NAME = "Delivery"
CENT = Decimal("0.01")
# Orders that can still be edited: once shipped, what was shipped is what the order says.
EDITABLE_STATUSES = frozenset({"pending", "confirmed", "processing"})

# What else may keep an order's items from changing, from the apps above (payments: money came in for them).
_edit_guards = []


def register_edit_guard(guard):
    """`guard(agent, order)` answers why the order's items may not change now, or "" when they may."""
    if guard not in _edit_guards:
        _edit_guards.append(guard)


def edit_refusal(agent, order):
    """Why `order` can no longer be edited, or "" while it can."""
    if order.status not in EDITABLE_STATUSES:
        return f"A {order.status} order can no longer be edited."
    for guard in _edit_guards:
        if reason := guard(agent, order):
            return reason
    return ""


class OrderError(ValidationError):
    """An order request that cannot be carried out, with a message for the agent."""


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: int
    price: Decimal
    product_retailer_id: str | None = None
    kind: str = "item"

    @property
    def total(self):
        return self.quantity * self.price


@dataclass(frozen=True)
class Discount:
    """What the seller takes off the items: `value` as an amount ("amount") or a percent ("percent")."""

    type: str
    value: Decimal

    def amount_off(self, subtotal):
        if self.type == "percent":
            return (subtotal * self.value / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return self.value

    def __str__(self):
        return f"{self.value.normalize():f} %" if self.type == "percent" else ""


@dataclass(frozen=True)
class Totals:
    """An order's money: its items, the discount taken off them, its fees, and the total."""

    subtotal: Decimal
    discount: Decimal
    fees: Decimal
    total: Decimal


def totals_of(lines, discount=None):
    """The Totals of LineItems (or stored order items) and a Discount; OrderError when the discount is more
    than the items come to (a total is never negative)."""
    subtotal = sum((line.total for line in lines if line.kind != "fee"), Decimal("0"))
    fees = sum((line.total for line in lines if line.kind == "fee"), Decimal("0"))
    off = discount.amount_off(subtotal) if discount else Decimal("0")
    if off > subtotal:
        raise OrderError("The discount is more than the items come to: an order's total cannot be below its fees.")
    return Totals(subtotal=subtotal, discount=off, fees=fees, total=subtotal - off + fees)


def clean_amount(text, what, *, allow_empty=True):
    """A money amount typed by the seller ("3", "3.5", "3.50"), None when empty; OrderError saying what is wrong."""
    text = str(text if text is not None else "").strip()
    if not text:
        if allow_empty:
            return None
        raise OrderError(f"Enter {what}.")
    try:
        amount = Decimal(text)
    except (InvalidOperation, TypeError, ValueError):
        raise OrderError(f"{what.capitalize()} must be a number, like 3.50.")
    if not amount.is_finite() or amount < 0:
        raise OrderError(f"{what.capitalize()} must be zero or more.")
    if amount > MAX_PRICE:
        raise OrderError(f"{what.capitalize()} can be at most {MAX_PRICE:,}.")
    if amount != amount.quantize(CENT):
        raise OrderError(f"{what.capitalize()} has more than two decimals.")
    return amount


def clean_discount(discount_type, value):
    """A Discount from the order form's choice ("", "amount" or "percent") and value, or None for none."""
    if discount_type not in ("amount", "percent") or str(value or "").strip() == "":
        return None
    amount = clean_amount(value, "the discount")
    if discount_type == "percent" and amount > 100:
        raise OrderError("A discount in percent is at most 100 %.")
    return None if amount == 0 else Discount(discount_type, amount)


def delivery_fee(amount):
    """The delivery fee's order line (kind "fee"), or None for no fee."""
    return LineItem(DELIVERY_FEE_NAME, 1, amount, kind="fee") if amount else None


def clean_line_item(name, quantity, price, product_retailer_id=None):
    """A LineItem from raw values, or OrderError saying what is wrong with them."""
    name = (name or "").strip()
    if not name:
        raise OrderError("Every item needs a name.")
    if len(name) > MAX_NAME_LENGTH:
        raise OrderError(f"Item names are at most {MAX_NAME_LENGTH} characters (this one has {len(name):,}).")
    try:
        quantity = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise OrderError(f"The quantity of {name!r} must be a whole number.")
    if quantity < 1:
        raise OrderError(f"The quantity of {name!r} must be at least 1.")
    if quantity > MAX_QUANTITY:
        raise OrderError(f"The quantity of {name!r} must be at most {MAX_QUANTITY:,}.")
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
    if not any(item.kind != "fee" for item in items):
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
            kind=item.kind,
        )
        for item in items
    )


def _set_money(order, items, discount):
    """Write the order's discount and total, computed from its rows (`items`) and `discount`."""
    totals = totals_of(items, discount)
    order.discount_type = discount.type if discount else None
    order.discount_value = discount.value if discount else None
    order.discount_amount = totals.discount
    order.total_amount = totals.total
    return ["discount_type", "discount_value", "discount_amount", "total_amount"]


def stored_totals(order, items):
    """The Totals of a stored order and its items (all its rows), as they were computed when written."""
    subtotal = sum((item.total or 0 for item in items if item.kind != "fee"), Decimal("0"))
    fees = sum((item.total or 0 for item in items if item.kind == "fee"), Decimal("0"))
    return Totals(
        subtotal=subtotal, discount=order.discount_amount or Decimal("0"), fees=fees, total=order.total_amount
    )


def discount_of(order):
    """The order's Discount as stored, or None."""
    if order.discount_type in ("amount", "percent") and order.discount_value is not None:
        return Discount(order.discount_type, order.discount_value)
    return None


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
    discount=None,
):
    """Create a pending order for `customer` with `items` (LineItems, fee lines among them) less `discount`
    (a Discount, or None); returns the order.

    The history starts with the creation, by `actor` (a user, or None for WhatsApp: `actor_name` then
    says who, e.g. the customer who sent a cart).
    """
    _check_items(items)
    totals_of(items, discount)  # refuses a discount larger than the items before anything is written
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
        _write_items(agent_tables, order, items)
        order.save(update_fields=_set_money(order, items, discount))
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


def update_order(agent, order, items, *, actor, notes="", shipping_address="", discount=None):
    """Replace an order's items (fee lines among them), discount, notes and address while it is still editable."""
    _check_items(items)
    totals_of(items, discount)
    agent_tables = tables.for_agent(agent)
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        if refusal := edit_refusal(agent, order):
            raise OrderError(refusal)
        agent_tables.OrderItem.objects.filter(order=order).delete()
        _write_items(agent_tables, order, items)
        order.notes = (notes or "").strip() or None
        order.shipping_address = (shipping_address or "").strip() or None
        order.updated_at = timezone.now()
        order.save(update_fields=[*_set_money(order, items, discount), "notes", "shipping_address", "updated_at"])
        record_event(agent_tables, order, order.status, order.status, actor=actor, note="Items edited", kind="edited")
    return order


def address_for_new_order(agent, customer):
    """Where a new order for `customer` goes by default: their last order's address, else their saved one."""
    last = (
        tables.for_agent(agent)
        .Order.objects.filter(customer=customer)
        .exclude(shipping_address__isnull=True)
        .exclude(shipping_address="")
        .order_by("-created_at", "-id")
        .values_list("shipping_address", flat=True)
        .first()
    )
    return last or customer.address or ""


def known_items(agent, prefix="", limit=10):
    """Item names the agent sold before, newest first, each with its last unit price (for autocomplete)."""
    agent_tables = tables.for_agent(agent)
    seen, suggestions = set(), []
    rows = (
        agent_tables.OrderItem.objects.filter(name__istartswith=prefix.strip(), kind="item")
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
