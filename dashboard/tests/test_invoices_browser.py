"""The invoice in real Chromium: the seller sets the invoice number prefix, then from the order page downloads the invoice PDF and sends it to the
customer on WhatsApp; once the order is paid the same buttons give the receipt. At 1366 and 390 px wide.

PostgreSQL only: the live server answers the page while the fake Graph API posts its webhooks.
"""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIA = "5511987654321"


def pdf_text(path):
    content = Path(path).read_bytes()
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.fixture
def order(live_shop, fake_graph):
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text="The blue mugs please")
    assert fake_graph.wait_for_webhooks()
    maria = live_shop.tables.Customer.objects.get(phone="+" + MARIA)
    return placing.create_order(live_shop.agent, maria, [LineItem("Blue mug", 2, Decimal("8.50"))], actor=None)


@pytest.mark.parametrize("width", [1366, 390])
def test_the_seller_downloads_the_invoice_sends_it_and_later_the_receipt(
    live_server, live_shop, order, fake_graph, width
):
    from playwright.sync_api import expect

    with chromium_page() as page:
        page.set_viewport_size({"width": width, "height": 900})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.goto(live_server.url + reverse("shop_settings"))
        page.get_by_role("link", name="Invoice settings").click()
        page.get_by_label("Invoice number prefix").fill("INV-2026-")
        page.get_by_role("button", name="Save invoice settings").click()
        expect(page.get_by_role("status")).to_contain_text("The invoice settings were saved.")
        expect(page.get_by_text("The next one will be")).to_contain_text("INV-2026-0001")
        page.goto(live_server.url + reverse("order_detail", args=[order.pk]))
        card = page.get_by_role("region", name="Invoice")

        with page.expect_download() as download:
            card.get_by_role("link", name="Download invoice").click()
        assert download.value.suggested_filename == "Invoice-INV-2026-0001.pdf"
        text = pdf_text(download.value.path())
        assert "Shop A" in text and "Invoice" in text and "INV-2026-0001" in text and "$17.00" in text

        send = card.get_by_role("button", name="Send invoice on WhatsApp")
        expect(send).to_be_visible()
        send.click()
        expect(page.get_by_role("status")).to_contain_text("The invoice is on its way to Maria Silva")
        about = page.get_by_role("log", name="WhatsApp messages about this order")
        expect(about).to_contain_text("Invoice INV-2026-0001 from Shop A")
        page.screenshot(path=f"/tmp/invoice-order-{width}.png", full_page=True)

        page.get_by_role("button", name="Mark paid").click()
        card = page.get_by_role("region", name="Receipt")
        expect(card).to_contain_text("Number INV-2026-0001")
        with page.expect_download() as download:
            card.get_by_role("link", name="Download receipt").click()
        assert download.value.suggested_filename == "Receipt-INV-2026-0001.pdf"
        assert "Paid on" in pdf_text(download.value.path())
        card.get_by_role("button", name="Send receipt on WhatsApp").click()
        expect(page.get_by_role("status")).to_contain_text("The receipt is on its way to Maria Silva")
        assert csp_violations(page) == []

    sent = [message for message in fake_graph.sent_messages() if message["type"] == "document"]
    assert [message["document"]["filename"] for message in sent] == [
        "Invoice-INV-2026-0001.pdf",
        "Receipt-INV-2026-0001.pdf",
    ]
    uploads = fake_graph.calls(f"/{PHONE_NUMBER_ID}/media")
    assert [call.file[:2] for call in uploads] == [
        ("Invoice-INV-2026-0001.pdf", "application/pdf"),
        ("Receipt-INV-2026-0001.pdf", "application/pdf"),
    ]
    assert sent[1]["document"]["caption"] == "Receipt INV-2026-0001 from Shop A"
