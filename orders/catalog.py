"""An agent's product catalog: listing and searching it, adding, changing and archiving products, the names
cart lines and order items show, and what other modules match messages against.

Every function takes the agent and reaches its products through it: agent A never sees agent B's rows.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crm import paging
from crm.csv_export import csv_lines
from whatsapp import send

from . import placing
from .models import Product

PAGE_SIZE = 50
EXPORT_HEADER = ("name", "retailer_id", "price", "currency", "description", "image_url", "in_stock", "archived")
# What a product form sets; the rest (agent, Meta's id, times) the catalog keeps itself.
EDITABLE_FIELDS = ("name", "retailer_id", "price", "currency", "description", "image_url", "in_stock")


def products_of(agent):
    return Product.objects.filter(agent=agent)


def get_product_or_404(agent, product_id):
    return get_object_or_404(Product, pk=product_id, agent=agent)


@dataclass(frozen=True)
class ProductPage:
    products: list
    next_cursor: str


def products_page(agent, *, query="", archived=False, cursor=""):
    """One page of the agent's products by name, searched by name or SKU; the archived ones instead when asked.

    `cursor` is the next_cursor of the page before (crm.paging.InvalidCursor when it was not written here).
    """
    products = products_of(agent).search(query)
    products = products.archived() if archived else products.active()
    return ProductPage(*paging.ascending_page(products, "name", cursor, PAGE_SIZE))


def save_product(agent, *, product=None, **fields):
    """Create (or, given `product`, change) a product from EDITABLE_FIELDS; ValidationError when its SKU is taken."""
    product = product or Product(agent=agent)
    for name in EDITABLE_FIELDS:
        if name in fields:
            setattr(product, name, fields[name])
    product.currency = (product.currency or "").upper()
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:
        raise ValidationError({"retailer_id": "You already have a product with this SKU."}) from None
    return product


def archive_product(product):
    """Hide a product from the catalog and from what can be sent; its past order lines keep its name."""
    if product.archived_at is None:
        product.archived_at = timezone.now()
        product.save(update_fields=["archived_at", "updated_at"])
    return product


def unarchive_product(product):
    if product.archived_at is not None:
        product.archived_at = None
        product.save(update_fields=["archived_at", "updated_at"])
    return product


def products_for_matching(agent):
    """(id, name, retailer_id, price) of each of the agent's active products, by name: what a message is read
    against when it is turned into an order."""
    return [
        (pk, name, retailer_id, Decimal(price))
        for pk, name, retailer_id, price in products_of(agent)
        .active()
        .order_by("name", "id")
        .values_list("id", "name", "retailer_id", "price")
    ]


def names_by_retailer_id(agent, retailer_ids):
    """{retailer id: product name} for those of `retailer_ids` the agent's catalog knows, archived ones too
    (an old cart still names a product that has since left the catalog)."""
    wanted = {str(retailer_id) for retailer_id in retailer_ids if retailer_id}
    if not wanted:
        return {}
    return dict(products_of(agent).filter(retailer_id__in=wanted).values_list("retailer_id", "name"))


def item_suggestions(agent, prefix="", limit=10):
    """What the order form suggests for an item name starting with `prefix`: the catalog's active products
    first (name, price, SKU), then names sold before with their last price (no SKU); one row per name."""
    prefix = (prefix or "").strip()
    products = products_of(agent).active().filter(name__istartswith=prefix).order_by("name", "id")[:limit]
    suggestions = [(product.name, product.price, product.retailer_id) for product in products]
    seen = {name.lower() for name, _, _ in suggestions}
    for name, price in placing.known_items(agent, prefix, limit=limit):
        if len(suggestions) >= limit:
            break
        if name.lower() not in seen:
            seen.add(name.lower())
            suggestions.append((name, price, ""))
    return suggestions


def sendable_products(agent, product_ids):
    """The agent's active products among `product_ids`, in the order given; others are left out."""
    product_ids = [pk for pk in product_ids if isinstance(pk, int)]
    found = {product.pk: product for product in products_of(agent).active().filter(pk__in=product_ids)}
    return [found[pk] for pk in product_ids if pk in found]


def send_products(agent, customer, product_ids, *, header="", body="", footer="", sent_by, idempotency_key):
    """Send the customer the agent's products `product_ids` (one: a product message; more: a product list, in
    the order given). whatsapp.send.SendError when one is archived or not the agent's, or WhatsApp's rules
    refuse the message."""
    products = sendable_products(agent, list(dict.fromkeys(product_ids)))
    if len(products) != len(set(product_ids)):
        raise send.SendError("A chosen product is archived or no longer in your catalog; choose again.", "not_found")
    return send.send_products(
        agent,
        customer,
        [("", [(product.retailer_id, product.name) for product in products])],
        header=header,
        body=body,
        footer=footer,
        sent_by=sent_by,
        idempotency_key=idempotency_key,
    )


def send_order_products(agent, order, *, sent_by, idempotency_key):
    """Send the customer the catalog products among `order`'s items, as one product or a product list they can
    open and add to a cart again; SendError when none of its items is an active product of the catalog."""
    retailer_ids = list(dict.fromkeys(item.product_retailer_id for item in order.items.order_by("id")))
    found = {
        p.retailer_id: p for p in products_of(agent).active().filter(retailer_id__in=[r for r in retailer_ids if r])
    }
    products = [found[retailer_id] for retailer_id in retailer_ids if retailer_id in found]
    if not products:
        raise send.SendError("None of this order's items is a product of your catalog.", "no_products")
    return send_products(
        agent,
        order.customer,
        [product.pk for product in products[: send.MAX_PRODUCT_LIST_ITEMS]],
        header=f"Your order #{order.pk}",
        body="The products of your order: tap one to see it, or add it to your cart.",
        sent_by=sent_by,
        idempotency_key=idempotency_key,
    )


def export_products(agent):
    """Every product of the agent, archived ones too, as CSV lines (the columns an import reads back)."""
    rows = (
        (
            product.name,
            product.retailer_id,
            product.price,
            product.currency,
            product.description,
            product.image_url,
            "yes" if product.in_stock else "no",
            "yes" if product.archived_at else "no",
        )
        for product in products_of(agent).order_by("name", "id").iterator(chunk_size=500)
    )
    return csv_lines(EXPORT_HEADER, rows)
