"""The fake Graph API's catalog: Meta's product item fields with cursor paging, product messages checked as
share-products describes them, and a customer's cart posted as Meta's `order` webhook."""

import json

import pytest
import requests

from fakegraph.server import DEMO_CATALOG

HEADERS = {"Authorization": "Bearer token-for-tests"}


def send(fake_graph, interactive):
    body = {"messaging_product": "whatsapp", "to": "+14155550123", "type": "interactive", "interactive": interactive}
    return requests.post(f"{fake_graph.url}/v23.0/1001/messages", json=body, headers=HEADERS, timeout=5)


def product_list(sections, header="Vases"):
    return {
        "type": "product_list",
        "header": {"type": "text", "text": header},
        "body": {"text": "Pick one"},
        "action": {"catalog_id": "17", "sections": sections},
    }


def section(title, count):
    return {"title": title, "product_items": [{"product_retailer_id": f"sku-{n}"} for n in range(count)]}


def test_an_unknown_catalog_serves_the_demo_catalog_a_page_at_a_time(fake_graph):
    first = requests.get(
        f"{fake_graph.url}/v23.0/17/products", params={"fields": "retailer_id,name", "limit": 2}, headers=HEADERS
    ).json()
    assert first["data"] == [
        {key: product[key] for key in ("id", "retailer_id", "name")} for product in DEMO_CATALOG[:2]
    ]
    rest = requests.get(first["paging"]["next"], headers=HEADERS).json()
    assert [product["retailer_id"] for product in rest["data"]] == [DEMO_CATALOG[2]["retailer_id"]]
    assert "paging" not in rest


@pytest.mark.parametrize(
    ("interactive", "status"),
    [
        (product_list([section("Vases", 30)]), 200),
        (product_list([section("Vases", 20), section("More vases", 11)]), 400),
        (product_list([section(f"Section {n}", 1) for n in range(11)]), 400),
        (product_list([section("A title longer than 24 chars", 1)]), 400),
        (product_list([section("Vases", 2)], header=""), 400),
        ({"type": "product", "action": {"catalog_id": "17", "product_retailer_id": "vase-blue"}}, 200),
        ({"type": "product", "action": {"catalog_id": "17"}}, 400),
        ({"type": "catalog_message", "body": {"text": "See all"}, "action": {"name": "catalog_message"}}, 200),
        ({"type": "catalog_message", "action": {"name": "catalog_message"}}, 400),
    ],
)
def test_product_messages_are_checked_as_meta_documents_them(fake_graph, interactive, status):
    assert send(fake_graph, interactive).status_code == status


def test_a_customers_cart_is_posted_as_metas_order_message(fake_graph, webhook_receiver):
    fake_graph.register_phone_number("1001", webhook_url=webhook_receiver.url)
    fake_graph.customer_orders("1001", "+14155550123", "17", [("vase-blue", 2)], text="Gift wrap please")
    assert fake_graph.wait_for_webhooks()
    [(_, body)] = webhook_receiver.received
    [message] = json.loads(body)["entry"][0]["changes"][0]["value"]["messages"]
    assert message["type"] == "order"
    assert message["order"] == {
        "catalog_id": "17",
        "product_items": [{"product_retailer_id": "vase-blue", "quantity": 2, "item_price": 25.5, "currency": "USD"}],
        "text": "Gift wrap please",
    }
