"""A WhatsApp cart (an inbound `order` message) becomes a draft order the agent confirms or edits."""

from django.db import IntegrityError, transaction

from agents import tables

from .placing import OrderError, clean_line_item, create_order


def cart_items(payload):
    """LineItems from a Meta `order` message object; OrderError when the cart is not usable."""
    order = payload.get("order") if isinstance(payload, dict) else None
    products = order.get("product_items") if isinstance(order, dict) else None
    if not isinstance(products, list) or not products:
        raise OrderError("The cart has no products.")
    items, currencies = [], set()
    for product in products:
        if not isinstance(product, dict):
            raise OrderError("The cart holds something that is not a product.")
        retailer_id = str(product.get("product_retailer_id") or "").strip()
        name = f"Product {retailer_id}" if retailer_id else "Product"
        items.append(clean_line_item(name, product.get("quantity"), product.get("item_price"), retailer_id or None))
        if product.get("currency"):
            currencies.add(str(product["currency"]).upper()[:3])
    return items, (currencies.pop() if len(currencies) == 1 else None), str(order.get("text") or "").strip()


def draft_order_from_cart(agent, message):
    """Create the draft (pending) order for a cart message, once; returns it, or None if the cart is unusable.

    Idempotent: the cart's wamid is kept on the order, so a re-delivered cart makes no second order.
    """
    agent_tables = tables.for_agent(agent)
    existing = agent_tables.Order.objects.filter(source_wamid=message.wamid).first() if message.wamid else None
    if existing is not None:
        return existing
    try:
        items, currency, text = cart_items(message.payload)
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
