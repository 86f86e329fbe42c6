"""In real Chromium, the whole of getting paid: the sandbox customer reads the seller's payment link in the
order summary, pays and sends a photo of the payment; the seller takes the photo as the proof, the order is
paid, and the receipt reaches the customer's chat as a PDF.

PostgreSQL only: the live server answers the pages and the fake Graph API's webhooks at once.
"""

import io
import time

import pytest
from django.urls import reverse

from agents import tables
from checkout import ways
from checkout.tests.test_browser import CUSTOMER_PHONE, customer_writes_and_orders, open_sandbox_chat
from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD
from sandbox.tests.test_browser import outside_playwright

pytestmark = [pytest.mark.browser, pytest.mark.postgres]


def a_photo_of_the_payment(tmp_path):
    from PIL import Image

    path = tmp_path / "payment.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (230, 240, 235)).save(buffer, "PNG")
    path.write_bytes(buffer.getvalue())
    return path


def stored_photo(agent):
    """The id of the customer's photo once its media is downloaded, or None."""
    found = (
        tables.for_agent(agent)
        .Message.objects.filter(direction="inbound", wa_type="image", customer__phone=CUSTOMER_PHONE)
        .exclude(media_url=None)
        .first()
    )
    return found.pk if found else None


def test_the_customer_pays_by_link_sends_a_proof_and_gets_the_receipt(live_shop, live_server, fake_graph, tmp_path):
    seller, agent = live_shop.user, live_shop.agent
    ways.save_settings(agent, actor=seller, link_pattern="https://pay.example.com/shop?ref={order}&amount={total}")
    with chromium_page() as page:
        page.set_viewport_size({"width": 1366, "height": 900})
        the_journey(page, live_shop, live_server, fake_graph, tmp_path)


def the_journey(page, live_shop, live_server, fake_graph, tmp_path):
    from playwright.sync_api import expect

    seller, agent = live_shop.user, live_shop.agent
    log_in(page, live_server.url, seller.email, PASSWORD)
    order_id = customer_writes_and_orders(page, live_server, fake_graph, agent, seller)

    # The seller sends the summary, which carries the link.
    page.goto(live_server.url + reverse("order_detail", args=[order_id]))
    expect(page.get_by_label("Way to pay in the summary")).to_have_count(0)  # the link is the shop's only way
    page.get_by_role("button", name="Send summary to confirm").click()

    # The customer reads it, pays, and sends a photo of the payment.
    open_sandbox_chat(page, live_server)
    chat = page.get_by_role("list", name="Conversation")
    expect(chat).to_contain_text(f"Pay here: https://pay.example.com/shop?ref={order_id}&amount=16.00")
    page.get_by_label("Your message").fill("Paid by the link, here it is")
    page.get_by_label("Attach an image (JPEG or PNG, up to 5 MB)").set_input_files(a_photo_of_the_payment(tmp_path))
    page.get_by_role("button", name="Send as John Carter").click()
    expect(chat.get_by_role("img", name="Your image")).to_be_visible()
    assert fake_graph.wait_for_webhooks()
    deadline = time.monotonic() + 30
    while not outside_playwright(stored_photo, agent):
        assert time.monotonic() < deadline, "the customer's photo was never downloaded"
        time.sleep(0.1)

    # The seller takes the photo as the proof of the whole order.
    page.goto(live_server.url + reverse("inbox"))
    page.get_by_role("link", name="John Carter").first.click()
    bubble = page.get_by_role("log", name="Chat history").get_by_role("article").filter(has_text="here it is")
    bubble.get_by_role("link", name="Use as payment proof").click()
    expect(page.get_by_label("Order")).to_have_value(str(order_id))
    expect(page.get_by_label("Amount")).to_have_value("16.00")
    page.get_by_label("Paid by").select_option(label="Payment link")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_role("status")).to_contain_text(f"Order #{order_id} is paid.")
    expect(
        page.get_by_role("list", name="Payments").get_by_role("img", name="Proof of payment from John Carter")
    ).to_be_visible()

    # The receipt goes to the customer, who finds it in the chat.
    receipt = page.get_by_role("region", name="Receipt")
    receipt.get_by_role("button", name="Send receipt on WhatsApp").click()
    expect(page.get_by_role("status")).to_contain_text("The receipt is on its way to John Carter")
    assert csp_violations(page) == []

    open_sandbox_chat(page, live_server)
    chat = page.get_by_role("list", name="Conversation")
    expect(chat).to_contain_text(f"Receipt 0001 from {agent.name}")
    expect(chat.get_by_role("link", name="Open the document")).to_be_visible()
