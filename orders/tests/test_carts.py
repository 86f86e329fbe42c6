"""An inbound WhatsApp cart becomes one draft order with its items, quantities and prices."""

from decimal import Decimal

import pytest

from agents import tables
from orders.carts import draft_order_from_cart

# Meta's documented shape of an inbound `order` message (catalog cart).
CART = {
    "from": "15550000001",
    "id": "wamid.HBgLMTU1NTAwMDAwMDEVAgASGBQzQUI1NzY2QkQ0Q0I3QjMyQzMyAA==",
    "timestamp": "1750000000",
    "type": "order",
    "order": {
        "catalog_id": "1234567890",
        "text": "Please gift wrap",
        "product_items": [
            {"product_retailer_id": "mug-blue", "quantity": 2, "item_price": 8.5, "currency": "USD"},
            {"product_retailer_id": "bowl-01", "quantity": "1", "item_price": "12", "currency": "USD"},
        ],
    },
}


@pytest.fixture
def cart_message(make_agent):
    agent = make_agent()
    t = tables.for_agent(agent)
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    message = t.Message.objects.create(
        customer=customer,
        message="Cart: 2 products",
        direction="inbound",
        wamid=CART["id"],
        wa_type="order",
        payload=CART,
    )
    return agent, t, message


def test_a_cart_becomes_a_pending_draft_order_with_its_items(cart_message):
    agent, t, message = cart_message
    order = draft_order_from_cart(agent, message)
    order.refresh_from_db()
    assert (order.status, order.source, order.currency, order.total_amount) == (
        "pending",
        "cart",
        "USD",
        Decimal("29.00"),
    )
    assert "Please gift wrap" in order.notes
    assert [(i.product_retailer_id, i.quantity, i.price, i.total) for i in order.items.order_by("id")] == [
        ("mug-blue", 2, Decimal("8.50"), Decimal("17.00")),
        ("bowl-01", 1, Decimal("12.00"), Decimal("12.00")),
    ]


def test_the_same_cart_delivered_twice_makes_one_order(cart_message):
    agent, t, message = cart_message
    assert draft_order_from_cart(agent, message).pk == draft_order_from_cart(agent, message).pk
    assert t.Order.objects.count() == 1


@pytest.mark.parametrize(
    "order",
    [
        None,
        "x",
        {},
        {"product_items": []},
        {"product_items": ["x"]},
        {"product_items": [{"product_retailer_id": "a", "quantity": 0, "item_price": 1}]},
        {"product_items": [{"product_retailer_id": "a", "quantity": 1, "item_price": "-1"}]},
    ],
)
def test_an_unusable_cart_makes_no_order(cart_message, order):
    agent, t, message = cart_message
    message.payload = {**CART, "order": order}
    assert draft_order_from_cart(agent, message) is None
    assert not t.Order.objects.exists()
