"""The product catalog's rules: one SKU per product of an agent, prices never negative, search and pages,
and what the other modules read from it (names for carts, products to match messages against)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from orders import catalog
from orders.models import Product


def add(agent, name, sku, price="10.00", **fields):
    return catalog.save_product(agent, name=name, retailer_id=sku, price=Decimal(price), **fields)


def test_a_sku_is_unique_in_one_catalog_but_another_agent_may_use_it(agent_a, agent_b):
    add(agent_a, "Linen shirt M", "linen-shirt-m")
    with pytest.raises(ValidationError, match="already have a product with this SKU"):
        add(agent_a, "Another shirt", "linen-shirt-m")
    add(agent_b, "B's shirt", "linen-shirt-m")
    assert Product.objects.filter(retailer_id="linen-shirt-m").count() == 2


def test_the_database_refuses_a_negative_price(agent_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.create(agent=agent_a, name="Gift", retailer_id="gift", price=Decimal("-1"))


def test_search_finds_by_name_or_sku_and_archived_products_are_apart(agent_a):
    shirt = add(agent_a, "Linen shirt", "linen-shirt-m")
    add(agent_a, "Blue vase", "vase-blue")
    catalog.archive_product(shirt)
    assert [p.name for p in catalog.products_page(agent_a).products] == ["Blue vase"]
    assert [p.name for p in catalog.products_page(agent_a, query="VASE").products] == ["Blue vase"]
    assert [p.name for p in catalog.products_page(agent_a, query="shirt-m", archived=True).products] == ["Linen shirt"]
    catalog.unarchive_product(shirt)
    assert [p.name for p in catalog.products_page(agent_a, query="linen").products] == ["Linen shirt"]


def test_pages_follow_each_other_without_repeating_or_skipping(agent_a):
    for n in range(catalog.PAGE_SIZE + 3):
        add(agent_a, f"Product {n:03}", f"sku-{n}")
    first = catalog.products_page(agent_a)
    second = catalog.products_page(agent_a, cursor=first.next_cursor)
    names = [p.name for p in first.products + second.products]
    assert names == [f"Product {n:03}" for n in range(catalog.PAGE_SIZE + 3)]
    assert second.next_cursor is None


def test_one_agents_catalog_functions_never_reach_anothers_products(agent_a, agent_b):
    mine = add(agent_a, "Mine", "mine")
    theirs = add(agent_b, "B-SECRET-PRODUCT", "theirs", "5")
    assert catalog.products_for_matching(agent_a) == [(mine.pk, "Mine", "mine", Decimal("10.00"))]
    assert catalog.names_by_retailer_id(agent_a, ["mine", "theirs"]) == {"mine": "Mine"}
    assert catalog.sendable_products(agent_a, [theirs.pk, mine.pk]) == [mine]
    assert "B-SECRET-PRODUCT" not in "".join(catalog.export_products(agent_a))


def test_products_for_matching_are_the_active_ones(agent_a):
    vase = add(agent_a, "Blue vase", "vase-blue", "25.50")
    catalog.archive_product(add(agent_a, "Old vase", "vase-old"))
    assert catalog.products_for_matching(agent_a) == [(vase.pk, "Blue vase", "vase-blue", Decimal("25.50"))]


def test_an_archived_product_still_names_old_cart_lines(agent_a):
    catalog.archive_product(add(agent_a, "Linen shirt M", "linen-shirt-m"))
    assert catalog.names_by_retailer_id(agent_a, ["linen-shirt-m", "unknown"]) == {"linen-shirt-m": "Linen shirt M"}


def test_the_export_neutralises_cells_a_spreadsheet_would_run(agent_a):
    add(agent_a, '=HYPERLINK("http://evil")', "evil")
    lines = list(catalog.export_products(agent_a))
    assert lines[0].strip() == ",".join(catalog.EXPORT_HEADER)
    assert lines[1].startswith("\"'=HYPERLINK")


def test_an_order_read_out_of_a_message_matches_the_catalogs_products(agent_a):
    from orders import reading

    add(agent_a, "Blue vase", "vase-blue", "25.50")
    [line] = reading.propose(agent_a, "2 blue vases please").lines
    assert (line.quantity, line.candidate.name, line.candidate.retailer_id) == (2, "Blue vase", "vase-blue")
    assert line.candidate.price == Decimal("25.50")
