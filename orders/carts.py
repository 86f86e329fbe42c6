"""A WhatsApp cart (an inbound `order` message) becomes a draft order the agent confirms or edits."""

from django.db import IntegrityError, transaction

from agents import tables
from whatsapp import payloads

from . import catalog
from .placing import OrderError, clean_line_item, create_order


def cart_items(payload, agent):
    """(LineItems, currency, note) of a Meta `order` message object; OrderError when the cart is not usable.

    The items are the cart's lines as whatsapp.payloads reads them, the ones its message shows, each named
    as the agent's catalog names its retailer id ("Product <retailer id>" when the catalog does not know it).
    """
    body = payload.get("order") if isinstance(payload, dict) else None
    cart = payloads.cart(body)
    if not cart.lines:
        raise OrderError("The cart has no products.")
    names = catalog.names_by_retailer_id(agent, [line.product_retailer_id for line in cart.lines])
    items = [
        clean_line_item(
            names.get(line.product_retailer_id) or f"Product {line.product_retailer_id}",
            line.quantity,
            line.price,
            line.product_retailer_id,
        )
        for line in cart.lines
    ]
    return items, (cart.currency or "").upper()[:3] or None, cart.note or ""


def draft_order_from_cart(agent, message):
    """Create the draft (pending) order for a cart message, once; returns it, or None if the cart is unusable.

    Idempotent: the cart's wamid is kept on the order, so a re-delivered cart makes no second order.
    """
    agent_tables = tables.for_agent(agent)
    existing = agent_tables.Order.objects.filter(source_wamid=message.wamid).first() if message.wamid else None
    if existing is not None:
        return existing
    try:
        items, currency, text = cart_items(message.payload, agent)
    except OrderError:
        return None
    try:
        with transaction.atomic(using=agent_tables.database):
            return create_order(
                agent,
                message.customer,
                items,
                actor=None,
                actor_name=f"{message.customer.name} (WhatsApp cart)",
                notes=f"From the customer's WhatsApp cart. {text}".strip(),
                source="cart",
                source_wamid=message.wamid,
                currency=currency,
            )
    except IntegrityError:
        # Another delivery of the same cart won the race.
        return agent_tables.Order.objects.filter(source_wamid=message.wamid).first()
