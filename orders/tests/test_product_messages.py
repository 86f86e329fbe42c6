"""Sending products from the catalog: the request bodies the fake Graph API receives, field by field, as
Meta's reference describes them (business-messaging-api_v23.0.yaml "Send Single Product Message", and
share-products for product_list and catalog_message); the rules refused before anything is sent; the thread."""

from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import catalog, catalog_sync
from whatsapp import send

CATALOG_ID = "1700000000000001"


@pytest.fixture
def shop(connected_shop):
    catalog_sync.set_catalog_id(connected_shop.agent, CATALOG_ID)
    return connected_shop


def add(agent, name, sku, price="10.00"):
    return catalog.save_product(agent, name=name, retailer_id=sku, price=Decimal(price))


def sent(shop, customer, products, key="k1", **texts):
    return catalog.send_products(
        shop.agent, customer, [p.pk for p in products], sent_by=shop.user, idempotency_key=key, **texts
    )


def test_one_product_is_sent_as_a_single_product_message(shop, maria, fake_graph, django_capture_on_commit_callbacks):
    vase = add(shop.agent, "Blue vase", "vase-blue")
    with django_capture_on_commit_callbacks(execute=True):
        message = sent(shop, maria, [vase], body="The one you asked about", footer="Demo Shop")

    [body] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5511987654321",
        "type": "interactive",
        "interactive": {
            "type": "product",
            "body": {"text": "The one you asked about"},
            "footer": {"text": "Demo Shop"},
            "action": {"catalog_id": CATALOG_ID, "product_retailer_id": "vase-blue"},
        },
    }
    message.refresh_from_db()
    assert message.status == "sent"
    assert "Blue vase" in message.message


def test_several_products_are_sent_as_a_product_list_with_header_body_and_sections(
    shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    products = [add(shop.agent, f"Vase {n}", f"vase-{n}") for n in range(3)]
    with django_capture_on_commit_callbacks(execute=True):
        sent(shop, maria, products, header="Our new vases", body="Tap one to see it")

    [body] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    interactive = body["interactive"]
    assert set(interactive) == {"type", "header", "body", "action"}
    assert interactive["type"] == "product_list"
    assert interactive["header"] == {"type": "text", "text": "Our new vases"}
    assert interactive["body"] == {"text": "Tap one to see it"}
    assert interactive["action"] == {
        "catalog_id": CATALOG_ID,
        "sections": [
            {
                "title": "Our new vases",
                "product_items": [{"product_retailer_id": f"vase-{n}"} for n in range(3)],
            }
        ],
    }
    assert fake_graph.accepted_messages()[0]["products"] == [
        {"title": "Our new vases", "product_retailer_ids": ["vase-0", "vase-1", "vase-2"]}
    ]


def test_the_catalog_message_has_a_body_and_the_catalog_action(
    shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send.send_catalog(shop.agent, maria, "Our whole catalog", sent_by=shop.user, idempotency_key="c1")
    [body] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert body["type"] == "interactive"
    assert body["interactive"] == {
        "type": "catalog_message",
        "body": {"text": "Our whole catalog"},
        "action": {"name": "catalog_message"},
    }


def test_whatsapps_limits_are_refused_before_anything_is_sent(shop, maria, fake_graph):
    products = [add(shop.agent, f"Product {n}", f"sku-{n}") for n in range(31)]
    with pytest.raises(send.SendError, match="at most 30 products"):
        sent(shop, maria, products, header="All", body="All of them")
    with pytest.raises(send.SendError, match="needs a header and a text"):
        sent(shop, maria, products[:2], body="No header")
    with pytest.raises(send.SendError, match="The header can be at most 60 characters"):
        sent(shop, maria, products[:2], header="x" * 61, body="Long header")
    catalog.archive_product(products[0])
    with pytest.raises(send.SendError, match="archived or no longer in your catalog"):
        sent(shop, maria, products[:1])
    assert fake_graph.sent_messages() == []


def test_another_agents_product_cannot_be_sent(shop, maria, agent_b):
    theirs = add(agent_b, "B-SECRET-PRODUCT", "theirs")
    with pytest.raises(send.SendError, match="no longer in your catalog"):
        sent(shop, maria, [theirs])


def test_without_a_linked_catalog_the_seller_is_told_to_link_one(connected_shop, maria):
    vase = add(connected_shop.agent, "Blue vase", "vase-blue")
    with pytest.raises(send.SendError, match="Link your Meta catalog first"):
        sent(connected_shop, maria, [vase])


def test_the_conversation_sends_a_product_list_and_shows_it_as_a_bubble(
    shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    vase, shirt = add(shop.agent, "Blue vase", "vase-blue"), add(shop.agent, "Linen shirt", "linen-shirt-m")
    page = shop.client.get(reverse("conversation", args=[maria.pk])).content.decode()
    assert "Send products" in page and "Linen shirt" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.client.post(
            reverse("send_products", args=[maria.pk]),
            {"product": [vase.pk, shirt.pk], "header": "For you", "body": "Two picks", "idempotency_key": "p1"},
        )
    assert response.status_code == 302
    assert len(fake_graph.sent_messages()) == 1
    page = shop.client.get(reverse("conversation", args=[maria.pk])).content.decode()
    assert "Product list" in page and "🛍 Blue vase" in page and "🛍 Linen shirt" in page


def test_the_conversation_refuses_a_product_id_that_is_not_the_agents(shop, maria, agent_b, fake_graph):
    theirs = add(agent_b, "B-SECRET-PRODUCT", "theirs")
    response = shop.client.post(
        reverse("send_products", args=[maria.pk]), {"product": [theirs.pk], "idempotency_key": "p2"}, follow=True
    )
    assert "Choose one or more products of your catalog" in response.content.decode()
    assert "B-SECRET-PRODUCT" not in response.content.decode()
    assert fake_graph.sent_messages() == []


def test_the_order_page_sends_the_orders_catalog_products(shop, maria, fake_graph, django_capture_on_commit_callbacks):
    from orders import placing
    from orders.placing import LineItem

    add(shop.agent, "Blue vase", "vase-blue")
    order = placing.create_order(
        shop.agent,
        maria,
        [LineItem("Blue vase", 2, Decimal("25"), "vase-blue"), LineItem("Hand delivery", 1, Decimal("5"))],
        actor=None,
    )
    assert "Send these products" in shop.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        shop.client.post(reverse("order_send_products", args=[order.pk]), {"idempotency_key": "o1"})
    [body] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert body["interactive"]["type"] == "product"
    assert body["interactive"]["action"] == {"catalog_id": CATALOG_ID, "product_retailer_id": "vase-blue"}


def test_an_order_without_catalog_products_says_so(shop, maria, fake_graph):
    from orders import placing
    from orders.placing import LineItem

    order = placing.create_order(shop.agent, maria, [LineItem("Hand delivery", 1, Decimal("5"))], actor=None)
    response = shop.client.post(reverse("order_send_products", args=[order.pk]), {"idempotency_key": "o2"}, follow=True)
    assert "None of this order&#x27;s items is a product of your catalog." in response.content.decode()
    assert fake_graph.sent_messages() == []
