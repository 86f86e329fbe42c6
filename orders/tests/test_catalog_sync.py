"""Syncing the catalog from the agent's Meta commerce catalog through the fake Graph API: products added,
changed and removed, a failing sync, and what the request asks Meta for."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from orders import catalog, catalog_sync
from orders.models import Product
from whatsapp import tasks

CATALOG_ID = "1700000000000001"


def meta_product(retailer_id, name, price="$10.00", **fields):
    return {
        "id": f"71{abs(hash(retailer_id)) % 10**12:012}",
        "retailer_id": retailer_id,
        "name": name,
        "price": price,
        "currency": "USD",
        "availability": "in stock",
        **fields,
    }


@pytest.fixture
def shop(connected_shop):
    catalog_sync.set_catalog_id(connected_shop.agent, CATALOG_ID)
    return connected_shop


def active(agent):
    return {p.retailer_id: (p.name, p.price, p.in_stock) for p in catalog.products_of(agent).active()}


def test_a_sync_adds_changes_and_archives_what_the_meta_catalog_says(shop, fake_graph):
    agent = shop.agent
    catalog.save_product(agent, name="Made by hand", retailer_id="own-sku", price=Decimal("1.00"))
    fake_graph.set_catalog(
        CATALOG_ID,
        [meta_product("vase-blue", "Blue vase", "$25.50"), meta_product("wrap", "Gift wrap", "$3.00")],
    )
    sync = catalog_sync.sync_catalog(agent)
    assert (sync.added, sync.changed, sync.removed, sync.error) == (2, 0, 0, "")
    assert sync.succeeded_at == sync.finished_at

    fake_graph.set_catalog(
        CATALOG_ID,
        [meta_product("vase-blue", "Blue vase, large", "$27.00", availability="out of stock")],
    )
    sync = catalog_sync.sync_catalog(agent)

    assert (sync.added, sync.changed, sync.removed) == (0, 1, 1)
    assert active(agent) == {
        "vase-blue": ("Blue vase, large", Decimal("27.00"), False),
        "own-sku": ("Made by hand", Decimal("1.00"), True),
    }
    assert Product.objects.get(agent=agent, retailer_id="wrap").archived_at is not None

    fake_graph.set_catalog(CATALOG_ID, [meta_product("wrap", "Gift wrap", "$3.00")])
    sync = catalog_sync.sync_catalog(agent)
    assert (sync.added, sync.changed, sync.removed) == (0, 1, 1)
    assert set(active(agent)) == {"wrap", "own-sku"}


def test_the_sync_asks_meta_for_the_product_fields_and_follows_its_pages(shop, fake_graph):
    fake_graph.set_catalog(CATALOG_ID, [meta_product(f"sku-{n}", f"Product {n}") for n in range(130)])
    sync = catalog_sync.sync_catalog(shop.agent)
    assert sync.added == 130
    calls = fake_graph.calls(f"/{CATALOG_ID}/products")
    assert len(calls) == 2
    assert calls[0].method == "GET"
    assert calls[0].query["fields"] == ["id,retailer_id,name,description,price,currency,image_url,availability"]
    assert calls[0].authorization.startswith("Bearer ")


def test_a_failing_sync_is_recorded_and_changes_nothing(shop, fake_graph, settings):
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 1
    fake_graph.set_catalog(CATALOG_ID, [meta_product("vase-blue", "Blue vase")])
    first = catalog_sync.sync_catalog(shop.agent)
    fake_graph.set_catalog(CATALOG_ID, [])
    fake_graph.fail_next(error="190", path="/products")

    sync = catalog_sync.sync_catalog(shop.agent)

    assert sync.error.startswith("Meta answered: (#190) Access token has expired")
    assert sync.succeeded_at == first.succeeded_at
    assert set(active(shop.agent)) == {"vase-blue"}


def test_without_a_catalog_id_the_sync_says_how_to_link_one(connected_shop, fake_graph):
    sync = catalog_sync.sync_catalog(connected_shop.agent)
    assert sync.error == catalog_sync.NO_CATALOG
    assert fake_graph.calls("/products") == []
    with pytest.raises(catalog_sync.CatalogSyncError):
        catalog_sync.request_sync(connected_shop.agent)


def test_products_meta_lists_without_a_sku_or_a_readable_price_are_skipped_and_named(shop, fake_graph):
    fake_graph.set_catalog(
        CATALOG_ID,
        [
            meta_product("vase-blue", "Blue vase"),
            meta_product("", "No SKU"),
            meta_product("free", "Free thing", price="free"),
        ],
    )
    sync = catalog_sync.sync_catalog(shop.agent)
    assert sync.added == 1
    assert sync.error.startswith("2 products skipped:")
    assert "free has no price we can read" in sync.error


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("$25.50", "25.50"),
        ("25,50 €", "25.50"),
        ("EUR 1,234.00", "1234.00"),
        ("1.234,5 €", "1234.50"),
        ("₹1,00,000", "100000.00"),
        ("¥300", "300.00"),
        ("", None),
        ("free", None),
    ],
)
def test_a_price_meta_formats_is_read_as_its_amount(text, amount):
    assert catalog_sync.meta_price(text) == (Decimal(amount) if amount else None)


def test_the_clock_enqueues_a_sync_for_each_agent_with_a_catalog(shop, fake_graph):
    fake_graph.set_catalog(CATALOG_ID, [meta_product("vase-blue", "Blue vase")])
    done = tasks.run_periodic_work(sync_templates_now=True)
    assert done["catalog_syncs"] == 1
    assert set(active(shop.agent)) == {"vase-blue"}


def test_the_command_syncs_one_agent_and_says_how_it_went(shop, fake_graph, capsys):
    fake_graph.set_catalog(CATALOG_ID, [meta_product("vase-blue", "Blue vase")])
    call_command("sync_catalogs", agent=shop.agent.pk)
    assert f"Catalog {CATALOG_ID} synced: 1 added, 0 changed, 0 removed." in capsys.readouterr().out


def test_the_clocks_rounds_enqueue_a_catalog_sync_once_per_interval(shop, fake_graph, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.CATALOG_SYNC_INTERVAL = 3600
    now = timezone.now()
    assert catalog_sync.enqueue_catalog_syncs(now) == 1
    assert catalog_sync.enqueue_catalog_syncs(now + timedelta(minutes=1)) == 0
    assert catalog_sync.enqueue_catalog_syncs(now + timedelta(minutes=61)) == 1
    assert len(fake_graph.calls(f"/{CATALOG_ID}/products")) == 2
