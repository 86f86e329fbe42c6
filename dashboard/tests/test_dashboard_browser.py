"""The dashboard in real Chromium, as a seller uses it: a message arrives through the webhook and shows
up without a reload, the seller opens it and replies, the reply reaches the (fake) Graph API and its
ticks advance; a failed reply is resent; a customer is found by search. Found by role and label.

PostgreSQL only: the live server answers the page's polls on several threads at once.
"""

import re

import pytest

from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIA = "5511987654321"


def test_a_new_message_appears_live_is_answered_and_its_ticks_advance(live_server, live_shop, fake_graph):
    from playwright.sync_api import expect

    with chromium_page() as page:
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Inbox").click()
        expect(page.get_by_text("No conversations yet.")).to_be_visible()
        page.evaluate("window.__sameDocument = true")

        fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text="Do you have the blue mug?")

        row = page.get_by_role("link", name=re.compile("Maria Silva"))
        expect(row).to_be_visible()
        expect(row).to_contain_text("Do you have the blue mug?")
        expect(row).to_contain_text("1 unread")
        assert page.evaluate("window.__sameDocument === true")  # it came without a reload

        row.click()
        expect(page.get_by_role("heading", name="Maria Silva")).to_be_visible()
        expect(page.get_by_role("log", name="Chat history")).to_contain_text("Do you have the blue mug?")
        expect(page.get_by_role("link", name=re.compile("Maria Silva"))).not_to_contain_text("unread")

        composer = page.get_by_role("textbox", name="Message")
        composer.fill("Yes! We have 12 left, 8 EUR each.")
        page.get_by_role("button", name="Send", exact=True).click()

        reply = page.get_by_role("article").filter(has_text="Yes! We have 12 left")
        expect(reply).to_be_visible()
        expect(composer).to_have_value("")
        expect(reply).to_contain_text("Delivered")
        assert [m["text"]["body"] for m in fake_graph.sent_messages()] == ["Yes! We have 12 left, 8 EUR each."]
        assert [r["message_id"] for r in fake_graph.read_receipts]  # opening the chat told WhatsApp

        fake_graph.customer_reads(PHONE_NUMBER_ID, MARIA)
        expect(reply).to_contain_text("Read")

        # A reply WhatsApp refuses shows why, and Resend sends it.
        fake_graph.fail_next(error="131026", path="/messages")
        composer.fill("Shall I put one aside for you?")
        composer.press("Enter")
        failed = page.get_by_role("article").filter(has_text="Shall I put one aside")
        expect(failed).to_contain_text("Not sent.")
        expect(failed).to_contain_text("Message Undeliverable")
        failed.get_by_role("button", name="Resend").click()
        expect(page.get_by_role("article").filter(has_text="Shall I put one aside")).to_contain_text("Delivered")
        assert csp_violations(page) == []


def test_a_customer_is_found_by_search(live_server, live_shop):
    from playwright.sync_api import expect

    t = live_shop.tables
    for name, phone in (
        ("Maria Silva", "+5511987654321"),
        ("John Carter", "+14155550123"),
        ("Aisha Bello", "+2348031234567"),
    ):
        t.Customer.objects.create(name=name, phone=phone)

    with chromium_page() as page:
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
        search = page.get_by_role("searchbox", name="Search customers")
        search.fill("carter")
        search.press("Enter")
        results = page.get_by_role("table")
        expect(results.get_by_role("link", name="John Carter")).to_be_visible()
        expect(results.get_by_role("link", name="Maria Silva")).to_have_count(0)

        search = page.get_by_role("searchbox", name="Search customers")
        search.fill("+234 803")
        page.get_by_role("button", name="Search").click()
        page.get_by_role("link", name="Aisha Bello").click()
        expect(page.get_by_role("heading", name="Aisha Bello", level=1)).to_be_visible()
        expect(page.get_by_text("+234 803 123 4567")).to_be_visible()
        assert csp_violations(page) == []
