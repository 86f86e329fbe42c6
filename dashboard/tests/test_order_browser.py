"""Orders in real Chromium, as a seller and a customer use them: a two-item order built beside the
conversation and moved to shipped (the customer told at each step), and a sandbox customer tapping Confirm
under the order summary. Found by role and label.

PostgreSQL only: the live server answers the page, its polls and the fake Graph API's webhooks at once.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from agents import tables
from agents.models import Agent
from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID
from orders import notify, placing
from orders.placing import LineItem

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIA = "5511987654321"


@pytest.fixture
def maria_on_whatsapp(live_shop, fake_graph):
    """Maria, who has just written to the live shop on WhatsApp (through the fake Graph API and the webhook)."""
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text="Hi! 2 blue mugs and gift wrap please")
    assert fake_graph.wait_for_webhooks()
    return live_shop.tables.Customer.objects.get(phone="+" + MARIA)


def test_a_two_item_order_is_built_beside_the_conversation_and_moved_to_shipped(
    live_server, live_shop, maria_on_whatsapp, fake_graph
):
    from playwright.sync_api import expect

    agent, agent_tables, maria = live_shop.agent, live_shop.tables, maria_on_whatsapp
    # Sold before: its name and last price come back as a suggestion.
    placing.create_order(agent, maria, [LineItem("Blue mug", 1, Decimal("8.50"))], actor=None)
    agent_tables.Order.objects.update(status="delivered")

    with chromium_page() as page:
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
        page.get_by_role("link", name=re.compile("Maria Silva")).click()
        page.evaluate("window.__sameDocument = true")

        page.get_by_role("link", name="New order").click()
        panel = page.get_by_role("complementary", name="New order for Maria Silva")
        expect(panel).to_be_visible()
        panel.get_by_role("link", name="Close the order panel").click()
        expect(panel).to_have_count(0)
        page.get_by_role("link", name="New order").click()
        expect(panel).to_be_visible()
        first = panel.get_by_role("group", name="Item 1")
        first.get_by_label("Name").fill("Blue mug")
        expect(first.get_by_label("Unit price")).to_have_value("8.50")  # the last price it sold at
        first.get_by_label("Quantity").fill("2")
        expect(first.get_by_text("17.00")).to_be_visible()

        panel.get_by_role("button", name="Add item").click()
        second = panel.get_by_role("group", name="Item 2")
        expect(second.get_by_label("Name")).to_be_focused()
        second.get_by_label("Name").fill("Gift wrap")
        second.get_by_label("Quantity").fill("1")
        second.get_by_label("Unit price").fill("1.50")
        panel.get_by_role("button", name="Add item").click()
        panel.get_by_role("group", name="Item 3").get_by_label("Name").fill("Something else")
        panel.get_by_role("group", name="Item 3").get_by_role("button", name="Remove").click()
        expect(panel.get_by_role("group", name="Item 3")).to_have_count(0)
        expect(panel.locator("[data-order-total]")).to_have_text("$18.50")
        panel.get_by_label("Shipping address").fill("Rua Augusta 500, São Paulo")
        expect(panel.get_by_label("Send Maria the summary to confirm on WhatsApp")).to_be_checked()

        panel.get_by_role("button", name="Create order").click()
        created = page.get_by_role("complementary", name=re.compile(r"Order #\d+ created"))
        expect(created).to_contain_text("2 items, total $18.50")
        expect(created).to_contain_text("The summary is on its way to Maria Silva")
        assert page.evaluate("window.__sameDocument === true")  # all of it without a reload
        # The summary with its buttons shows up in the thread by itself.
        expect(page.get_by_role("log", name="Chat history")).to_contain_text("Total: $18.50")

        created.get_by_role("link", name=re.compile(r"Open order #\d+")).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Pending")
        items = page.get_by_role("table").first
        expect(items).to_contain_text("Blue mug")
        expect(items).to_contain_text("Gift wrap")
        expect(items).to_contain_text("18.50")

        for button, status in (
            ("Confirm", "confirmed"),
            ("Start processing", "processing"),
            ("Mark shipped", "shipped"),
        ):
            expect(page.get_by_label("Tell the customer on WhatsApp")).to_be_checked()
            page.get_by_role("button", name=button, exact=True).click()
            expect(page.get_by_role("status")).to_contain_text(f"is now {status}. The customer is being told")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Shipped")
        expect(page.get_by_role("button", name="Mark delivered")).to_be_visible()
        expect(page.get_by_role("button", name="Confirm", exact=True)).to_have_count(0)
        about = page.get_by_role("log", name="WhatsApp messages about this order")
        expect(about).to_contain_text("is on its way")
        expect(about.get_by_role("article").last).to_contain_text("Delivered")
        history = page.get_by_role("table").filter(has_text="Who")
        expect(history.get_by_role("row")).to_have_count(6)  # the header, created, summary, three moves
        assert csp_violations(page) == []

    order = agent_tables.Order.objects.exclude(status="delivered").get()
    assert (order.status, order.total_amount, order.shipping_address) == (
        "shipped",
        Decimal("18.50"),
        "Rua Augusta 500, São Paulo",
    )
    assert [(i.name, i.quantity, i.price, i.total) for i in order.items.order_by("id")] == [
        ("Blue mug", 2, Decimal("8.50"), Decimal("17.00")),
        ("Gift wrap", 1, Decimal("1.50"), Decimal("1.50")),
    ]
    texts = [m["text"]["body"] for m in fake_graph.sent_messages() if m["type"] == "text"]
    assert texts == [
        f"Hi Maria, your order #{order.pk} from Shop A is confirmed. Total: $18.50.",
        f"Hi Maria, we are preparing your order #{order.pk} from Shop A.",
        f"Hi Maria, your order #{order.pk} from Shop A is on its way.",
    ]


def test_a_sandbox_customer_taps_confirm_and_the_order_is_confirmed(
    live_server, live_shop, maria_on_whatsapp, fake_graph
):
    from playwright.sync_api import expect

    agent, maria = live_shop.agent, maria_on_whatsapp
    order = placing.create_order(agent, maria, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=agent.user)
    notify.send_order_summary(agent, order, sent_by=agent.user, idempotency_key="summary-1")
    assert fake_graph.wait_for_webhooks()

    with chromium_page() as page:
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("link", name="Customer sandbox").click()
        page.get_by_role("link", name=re.compile(r"Maria Silva \(\+5511987654321\)")).click()
        chat = page.get_by_role("list", name="Conversation")
        expect(chat).to_contain_text(f"Order #{order.pk} from Shop A for Maria Silva")
        chat.get_by_role("button", name="Confirm").click()

        # The shop's answer reaches the customer's phone: the order is confirmed.
        expect(chat).to_contain_text(f"your order #{order.pk} from Shop A is confirmed")

        page.goto(live_server.url + reverse("order_detail", args=[order.pk]))
        expect(page.get_by_role("heading", level=1)).to_contain_text("Confirmed")
        history = page.get_by_role("table").filter(has_text="Who")
        expect(history).to_contain_text("Maria Silva (customer, on WhatsApp)")
        expect(history).to_contain_text("Confirmed by the customer on WhatsApp.")
        assert csp_violations(page) == []

    order.refresh_from_db()
    assert order.status == "confirmed"
    assert order.events.filter(kind="customer_confirmed", changed_by__isnull=True).count() == 1
    assert Agent.objects.get(pk=agent.pk).table_version == tables.CURRENT_VERSION
