"""A person plays a customer in real Chromium: writes, sees the shop's answer arrive, makes Meta fail."""

import threading

import pytest
from django.db import connections
from django.urls import reverse

from agents import tables
from crm.tests.browser import WAIT_MS
from crm.tests.fixtures import PASSWORD
from whatsapp import send

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def outside_playwright(function, *args, **kwargs):
    """Run database work on a thread of its own: Playwright's event loop makes this thread "async" to
    Django, which would refuse the ORM here (and give it a connection nobody closes)."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as error:  # re-raised in the test
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def chromium_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.set_default_timeout(WAIT_MS)
        yield page
        browser.close()


def reply(agent, seller, text, key):
    customer = tables.for_agent(agent).Customer.objects.get(phone="+14155550123")
    message = send.send_text(agent, customer, text, sent_by=seller, idempotency_key=key)
    message.refresh_from_db()
    return message.status, send.failure_reason(message)


@pytest.mark.browser
def test_a_person_plays_a_customer_in_the_browser(live_shop, live_server, fake_graph, chromium_page):
    from playwright.sync_api import expect

    seller, agent = live_shop.user, live_shop.agent
    page = chromium_page
    page.goto(live_server.url + reverse("login"))
    page.get_by_label("Email").fill(seller.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Customer sandbox").click()
    page.get_by_label("Your phone number").fill("+1 415 555 0123")
    page.get_by_label("Your name").fill("John Carter")
    page.get_by_role("button", name="Open the chat").click()
    page.get_by_label("Your message").fill("Is the blue mug in stock?")
    page.get_by_role("button", name="Send as John Carter").click()

    conversation = page.get_by_role("list", name="Conversation")
    expect(conversation).to_contain_text("Is the blue mug in stock?")
    assert fake_graph.wait_for_webhooks()

    # The shop answers: the open page shows it by itself (it polls), as a phone would.
    assert outside_playwright(reply, agent, seller, "Yes! 12 left.", "reply-1")[0] == "sent"
    expect(conversation).to_contain_text("Yes! 12 left.")

    # Meta is made to refuse the next send: the shop's message fails with Meta's reason.
    page.get_by_label("Meta answers").select_option(label="Message undeliverable (#131026): not retried")
    page.get_by_role("button", name="Make the next sends fail").click()
    expect(page.get_by_role("status")).to_contain_text("The next message the shop sends: Message undeliverable")
    status, reason = outside_playwright(reply, agent, seller, "Shall I keep one for you?", "reply-2")
    assert status == "failed" and reason.startswith("Message Undeliverable")
    expect(conversation).not_to_contain_text("Shall I keep one for you?")
