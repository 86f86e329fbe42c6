"""The catalog pages as a seller uses them: list, search, add, edit, archive, CSV export and import, and the
Meta catalog's sync; and agent B's products never on agent A's pages."""

from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders import catalog, catalog_sync
from orders.models import Product


def add(agent, name, sku, price="10.00", **fields):
    return catalog.save_product(agent, name=name, retailer_id=sku, price=Decimal(price), **fields)


def page(client, url, *args, **params):
    response = client.get(reverse(url, args=args), params)
    return response.status_code, response.content.decode()


def test_the_list_shows_names_skus_and_prices_and_searches_them(seller):
    add(seller.agent, "Blue vase", "vase-blue", "25.50", currency="EUR")
    add(seller.agent, "Linen shirt", "linen-shirt-m", "39.90")
    status, body = page(seller.client, "product_list")
    assert status == 200
    assert "Blue vase" in body and "vase-blue" in body and "€25.50" in body and "39.90" in body
    status, body = page(seller.client, "product_list", q="shirt-m")
    assert "Linen shirt" in body and "Blue vase" not in body


def test_a_product_is_added_and_a_taken_sku_is_refused_with_a_sentence(seller):
    form = {"name": "Blue vase", "retailer_id": "vase-blue", "price": "25.50", "currency": "eur", "in_stock": "on"}
    response = seller.client.post(reverse("product_add"), form)
    assert response.status_code == 302
    product = Product.objects.get(agent=seller.agent)
    assert (product.name, product.price, product.currency, product.in_stock) == (
        "Blue vase",
        Decimal("25.50"),
        "EUR",
        True,
    )

    response = seller.client.post(reverse("product_add"), {**form, "name": "Other"})
    assert response.status_code == 400
    assert "You already have a product with this SKU." in response.content.decode()


def test_bad_prices_and_too_long_names_are_refused_not_cut(seller):
    for price, message in (("-1", "greater than or equal to 0"), ("1.005", "no more than 2 decimal places")):
        response = seller.client.post(reverse("product_add"), {"name": "Vase", "retailer_id": "v", "price": price})
        assert response.status_code == 400 and message in response.content.decode()
    response = seller.client.post(reverse("product_add"), {"name": "x" * 201, "retailer_id": "v", "price": "1"})
    assert "at most 200 characters" in response.content.decode()
    assert Product.objects.count() == 0


def test_editing_a_product_changes_it(seller):
    vase = add(seller.agent, "Blue vase", "vase-blue")
    response = seller.client.post(
        reverse("product_edit", args=[vase.pk]), {"name": "Blue vase, large", "retailer_id": "vase-blue", "price": "30"}
    )
    assert response.status_code == 302
    vase.refresh_from_db()
    assert (vase.name, vase.price, vase.in_stock) == ("Blue vase, large", Decimal("30.00"), False)


def test_archived_products_are_hidden_until_the_filter_shows_them(seller):
    vase = add(seller.agent, "Blue vase", "vase-blue")
    listed = "<code>vase-blue</code>"
    seller.client.post(reverse("product_archive", args=[vase.pk]))
    assert listed not in page(seller.client, "product_list")[1]
    assert listed in page(seller.client, "product_list", archived="on")[1]
    seller.client.post(reverse("product_unarchive", args=[vase.pk]))
    assert listed in page(seller.client, "product_list")[1]


def test_the_export_is_a_csv_of_every_product(seller):
    add(seller.agent, "Blue vase", "vase-blue", "25.50")
    response = seller.client.get(reverse("product_export"))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.splitlines() == [
        "name,retailer_id,price,currency,description,image_url,in_stock,archived",
        "Blue vase,vase-blue,25.50,,,,yes,no",
    ]


def test_an_import_previews_each_line_and_saves_only_on_confirm(seller):
    add(seller.agent, "Blue vase", "vase-blue", "20.00")
    upload = SimpleUploadedFile(
        "products.csv",
        b"name,sku,price\nBlue vase,vase-blue,25.50\nGift wrap,wrap,3\n,no-name,1\nBad,bad,abc\n",
        content_type="text/csv",
    )
    response = seller.client.post(reverse("product_import"), {"file": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "1 to add, 1 to update, 0 unchanged, 2 with errors" in body
    assert "The name is missing." in body and "The price &#x27;abc&#x27; is not a number" in body
    assert Product.objects.filter(agent=seller.agent).count() == 1, "the preview saved nothing"
    token = response.context["preview"].token

    response = seller.client.post(reverse("product_import_confirm"), {"token": token}, follow=True)

    assert "Imported: 1 added, 1 updated." in response.content.decode()
    assert dict(Product.objects.filter(agent=seller.agent).values_list("retailer_id", "price")) == {
        "vase-blue": Decimal("25.50"),
        "wrap": Decimal("3.00"),
    }


def test_a_file_that_is_not_a_product_csv_is_refused_with_a_sentence(seller):
    upload = SimpleUploadedFile("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00", content_type="text/csv")
    response = seller.client.post(reverse("product_import"), {"file": upload})
    assert response.status_code == 400
    assert "The first line must name the columns" in response.content.decode()


def test_agent_b_cannot_confirm_agent_as_preview_nor_see_its_products(seller, seller_b):
    add(seller.agent, "A-ONLY-PRODUCT", "a-only")
    upload = SimpleUploadedFile("p.csv", b"name,sku,price\nPlanted,planted,1\n", content_type="text/csv")
    token = seller.client.post(reverse("product_import"), {"file": upload}).context["preview"].token
    response = seller_b.client.post(reverse("product_import_confirm"), {"token": token}, follow=True)
    assert "belongs to another shop" in response.content.decode()
    assert not Product.objects.filter(retailer_id="planted").exists()
    for params in ({}, {"q": "A-ONLY"}, {"archived": "on"}):
        assert "A-ONLY-PRODUCT" not in page(seller_b.client, "product_list", **params)[1]
    assert "A-ONLY-PRODUCT" not in b"".join(seller_b.client.get(reverse("product_export")).streaming_content).decode()


def test_linking_a_meta_catalog_and_syncing_it_shows_how_it_went(
    connected_shop, fake_graph, django_capture_on_commit_callbacks
):
    client = connected_shop.client
    response = client.post(reverse("catalog_link"), {"catalog_id": "not digits"}, follow=True)
    assert "A Meta catalog id is digits only" in response.content.decode()
    client.post(reverse("catalog_link"), {"catalog_id": "1700000000000001"})
    assert catalog_sync.sync_status(connected_shop.agent)["catalog_id"] == "1700000000000001"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("catalog_sync"))
    response = client.get(reverse("product_list"))

    body = response.content.decode()
    assert "3 added, 0 changed, 0 removed." in body
    assert "Linen shirt (M)" in body and "$39.90" in body


def test_a_failed_sync_says_what_meta_answered(
    connected_shop, fake_graph, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 1
    catalog_sync.set_catalog_id(connected_shop.agent, "1700000000000001")
    fake_graph.fail_next(error="500", path="/products")
    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(reverse("catalog_sync"))
    body = connected_shop.client.get(reverse("product_list")).content.decode()
    assert "failed: Meta answered: (#131000) Something went wrong" in body


def test_the_list_pages_by_name(seller):
    for n in range(catalog.PAGE_SIZE + 1):
        add(seller.agent, f"Product {n:03}", f"sku-{n}")
    response = seller.client.get(reverse("product_list"))
    assert "Product 049" in response.content.decode() and "Product 050" not in response.content.decode()
    response = seller.client.get(response.context["next_url"])
    assert "Product 050" in response.content.decode()
    assert seller.client.get(reverse("product_list"), {"after": "damaged"}).status_code == 400


def test_the_order_form_suggests_catalog_products_with_their_price_and_sku(seller):
    add(seller.agent, "Blue vase", "vase-blue", "25.50")
    catalog.archive_product(add(seller.agent, "Blue bowl", "bowl-blue", "9"))
    body = seller.client.get(reverse("order_item_suggestions"), {"item_name": "blue"}).content.decode()
    assert 'value="Blue vase" data-price="25.50" data-product="vase-blue"' in body
    assert "Blue bowl" not in body
