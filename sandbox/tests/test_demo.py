from django.core.management import call_command
from django.urls import reverse

from agents import tables
from agents.models import Agent
from sandbox.management.commands.load_demo import SELLER


def test_the_demo_loads_twice_and_its_seller_can_log_in(client, db):
    call_command("load_demo")
    call_command("load_demo")

    agent = Agent.objects.get()
    assert tables.for_agent(agent).Customer.objects.count() == 3
    email, _, password = SELLER
    response = client.post(reverse("login"), {"username": email, "password": password}, follow=True)
    assert "Demo Shop" in response.content.decode()


def test_the_demo_shop_has_its_catalog_and_its_cart_names_the_products(db):
    from orders.models import Product

    call_command("load_demo")
    agent = Agent.objects.get()
    assert set(Product.objects.filter(agent=agent).values_list("retailer_id", flat=True)) == {
        "linen-shirt-m",
        "vase-blue",
        "gift-wrap",
    }
    draft = tables.for_agent(agent).Order.objects.get(source="cart")
    assert [item.name for item in draft.items.all()] == ["Linen shirt (M)"]
