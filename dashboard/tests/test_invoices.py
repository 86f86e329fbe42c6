"""The invoice from the order page: the PDF download, sending it on WhatsApp, the prefix setting, and
another agent's order (not found)."""

import io
import sys
from decimal import Decimal

import pytest
from django.urls import reverse
from pypdf import PdfReader

from crm.tests.fixtures import PHONE_NUMBER_ID
from invoices import documents, numbering
from invoices.models import Invoice, InvoiceCounter
from orders import placing
from orders.placing import LineItem


def pdf_text(content):
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages).split())


@pytest.fixture
def order(seller, maria):
    return placing.create_order(seller.agent, maria, [LineItem("Blue mug", 2, Decimal("8.50"))], actor=None)


@pytest.fixture
def without_weasyprint(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    documents.pdf_available.cache_clear()
    yield
    documents.pdf_available.cache_clear()


def test_the_invoice_downloads_as_a_pdf_named_with_its_number(seller, order):
    numbering.set_prefix(seller.agent, "INV-2026-", actor=None)

    response = seller.client.get(reverse("order_invoice", args=[order.pk]))

    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="Invoice-INV-2026-0001.pdf"'
    text = pdf_text(response.content)
    assert "Shop A" in text and "INV-2026-0001" in text and "Blue mug" in text and "$17.00" in text


def test_the_order_page_offers_the_invoice_and_shows_its_number_once_given(seller, order):
    page = seller.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "Download invoice" in page and "Send invoice on WhatsApp" in page
    assert "gets its invoice number the first time" in page

    seller.client.get(reverse("order_invoice", args=[order.pk]))

    page = seller.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "Number <strong>0001</strong>" in page


def test_a_paid_order_offers_its_receipt(seller, order):
    paid = seller.client.post(
        reverse("order_mark_paid", args=[order.pk]), {"amount": order.total_amount, "method": "cash"}
    )
    assert paid.status_code == 302

    page = seller.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    response = seller.client.get(reverse("order_invoice", args=[order.pk]))

    assert "Download receipt" in page and "Send receipt on WhatsApp" in page
    assert response["Content-Disposition"] == 'attachment; filename="Receipt-0001.pdf"'
    assert "Receipt" in pdf_text(response.content)


def test_another_agents_order_is_not_found(seller, seller_b, order):
    assert seller_b.client.get(reverse("order_invoice", args=[order.pk])).status_code == 404
    assert seller_b.client.post(reverse("order_send_invoice", args=[order.pk])).status_code == 404
    assert not Invoice.objects.exists()


def test_sending_the_invoice_from_the_order_page_sends_one_document_per_click(
    connected_shop, order, fake_graph, django_capture_on_commit_callbacks
):
    url = reverse("order_send_invoice", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(url, {"idempotency_key": "click-1"}, follow=True)
    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(url, {"idempotency_key": "click-1"})

    assert "The invoice is on its way to Maria Silva as a PDF on WhatsApp." in response.content.decode()
    [sent] = fake_graph.sent_messages()
    assert sent["type"] == "document" and sent["document"]["filename"] == "Invoice-0001.pdf"
    [uploaded] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/media")
    assert uploaded.file[:2] == ("Invoice-0001.pdf", "application/pdf")
    message = connected_shop.tables.Message.objects.get(wa_type="document")
    assert message.status == "sent" and message.caption == "Invoice 0001 from Shop A"
    assert "Invoice 0001 sent on WhatsApp" in response.content.decode()  # the order's history


def test_sending_outside_the_24_hour_window_is_refused_with_a_sentence(connected_shop, fake_graph):
    quiet = connected_shop.tables.Customer.objects.create(name="Bo Lind", phone="+14155550000")
    order = placing.create_order(connected_shop.agent, quiet, [LineItem("Mug", 1, Decimal("8"))], actor=None)

    page = connected_shop.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    response = connected_shop.client.post(
        reverse("order_send_invoice", args=[order.pk]), {"idempotency_key": "k"}, follow=True
    )

    assert "Documents can only be sent within 24 hours of Bo Lind" in page
    assert "The invoice was not sent: More than 24 hours have passed" in response.content.decode()
    assert fake_graph.sent_messages() == [] and not Invoice.objects.exists()


def test_without_weasyprint_the_order_page_says_what_to_install(seller, order, without_weasyprint):
    page = seller.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    response = seller.client.get(reverse("order_invoice", args=[order.pk]))

    assert "libpango-1.0-0" in page and "Download invoice" not in page
    assert response.status_code == 503 and "libpango-1.0-0" in response.content.decode()


def test_the_prefix_is_set_on_the_invoice_settings_page(seller):
    url = reverse("invoice_settings")
    assert "The next one will be <strong>0001</strong>" in seller.client.get(url).content.decode()

    response = seller.client.post(url, {"prefix": "INV-2026-"}, follow=True)

    assert "The invoice settings were saved." in response.content.decode()
    assert "The next one will be <strong>INV-2026-0001</strong>" in response.content.decode()
    assert InvoiceCounter.objects.get(agent=seller.agent).prefix == "INV-2026-"


@pytest.mark.parametrize(
    "prefix, says",
    [
        ("<script>", "Use letters, digits, spaces and - / . _ # only"),
        ("x" * 21, "at most 20 characters"),
        ("a\x00b", "NUL character"),
    ],
)
def test_a_bad_prefix_is_refused_with_a_sentence(seller, prefix, says):
    response = seller.client.post(reverse("invoice_settings"), {"prefix": prefix})

    assert response.status_code == 400 and says in response.content.decode()
    assert numbering.prefix_of(seller.agent) == ""
