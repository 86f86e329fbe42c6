"""The invoice and receipt PDFs: what they say, read back out of the PDF, and sending one on WhatsApp."""

import io
import sys
import zoneinfo
from decimal import Decimal

import pytest
from pypdf import PdfReader

from agents import shop, tables
from crm.tests.fixtures import PHONE_NUMBER_ID
from invoices import documents, numbering
from orders import placing, workflow
from orders.placing import Discount, LineItem
from payments import ledger
from whatsapp import send

MONATE = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]


def pdf_text(pdf):
    assert pdf.startswith(b"%PDF-")
    # Words apart by single spaces: Babel writes "1.234,50\xa0€", and lines break where the layout says.
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


@pytest.fixture
def berlin_shop(agent_a):
    shop.save_shop(
        agent_a, name="Keramik Berlin", currency="EUR", locale="de_DE", time_zone="Europe/Berlin", actor=None
    )
    agent_a._shop_cache = shop.shop_of(agent_a)
    return agent_a


@pytest.fixture
def order(berlin_shop, maria):
    return placing.create_order(
        berlin_shop,
        maria,
        [LineItem("Blaue Tasse", 3, Decimal("1234.50")), LineItem("Teller", 1, Decimal("8.25"))],
        actor=None,
        shipping_address="Torstraße 1\n10119 Berlin",
        discount=Discount("amount", Decimal("10")),
    )


def with_fee(agent, customer):
    return placing.create_order(
        agent,
        customer,
        [LineItem("Vase", 2, Decimal("25")), placing.delivery_fee(Decimal("9"))],
        actor=None,
        discount=Discount("percent", Decimal("10")),
    )


def test_the_invoice_says_shop_number_customer_items_and_amounts_the_shops_way(berlin_shop, order):
    numbering.set_prefix(berlin_shop, "RE-2026-", actor=None)

    document = documents.document_for(berlin_shop, order)

    text = pdf_text(document.pdf)
    assert (document.title, document.number, document.filename) == (
        "Invoice",
        "RE-2026-0001",
        "Invoice-RE-2026-0001.pdf",
    )
    for expected in (
        "Keramik Berlin",
        "Invoice",
        "RE-2026-0001",
        f"#{order.pk}",
        "Maria Silva",
        "+55 11 98765-4321",
        "Torstraße 1",
        "10119 Berlin",
        "Blaue Tasse",
        "1.234,50 €",
        "3.703,50 €",
        "Teller",
        "8,25 €",
        "−10,00 €",
        "3.701,75 €",
    ):
        assert expected in text, expected
    berlin = numbering.invoice_of(berlin_shop, order).issued_at.astimezone(zoneinfo.ZoneInfo("Europe/Berlin"))
    assert f"Date {berlin.day}. {MONATE[berlin.month - 1]} {berlin.year}" in text
    assert "Receipt" not in text


def test_fees_and_a_percent_discount_are_on_their_own_lines(berlin_shop, maria):
    text = pdf_text(documents.document_for(berlin_shop, with_fee(berlin_shop, maria)).pdf)

    assert "Items 50,00 €" in text
    assert "Discount (10 %) −5,00 €" in text
    assert "Delivery 9,00 €" in text
    assert "Total 54,00 €" in text


def test_a_paid_order_gets_a_receipt_with_the_same_number(berlin_shop, order):
    invoice = documents.document_for(berlin_shop, order)
    workflow.mark_paid(berlin_shop, order, actor=None)
    order.refresh_from_db()

    receipt = documents.document_for(berlin_shop, order)

    text = pdf_text(receipt.pdf)
    assert (receipt.title, receipt.number, receipt.filename) == ("Receipt", invoice.number, "Receipt-0001.pdf")
    assert "Receipt" in text and "Paid on" in text and "0001" in text
    assert "Invoice" not in text


def test_a_part_paid_invoice_says_what_was_paid_and_what_is_still_owed(berlin_shop, maria):
    order = with_fee(berlin_shop, maria)
    ledger.record_payment(berlin_shop, order, amount=Decimal("20"), method="bank_transfer")

    text = pdf_text(documents.document_for(berlin_shop, order).pdf)

    assert "Total 54,00 € Paid 20,00 € Still owed 34,00 €" in text
    assert "Refunded" not in text

    rest = ledger.record_payment(berlin_shop, order, amount=Decimal("34"), method="cash")
    ledger.record_refund(berlin_shop, rest, amount=Decimal("10"), reason="A chipped vase", actor=None)
    order.refresh_from_db()

    text = pdf_text(documents.document_for(berlin_shop, order).pdf)
    assert "Receipt" in text and "Total 54,00 € Refunded −10,00 €" in text and "Still owed" not in text


class PangoMissing:
    """Imports WeasyPrint as a machine without Pango does: its import fails with OSError (cffi's dlopen)."""

    def find_spec(self, name, path=None, target=None):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0': No such file or directory")
        return None


@pytest.mark.parametrize("missing", ["weasyprint", "pango"])
def test_without_weasyprint_no_pdf_is_made_and_no_number_is_taken(berlin_shop, order, monkeypatch, missing):
    if missing == "weasyprint":
        monkeypatch.setitem(sys.modules, "weasyprint", None)
    else:
        monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
        monkeypatch.setattr(sys, "meta_path", [PangoMissing(), *sys.meta_path])

    with pytest.raises(documents.PdfUnavailable, match="libpango"):
        documents.document_for(berlin_shop, order)
    assert numbering.invoice_of(berlin_shop, order) is None


def test_the_invoice_goes_to_the_customer_as_a_pdf_document_through_metas_media_endpoint(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    agent = connected_shop.agent
    order = with_fee(agent, maria)
    with django_capture_on_commit_callbacks(execute=True):
        message = documents.send_document(agent, order, sent_by=connected_shop.user, idempotency_key="click-1")
    with django_capture_on_commit_callbacks(execute=True):
        again = documents.send_document(agent, order, sent_by=connected_shop.user, idempotency_key="click-1")

    assert again.pk == message.pk
    [uploaded] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/media")
    filename, mime_type, content = uploaded.file
    assert (filename, mime_type, uploaded.form["type"]) == ("Invoice-0001.pdf", "application/pdf", "application/pdf")
    assert uploaded.form["messaging_product"] == "whatsapp"
    assert "Shop A" in pdf_text(content) and "0001" in pdf_text(content)
    [sent] = fake_graph.sent_messages()
    message.refresh_from_db()
    assert sent["type"] == "document" and sent["to"] == "+5511987654321"
    assert sent["document"] == {
        "id": message.media_id,
        "filename": "Invoice-0001.pdf",
        "caption": "Invoice 0001 from Shop A",
    }
    assert (message.status, message.media_type, message.media_mime_type) == ("sent", "document", "application/pdf")
    [event] = connected_shop.tables.OrderEvent.objects.filter(order=order, kind="invoice_sent")
    assert event.message_id == message.pk and event.note == "Invoice 0001 sent on WhatsApp"


def test_no_document_is_sent_outside_the_24_hour_window(connected_shop, fake_graph):
    agent = connected_shop.agent
    quiet = tables.for_agent(agent).Customer.objects.create(name="Bo", phone="+14155550000")
    order = with_fee(agent, quiet)

    with pytest.raises(send.SendError) as refused:
        documents.send_document(agent, order, sent_by=None, idempotency_key="click")

    assert refused.value.code == "window_closed" and "24 hours" in str(refused.value)
    assert numbering.invoice_of(agent, order) is None
    assert fake_graph.calls(f"/{PHONE_NUMBER_ID}/media") == []
