"""Importing products from CSV: the preview names each bad row and what will be added or updated, and
nothing is written until the seller confirms."""

from decimal import Decimal

import pytest

from orders import catalog
from orders.catalog_import import CatalogImportError, apply_import, preview_import
from orders.models import Product

HEADER = "name,sku,price,currency,description,image_url,in_stock\n"


def csv_bytes(*lines, header=HEADER):
    return (header + "".join(line + "\n" for line in lines)).encode()


def errors_by_line(preview):
    return {row.line: row.errors for row in preview.errors}


def test_each_bad_row_is_named_with_what_is_wrong(agent_a):
    raw = csv_bytes(
        "Blue vase,vase-blue,25.50,EUR,,,yes",  # 2: good
        ",no-name,3.00,,,,",  # 3
        "Bad price,bad-price,twelve,,,,",  # 4
        "Negative,negative,-1,,,,",  # 5
        "Duplicate,vase-blue,1.00,,,,",  # 6
        "x" * 201 + ",long-name,1,,,,",  # 7
        "Three decimals,three,1.005,,,,",  # 8
        "Bad currency,currency,1,EURO,,,",  # 9
        "Bad stock,stock,1,,,,maybe",  # 10
        "Bad image,image,1,,,javascript:alert(1),",  # 11
        "No price,no-price,,,,,",  # 12
    )
    preview = preview_import(agent_a, raw)
    errors = errors_by_line(preview)
    assert errors[3] == ["The name is missing."]
    assert errors[4] == ["The price 'twelve' is not a number such as 12.50."]
    assert errors[5] == ["The price cannot be negative."]
    assert errors[6] == ["The SKU vase-blue is already on line 2."]
    assert errors[7] == ["The name has 201 characters; at most 200."]
    assert errors[8] == ["The price 1.005 has more than two decimals."]
    assert errors[9] == ["The currency 'EURO' is not a three-letter code such as EUR."]
    assert errors[10] == ["In stock must be yes or no, not 'maybe'."]
    assert errors[11] == ["The image URL is not a web address (http:// or https://)."]
    assert errors[12] == ["The price is missing."]
    assert [row.line for row in preview.to_add] == [2]
    assert Product.objects.count() == 0, "a preview writes nothing"


def test_a_nul_byte_and_bytes_that_are_not_utf8_are_refused_for_their_row_only(agent_a):
    raw = csv_bytes("Good,good,1,,,,") + "Caf\xe9,latin1,2,,,,\n".encode("latin-1") + b"Nul\x00,nul,3,,,,\n"
    preview = preview_import(agent_a, raw)
    errors = errors_by_line(preview)
    assert "not UTF-8" in errors[3][0]
    assert "NUL character" in errors[4][0]
    assert [row.values["name"] for row in preview.to_add] == ["Good"]


def test_the_preview_says_what_is_added_updated_and_unchanged_and_confirm_writes_only_that(agent_a):
    catalog.save_product(agent_a, name="Blue vase", retailer_id="vase-blue", price=Decimal("20.00"))
    catalog.save_product(agent_a, name="Gift wrap", retailer_id="wrap", price=Decimal("2.00"))
    raw = csv_bytes(
        "Blue vase,vase-blue,25.50,,,,",
        "Gift wrap,wrap,2.00,,,,yes",
        "Linen shirt M,linen-shirt-m,39.90,EUR,Soft linen,https://shop.example/shirt.jpg,no",
        ",broken,1,,,,",
    )
    preview = preview_import(agent_a, raw)
    assert [row.values["retailer_id"] for row in preview.to_update] == ["vase-blue"]
    assert [row.values["retailer_id"] for row in preview.unchanged] == ["wrap"]
    assert [row.values["retailer_id"] for row in preview.to_add] == ["linen-shirt-m"]

    result = apply_import(agent_a, preview.token)

    assert (result.added, result.updated) == (1, 1)
    shirt = Product.objects.get(agent=agent_a, retailer_id="linen-shirt-m")
    assert (shirt.name, shirt.price, shirt.currency, shirt.in_stock) == (
        "Linen shirt M",
        Decimal("39.90"),
        "EUR",
        False,
    )
    assert shirt.image_url == "https://shop.example/shirt.jpg"
    assert Product.objects.get(agent=agent_a, retailer_id="vase-blue").price == Decimal("25.50")
    assert not Product.objects.filter(retailer_id="broken").exists()


def test_a_preview_cannot_be_confirmed_by_another_agent_or_after_tampering(agent_a, agent_b):
    preview = preview_import(agent_a, csv_bytes("Blue vase,vase-blue,25.50,,,,"))
    with pytest.raises(CatalogImportError, match="another shop"):
        apply_import(agent_b, preview.token)
    with pytest.raises(CatalogImportError, match="damaged"):
        apply_import(agent_a, preview.token[:-3] + "xyz")
    assert Product.objects.count() == 0


def test_a_file_without_the_required_columns_is_refused_whole(agent_a):
    with pytest.raises(CatalogImportError, match="retailer_id, price missing"):
        preview_import(agent_a, b"title,cost\nVase,3\n")
    with pytest.raises(CatalogImportError, match="empty"):
        preview_import(agent_a, b"")


def test_a_byte_order_mark_and_semicolonless_export_round_trip(agent_a):
    catalog.save_product(agent_a, name="Blue vase", retailer_id="vase-blue", price=Decimal("20.00"))
    exported = "".join(catalog.export_products(agent_a)).encode("utf-8-sig")
    preview = preview_import(agent_a, exported)
    assert [row.values["retailer_id"] for row in preview.unchanged] == ["vase-blue"]
