"""In real Chromium: a seller takes the customer's photo of a bank transfer as the proof of part of an order,
then records the rest by hand, and the order shows Paid (on a phone's width, then a laptop's).

PostgreSQL only: the live server answers the pages and the fake Graph API's webhooks at once.
"""

import io
import re
import time
from decimal import Decimal

import pytest

from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

MARIA = "5511987654321"


def a_photo_of_a_transfer():
    """A real JPEG (a browser draws it: the thumbnail has a size), as a phone would send it."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (120, 160), (230, 240, 235)).save(buffer, "JPEG")
    return buffer.getvalue()


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_customers_photo_pays_part_of_an_order_and_the_seller_records_the_rest(live_server, live_shop, fake_graph):
    from playwright.sync_api import expect

    agent, agent_tables = live_shop.agent, live_shop.tables
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, name="Maria Silva", text="I'll pay half now")
    assert fake_graph.wait_for_webhooks()
    maria = agent_tables.Customer.objects.get(phone="+" + MARIA)
    earlier = placing.create_order(agent, maria, [LineItem("Silk scarf", 1, Decimal("20.00"))], actor=None)
    order = placing.create_order(agent, maria, [LineItem("Linen dress", 1, Decimal("100.00"))], actor=None)
    agent_tables.Order.objects.update(status="confirmed")
    photo = fake_graph.add_media(a_photo_of_a_transfer(), "image/jpeg", phone_number_id=PHONE_NUMBER_ID)
    fake_graph.customer_sends(PHONE_NUMBER_ID, MARIA, media_id=photo, caption="Transfer done")
    assert fake_graph.wait_for_webhooks()
    assert wait_until(lambda: agent_tables.Message.objects.filter(wa_type="image").exclude(media_url=None).exists())

    with chromium_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.goto(live_server.url + "/inbox/")
        page.get_by_role("link", name=re.compile("Maria Silva")).first.click()
        chat = page.get_by_role("log", name="Chat history")
        chat.get_by_role("article").filter(has_text="Transfer done").get_by_role(
            "link", name="Use as payment proof"
        ).click()

        expect(page.get_by_role("heading", level=1)).to_have_text("Use as payment proof")
        expect(page.get_by_role("img", name="Image from Maria Silva")).to_be_visible()
        expect(page.get_by_label("Order")).to_have_value(str(order.pk))
        expect(page.get_by_label("Amount")).to_have_value("100.00")
        # Another order puts what it owes in the amount (static/js/payments.js).
        page.get_by_label("Order").select_option(str(earlier.pk))
        expect(page.get_by_label("Amount")).to_have_value("20.00")
        page.get_by_label("Order").select_option(str(order.pk))
        expect(page.get_by_label("Amount")).to_have_value("100.00")
        page.get_by_label("Amount").fill("40")
        page.get_by_label("Paid by").select_option(label="Bank transfer")
        page.get_by_label("Reference").fill("TR-2026-77")
        page.get_by_role("button", name="Record payment").click()

        expect(page.get_by_role("status")).to_contain_text("Payment of $40.00 recorded. Still owed: $60.00.")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Part paid")
        payments = page.get_by_role("list", name="Payments")
        expect(payments).to_contain_text("$40.00 by bank transfer, reference TR-2026-77")
        thumbnail = payments.get_by_role("img", name="Proof of payment from Maria Silva")
        expect(thumbnail).to_be_visible()
        # Drawn from the stored file (the conversation's media URL), not a broken image.
        page.wait_for_function("image => image.complete && image.naturalWidth === 120", arg=thumbnail.element_handle())

        pay = page.get_by_role("form", name="Record a payment")
        expect(pay.get_by_label("Amount")).to_have_value("60.00")
        pay.get_by_label("Paid by").select_option(label="Cash")
        pay.get_by_role("button", name="Mark paid").click()

        expect(page.get_by_role("status")).to_contain_text(f"Order #{order.pk} is paid.")
        expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
        expect(page.get_by_role("form", name="Record a payment")).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        page.set_viewport_size({"width": 1366, "height": 900})
        page.reload()
        expect(page.get_by_role("region", name="Payment")).to_contain_text("Still owed")
        expect(page.get_by_role("list", name="Payments").get_by_role("listitem")).to_have_count(2)
        assert csp_violations(page) == []

    order = agent_tables.Order.objects.get(pk=order.pk)
    assert order.paid_at is not None
    assert list(order.events.filter(kind__in=["payment", "paid"]).values_list("kind", flat=True)) == [
        "payment",
        "payment",
        "paid",
    ]
