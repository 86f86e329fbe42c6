"""In real Chromium: a customer's typed WhatsApp message turned into a confirmed order, as a seller does it
(open the conversation, "Make an order from this", check the lines, pick the unmatched one, Create, Confirm).

PostgreSQL only: the live server answers the pages and the fake Graph API's webhooks at once.
"""

import re
from decimal import Decimal

import pytest

from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIA = "5511987654321"
TYPED = "Hi! 2 blue vases and a gift wrap pls 🙏\nAlso a vase for my sister"


def test_a_typed_message_becomes_a_confirmed_order(live_server, live_shop, fake_graph):
    from playwright.sync_api import expect

    agent, agent_tables = live_shop.agent, live_shop.tables
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text="Hello!")
    assert fake_graph.wait_for_webhooks()
    maria = agent_tables.Customer.objects.get(phone="+" + MARIA)
    # What the shop sold before: the items (and last prices) the message is read against.
    placing.create_order(
        agent,
        maria,
        [
            LineItem("Blue vase", 1, Decimal("25.00")),
            LineItem("Red vase", 1, Decimal("22.00")),
            LineItem("Gift wrap", 1, 3),
        ],
        actor=None,
    )
    agent_tables.Order.objects.update(status="delivered")
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text=TYPED)
    assert fake_graph.wait_for_webhooks()

    with chromium_page() as page:
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
        page.get_by_role("link", name=re.compile("Maria Silva")).click()
        chat = page.get_by_role("log", name="Chat history")
        typed = chat.get_by_role("article").filter(has_text="2 blue vases and a gift wrap")
        typed.get_by_role("link", name="Make an order from this").click()

        expect(page.get_by_role("heading", level=1)).to_have_text("New order for Maria Silva")
        read = page.get_by_role("region", name="Read from Maria Silva’s message")
        expect(read).to_contain_text("Also a vase for my sister")
        for number, (name, quantity, price) in enumerate(
            [("Blue vase", "2", "25.00"), ("Gift wrap", "1", "3.00"), ("Vase for my sister", "1", "")], start=1
        ):
            line = page.get_by_role("group", name=f"Item {number}", exact=True)
            expect(line.get_by_label("Name")).to_have_value(name)
            expect(line.get_by_label("Quantity")).to_have_value(quantity)
            expect(line.get_by_label("Unit price")).to_have_value(price)
        expect(page.get_by_role("group", name="Item 4", exact=True)).to_have_count(0)
        assert agent_tables.Order.objects.count() == 1  # nothing created by reading

        pick = read.get_by_label("Also a vase for my sister")
        pick.select_option(pick.locator("option", has_text="Red vase").get_attribute("value"))
        third = page.get_by_role("group", name="Item 3", exact=True)
        expect(third.get_by_label("Name")).to_have_value("Red vase")
        expect(third.get_by_label("Unit price")).to_have_value("22.00")
        expect(page.locator("[data-order-total]")).to_contain_text("75.00")

        page.get_by_role("button", name="Create order").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
        page.get_by_role("button", name="Confirm", exact=True).click()
        expect(page.get_by_role("status")).to_contain_text("is now confirmed")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
        assert csp_violations(page) == []

    order = agent_tables.Order.objects.exclude(status="delivered").get()
    assert (order.status, order.total_amount) == ("confirmed", Decimal("75.00"))
    assert [(i.name, i.quantity, i.price) for i in order.items.order_by("id")] == [
        ("Blue vase", 2, Decimal("25.00")),
        ("Gift wrap", 1, Decimal("3.00")),
        ("Red vase", 1, Decimal("22.00")),
    ]
