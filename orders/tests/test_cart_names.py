"""Cart lines, order items, the thread and reports name products as the catalog does, not by retailer id."""

from decimal import Decimal

from django.urls import reverse

from orders import catalog, reports
from orders.carts import draft_order_from_cart
from orders.tests.test_carts import CART, cart_message  # noqa: F401 (a fixture)


def test_a_carts_items_take_their_names_from_the_catalog(cart_message):  # noqa: F811
    agent, t, message = cart_message
    catalog.save_product(agent, name="Blue mug", retailer_id="mug-blue", price=Decimal("8.50"))
    order = draft_order_from_cart(agent, message)
    assert [(i.name, i.product_retailer_id) for i in order.items.order_by("id")] == [
        ("Blue mug", "mug-blue"),
        ("Product bowl-01", "bowl-01"),
    ]


def test_another_agents_catalog_never_names_a_carts_items(cart_message, agent_b):  # noqa: F811
    agent, t, message = cart_message
    catalog.save_product(agent_b, name="B-SECRET-PRODUCT", retailer_id="mug-blue", price=Decimal("1"))
    order = draft_order_from_cart(agent, message)
    assert "B-SECRET-PRODUCT" not in [i.name for i in order.items.all()]


def test_the_thread_shows_a_carts_products_by_name(seller):
    catalog.save_product(seller.agent, name="Blue mug", retailer_id="mug-blue", price=Decimal("8.50"))
    customer = seller.tables.Customer.objects.create(name="Ana", phone="+15550000001")
    seller.tables.Message.objects.create(
        customer=customer, message="Cart", direction="inbound", wamid=CART["id"], wa_type="order", payload=CART
    )
    page = seller.client.get(reverse("conversation", args=[customer.pk])).content.decode()
    assert "Blue mug" in page and "bowl-01" in page


def test_reports_count_a_product_under_its_catalog_name(cart_message):  # noqa: F811
    agent, t, message = cart_message
    order = draft_order_from_cart(agent, message)
    order.status = "confirmed"
    order.save()
    assert [row.name for row in reports.top_items(agent)] == ["Product mug-blue", "Product bowl-01"]
    catalog.save_product(agent, name="Blue mug", retailer_id="mug-blue", price=Decimal("8.50"))
    assert [(row.name, row.quantity, row.revenue) for row in reports.top_items(agent)][0] == (
        "Blue mug",
        2,
        Decimal("17.00"),
    )
