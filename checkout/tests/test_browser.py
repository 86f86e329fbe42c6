"""In real Chromium: the seller sets a payment link of their own and the sandbox customer reads it, filled
in, in the order summary; an order sent to review and pay is paid in the sandbox and shows paid."""

from decimal import Decimal

import pytest
from django.urls import reverse

from agents import tables
from checkout import ways
from crm.tests.fixtures import PASSWORD
from orders import placing
from orders.placing import LineItem
from sandbox.tests.test_browser import outside_playwright

CUSTOMER_PHONE = "+14155550123"


def log_in(page, live_server, seller):
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email").fill(seller.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def open_sandbox_chat(page, live_server):
    page.goto(live_server.url + reverse("sandbox:page"))
    page.get_by_label("Your phone number").fill("+1 415 555 0123")
    page.get_by_label("Your name").fill("John Carter")
    page.get_by_role("button", name="Open the chat").click()


def customer_writes_and_orders(page, live_server, fake_graph, agent, seller):
    """The customer says hello from the sandbox (the 24-hour window opens); the seller makes their order."""
    from playwright.sync_api import expect

    open_sandbox_chat(page, live_server)
    page.get_by_label("Your message").fill("I'd like two blue mugs")
    page.get_by_role("button", name="Send as John Carter").click()
    expect(page.get_by_role("list", name="Conversation")).to_contain_text("I'd like two blue mugs")
    assert fake_graph.wait_for_webhooks()

    def make_order():
        customer = tables.for_agent(agent).Customer.objects.get(phone=CUSTOMER_PHONE)
        return placing.create_order(agent, customer, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=seller).pk

    return outside_playwright(make_order)


@pytest.mark.browser
def test_the_sandbox_customer_reads_the_sellers_payment_link_in_the_summary(
    live_shop, live_server, fake_graph, chromium_page
):
    from playwright.sync_api import expect

    page, seller, agent = chromium_page, live_shop.user, live_shop.agent
    page.set_viewport_size({"width": 1366, "height": 900})
    log_in(page, live_server, seller)

    page.goto(live_server.url + reverse("payment_settings"))
    page.get_by_label("Payment link").fill("http://pay.example.com/shop?ref={order}")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("https://")
    page.get_by_label("Payment link").fill("https://pay.example.com/shop?ref={order}&amount={total}")
    page.get_by_label("Cash on delivery").check()
    page.get_by_label("Default way to pay").select_option(label="Cash on delivery")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("The ways to pay were saved.")

    order_id = customer_writes_and_orders(page, live_server, fake_graph, agent, seller)
    page.goto(live_server.url + reverse("order_detail", args=[order_id]))
    way = page.get_by_label("Way to pay in the summary")
    expect(way).to_have_value("cash")
    way.select_option(label="Payment link")
    page.get_by_role("button", name="Send summary to confirm").click()

    open_sandbox_chat(page, live_server)
    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text(f"Pay here: https://pay.example.com/shop?ref={order_id}&amount=16.00")
    expect(page.get_by_role("button", name="Confirm")).to_be_visible()


@pytest.mark.browser
def test_an_order_sent_to_review_and_pay_is_paid_in_the_sandbox(live_shop, live_server, fake_graph, chromium_page):
    from playwright.sync_api import expect

    page, seller, agent = chromium_page, live_shop.user, live_shop.agent
    page.set_viewport_size({"width": 390, "height": 844})
    outside_playwright(ways.save_settings, agent, actor=seller, meta_configuration="shop-a-razorpay")
    log_in(page, live_server, seller)
    order_id = customer_writes_and_orders(page, live_server, fake_graph, agent, seller)

    page.goto(live_server.url + reverse("order_detail", args=[order_id]))
    page.get_by_role("button", name="Send to review and pay").click()
    expect(page.get_by_text("can now review and pay")).to_be_visible()

    open_sandbox_chat(page, live_server)
    review = page.get_by_role("region", name="Review and pay")
    expect(review).to_contain_text("Total: USD 16.00")
    review.get_by_role("button", name="Fail to pay").click()
    review = page.get_by_role("region", name="Review and pay")
    expect(review).to_contain_text("Your payment failed.")
    review.get_by_role("button", name="Pay USD 16.00").click()
    expect(page.get_by_role("region", name="Review and pay")).to_contain_text("You paid.")
    assert fake_graph.wait_for_webhooks()

    page.goto(live_server.url + reverse("order_detail", args=[order_id]))
    expect(page.get_by_role("heading", name=f"Order #{order_id}")).to_contain_text("Paid")
    payments = page.get_by_role("list", name="Payments in WhatsApp")
    expect(payments).to_contain_text("Failed")
    expect(payments).to_contain_text("Paid")
    expect(payments).to_contain_text("$16.00")
    history = page.get_by_role("table").filter(has_text="Marked as paid")
    expect(history).to_contain_text("Paid: $16.00 in WhatsApp")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
