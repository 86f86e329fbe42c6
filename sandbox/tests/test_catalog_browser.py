"""In real Chromium: the seller sends a product list from the conversation, the customer adds to the cart in
the sandbox and sends it, and the seller finds the draft order with the products' names."""

import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from agents import tables
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID
from orders import catalog_sync
from sandbox.tests.test_browser import chromium_page, outside_playwright  # noqa: F401 (a fixture)

CATALOG_ID = "1700000000000001"
CUSTOMER_PHONE = "+14155550123"


def link_and_sync_catalog(agent):
    catalog_sync.set_catalog_id(agent, CATALOG_ID)
    return catalog_sync.sync_catalog(agent).added


def wait_for(find, timeout=15.0):
    """The first truthy answer of `find()` (run off Playwright's thread), asked until `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        found = outside_playwright(find)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def customer_of(agent):
    return tables.for_agent(agent).Customer.objects.filter(phone=CUSTOMER_PHONE).first()


def cart_order_of(agent):
    order = tables.for_agent(agent).Order.objects.filter(source="cart").first()
    return order and order.pk


@pytest.mark.browser
def test_a_product_list_comes_back_as_a_cart_and_a_draft_order_with_names(
    live_shop,
    live_server,
    fake_graph,
    chromium_page,  # noqa: F811
):
    from playwright.sync_api import expect

    agent, page = live_shop.agent, chromium_page
    assert outside_playwright(link_and_sync_catalog, agent) == 3
    fake_graph.customer_sends(PHONE_NUMBER_ID, CUSTOMER_PHONE, name="John Carter", text="Which vases do you have?")
    customer = wait_for(lambda: customer_of(agent))
    assert customer is not None

    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email").fill(live_shop.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + reverse("conversation", args=[customer.pk]))
    page.get_by_text("Send products from your catalog").click()
    page.get_by_label("Blue vase").check()
    page.get_by_label("Linen shirt (M)").check()
    page.get_by_label("Header").fill("Picked for you")
    page.get_by_label("Text", exact=True).fill("Tap a product to see it")
    page.get_by_role("button", name="Send products").click()
    expect(page.locator("#thread-tail")).to_contain_text("🛍 Linen shirt (M)")
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["interactive"]["type"] == "product_list"

    query = urlencode({"number": live_shop.configuration.pk, "phone": CUSTOMER_PHONE, "name": "John Carter"})
    page.goto(live_server.url + reverse("sandbox:page") + "?" + query)
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("Picked for you")
    page.get_by_label("Quantity of Blue vase").fill("2")
    page.get_by_role("button", name="Add Blue vase to cart").click()
    page.get_by_role("button", name="Add Linen shirt (M) to cart").click()
    cart = page.get_by_role("region", name="Your cart")
    expect(cart).to_contain_text("2 × Blue vase")
    expect(cart).to_contain_text("1 × Linen shirt (M)")
    page.get_by_label("Note to the shop").fill("Gift wrap please")
    page.get_by_role("button", name="Send cart to the shop").click()
    expect(page.get_by_role("status")).to_contain_text("Your cart was sent to the shop.")

    order_id = wait_for(lambda: cart_order_of(agent))
    assert order_id, "the cart became no draft order"
    page.goto(live_server.url + reverse("order_detail", args=[order_id]))
    items = page.get_by_role("table").first
    expect(items).to_contain_text("Blue vase")
    expect(items).to_contain_text("Linen shirt (M)")
    expect(page.locator("main")).to_contain_text("Gift wrap please")
    page.screenshot(path="/tmp/catalog-order.png", full_page=True)
