"""Syncing an agent's catalog from its Meta commerce catalog (the `catalog_id` beside its WhatsApp configuration).

    sync_catalog(agent) -> CatalogSync      # pulls GET /{catalog_id}/products, applies it, records how it went
    request_sync(agent)                     # the same in the background (the catalog page's button)
    enqueue_catalog_syncs() -> int          # one background sync per agent with a catalog (the clock's round)

A product Meta lists is added, or updated when it differs; a product that came from Meta and is no longer
listed is archived (its past orders keep its name), and comes back if Meta lists it again. Products the seller
added by hand are left alone unless Meta lists their SKU, which then takes them over.
"""

import logging
import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from agents.models import Agent
from crm import rls
from whatsapp.configuration import audited_values, configuration_for_agent, record_configuration_change, route
from whatsapp.graph import GraphError, client_for
from whatsapp.models import WhatsAppConfiguration
from whatsapp.tasks import enqueue_on_commit

from .catalog import products_of
from .models import CatalogSync, Product

logger = logging.getLogger(__name__)

NO_CATALOG = (
    "No Meta catalog is linked: enter the catalog id of your WhatsApp Business Account below (Commerce Manager "
    "shows it), then sync."
)
# The product item fields a sync reads (see whatsapp.graph.GraphClient.list_catalog_products).
SYNCED_FIELDS = ("name", "price", "currency", "description", "image_url", "in_stock")
_AMOUNT = re.compile(r"[0-9][0-9.,\s\u00a0\u202f']*")


class CatalogSyncError(Exception):
    """A sync that cannot start; str() says why, for the seller."""


def sync_status(agent):
    """What the catalog page shows about syncing: {"catalog_id": ..., "sync": CatalogSync or None}."""
    configuration = configuration_for_agent(agent)
    return {
        "catalog_id": (configuration.catalog_id or "") if configuration else "",
        "has_configuration": configuration is not None,
        "sync": CatalogSync.objects.filter(agent=agent).first(),
    }


def set_catalog_id(agent, catalog_id, *, actor=None, request=None):
    """Link the agent's WhatsApp configuration to a Meta catalog (empty: unlink); CatalogSyncError without one."""
    configuration = configuration_for_agent(agent)
    if configuration is None:
        raise CatalogSyncError("Connect a WhatsApp number first: a catalog belongs to a WhatsApp Business Account.")
    with transaction.atomic():
        configuration = WhatsAppConfiguration.objects.select_for_update().get(pk=configuration.pk)
        before = audited_values(configuration)
        configuration.catalog_id = catalog_id or None
        configuration.save(update_fields=["catalog_id", "updated_at"])
        record_configuration_change(configuration, before=before, token_changed=False, actor=actor, request=request)
    return configuration


def request_sync(agent):
    """Sync the agent's catalog in the background; CatalogSyncError when no catalog is linked."""
    configuration = configuration_for_agent(agent)
    if configuration is None or not configuration.catalog_id:
        raise CatalogSyncError(NO_CATALOG)
    enqueue_on_commit(run_sync, "default", agent.pk)


def enqueue_catalog_syncs(now=None):
    """A background sync for every agent whose WhatsApp number has a catalog; returns how many.

    Given `now` (the clock's round, each minute), only for the agents whose last sync started more than
    CATALOG_SYNC_INTERVAL seconds ago (or never): the sync's start is noted as it is enqueued, so a round does
    not enqueue one again while it waits for the worker.
    """
    phone_number_ids = (
        WhatsAppConfiguration.objects.routable()
        .exclude(catalog_id__isnull=True)
        .exclude(catalog_id="")
        .values_list("phone_number_id", flat=True)
    )
    agents = {routed.agent.pk: routed.configuration.catalog_id for routed in route(list(phone_number_ids)).values()}
    if now is not None:
        recent = CatalogSync.objects.filter(
            agent_id__in=list(agents), started_at__gt=now - timedelta(seconds=settings.CATALOG_SYNC_INTERVAL)
        ).values_list("agent_id", flat=True)
        for agent_id in recent:
            agents.pop(agent_id, None)
    for agent_id, catalog_id in sorted(agents.items()):
        if now is not None:
            CatalogSync.objects.update_or_create(
                agent_id=agent_id, defaults={"catalog_id": catalog_id, "started_at": now}
            )
        run_sync.enqueue(agent_id)
    return len(agents)


@task()
def run_sync(agent_id):
    """The background sync of one agent's catalog (by id: tasks never carry model instances)."""
    with rls.agent_scope(agent_id):
        agent = Agent.objects.filter(pk=agent_id).first()
        if agent is None:
            return "agent gone"
        sync = sync_catalog(agent)
        return f"failed: {sync.error}" if sync.succeeded_at != sync.finished_at else "synced"


def sync_catalog(agent):
    """Pull the agent's Meta catalog and apply it; returns the CatalogSync row saying how it went.

    A failure (no catalog linked, Meta refusing or unreachable) is recorded on the row, not raised; the
    products are left as they were.
    """
    configuration = configuration_for_agent(agent)
    catalog_id = (configuration.catalog_id or "") if configuration else ""
    sync, _ = CatalogSync.objects.get_or_create(agent=agent, defaults={"catalog_id": catalog_id})
    sync.catalog_id, sync.started_at = catalog_id, timezone.now()
    sync.save(update_fields=["catalog_id", "started_at"])
    try:
        if not catalog_id:
            raise CatalogSyncError(NO_CATALOG)
        items = client_for(configuration).list_catalog_products(catalog_id)
    except (CatalogSyncError, GraphError) as error:
        logger.warning("Catalog of agent %s not synced: %s", agent.pk, error)
        message = str(error) if isinstance(error, CatalogSyncError) else f"Meta answered: {error.describe()}"
        return _finish(sync, error=message)
    with transaction.atomic():
        added, changed, removed, skipped = apply_items(agent, items)
        note = ""
        if skipped:
            note = f"{len(skipped)} product{'s' if len(skipped) != 1 else ''} skipped: " + "; ".join(skipped[:5])
        return _finish(sync, added=added, changed=changed, removed=removed, error=note, succeeded=True)


def apply_items(agent, items):
    """Make the agent's Meta products those of `items` (Meta's product item dicts): (added, changed, removed,
    [why each item that makes no product was skipped])."""
    listed, skipped = _read_items(items)
    return (*_apply(agent, listed), skipped)


def _finish(sync, *, added=0, changed=0, removed=0, error="", succeeded=False):
    now = timezone.now()
    sync.finished_at = now
    sync.added, sync.changed, sync.removed, sync.error = added, changed, removed, error
    if succeeded:
        sync.succeeded_at = now
    sync.save()
    return sync


def _read_items(items):
    """({retailer id: fields} of the items a product can be made of, [why each other item was skipped])."""
    listed, skipped = {}, []
    for item in items:
        item = item if isinstance(item, dict) else {}
        retailer_id = str(item.get("retailer_id") or "").strip()
        name = str(item.get("name") or "").strip()
        price = meta_price(item.get("price"))
        what = retailer_id or str(item.get("id") or "a product")
        if not retailer_id or not name:
            skipped.append(f"{what} has no SKU or name")
        elif price is None:
            skipped.append(f"{what} has no price we can read ({item.get('price')!r})")
        elif len(name) > Product.NAME_MAX_LENGTH or len(retailer_id) > Product.RETAILER_ID_MAX_LENGTH:
            skipped.append(f"{what}: its name or SKU is longer than the catalog keeps")
        else:
            image_url = str(item.get("image_url") or "")
            listed[retailer_id] = {
                "name": name,
                "price": price,
                "currency": str(item.get("currency") or "").upper()[:3],
                "description": str(item.get("description") or "")[: Product.DESCRIPTION_MAX_LENGTH],
                "image_url": image_url if len(image_url) <= Product.IMAGE_URL_MAX_LENGTH else "",
                "in_stock": item.get("availability", "in stock") == "in stock",
                "meta_product_id": str(item.get("id") or "")[:64],
            }
    return listed, skipped


def _apply(agent, listed):
    products = {product.retailer_id: product for product in products_of(agent).select_for_update()}
    added = changed = removed = 0
    for retailer_id, fields in listed.items():
        product = products.get(retailer_id)
        if product is None:
            Product.objects.create(agent=agent, retailer_id=retailer_id, **fields)
            added += 1
            continue
        differs = [name for name, value in fields.items() if getattr(product, name) != value]
        if differs or product.archived_at is not None:
            for name, value in fields.items():
                setattr(product, name, value)
            product.archived_at = None
            product.save()
            changed += 1
    for retailer_id, product in products.items():
        if product.meta_product_id and retailer_id not in listed and product.archived_at is None:
            product.archived_at = timezone.now()
            product.save(update_fields=["archived_at", "updated_at"])
            removed += 1
    return added, changed, removed


def meta_price(text):
    """The amount of a price Meta formats with its currency ("$25.50", "25,50 €", "EUR 1,234.00") as a Decimal
    with two decimals; None when there is none. The last "." or "," followed by one or two digits is the
    decimal mark; every other mark groups thousands."""
    match = _AMOUNT.search(str(text or ""))
    if match is None:
        return None
    amount = re.sub(r"[\s\u00a0\u202f']", "", match.group(0)).rstrip(".,")
    head, mark, tail = max(amount.rpartition("."), amount.rpartition(","), key=lambda parts: len(parts[0]))
    if mark and 1 <= len(tail) <= 2:
        amount = re.sub(r"[.,]", "", head) + "." + tail
    else:
        amount = re.sub(r"[.,]", "", amount)
    try:
        return Decimal(amount).quantize(Decimal("0.01"))
    except InvalidOperation:
        return None
