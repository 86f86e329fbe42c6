"""An order's invoice, or its receipt once paid: the HTML page it is printed from, the PDF WeasyPrint makes
of it, and sending that PDF to the customer as a WhatsApp document.

Amounts and dates are written the shop's way (agents.shop: its currency, locale and time zone). WeasyPrint
needs Pango from the system; it is imported only when a PDF is made, so the app starts without it and the
order page says what is missing instead (PDF_UNAVAILABLE).
"""

import functools
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.text import get_valid_filename

from agents import shop as shops
from agents import tables
from agents.customers import display_phone
from orders import history, placing
from payments import ledger
from whatsapp import send
from whatsapp.customers import has_phone_number

from . import numbering

PDF_UNAVAILABLE = (
    "PDF invoices cannot be made on this server: WeasyPrint or the Pango library it needs is not installed "
    "(README, Set-up: apt-get install libpango-1.0-0 libpangoft2-1.0-0)."
)


class PdfUnavailable(RuntimeError):
    """WeasyPrint cannot run here; str() says what to install."""


@dataclass(frozen=True)
class Document:
    """An order's invoice or receipt: its title, the printed number, the file's name and its PDF bytes."""

    title: str
    number: str
    filename: str
    pdf: bytes


def _weasyprint():
    try:
        # Imported here, not at the top: it loads Pango when imported, and the app must start without it.
        import weasyprint
    except (ImportError, OSError) as error:
        raise PdfUnavailable(PDF_UNAVAILABLE) from error
    return weasyprint


@functools.cache
def pdf_available():
    """Whether this server can make PDFs (WeasyPrint and Pango load)."""
    try:
        _weasyprint()
    except PdfUnavailable:
        return False
    return True


def title_of(order):
    """ "Receipt" for a paid order, else "Invoice"."""
    return "Receipt" if order.paid_at else "Invoice"


@dataclass(frozen=True)
class InvoiceState:
    """What the order page says about the order's document: its title, its number if it has one, whether a
    PDF can be made here."""

    title: str
    number: str
    available: bool
    unavailable_reason: str


def state_of(agent, order):
    invoice = numbering.invoice_of(agent, order)
    available = pdf_available()
    return InvoiceState(
        title=title_of(order),
        number=invoice.label if invoice else "",
        available=available,
        unavailable_reason="" if available else PDF_UNAVAILABLE,
    )


def html_for(agent, order, invoice):
    """The document's HTML: the shop, the customer, the items, fees, discount and total, the number and date."""
    shop = shops.shop_of(agent)
    agent_tables = tables.for_agent(agent)
    items = list(agent_tables.OrderItem.objects.filter(order=order).order_by("id"))
    totals = placing.stored_totals(order, items)
    discount = placing.discount_of(order)
    currency = order.currency or shop.currency
    customer = order.customer
    paid = ledger.balance(agent, order)
    with shops.working_for(shop):

        def money(amount):
            return shops.format_money(amount, shop, currency)

        context = {
            "title": title_of(order),
            "shop_name": agent.name,
            "number": invoice.label,
            "issued_on": shops.format_date(invoice.issued_at, shop, "long"),
            "paid_on": shops.format_date(order.paid_at, shop, "long") if order.paid_at else "",
            "order": order,
            "customer_name": customer.name,
            "customer_phone": display_phone(customer.phone) if has_phone_number(customer) else "",
            "address": order.shipping_address or getattr(customer, "address", "") or "",
            "items": [
                {"name": item.name, "quantity": item.quantity, "price": money(item.price), "total": money(item.total)}
                for item in items
                if item.kind != "fee"
            ],
            "fees": [{"name": item.name, "total": money(item.total)} for item in items if item.kind == "fee"],
            "subtotal": money(totals.subtotal),
            "discount": money(totals.discount) if totals.discount else "",
            "discount_percent": str(discount) if discount else "",
            "total": money(order.total_amount),
            # Part paid: what came in and what is still owed, under the total (a receipt says it all was paid).
            "paid_so_far": money(paid.paid) if paid.paid and paid.owed else "",
            "still_owed": money(paid.owed) if paid.paid and paid.owed else "",
            "refunded": money(paid.refunded) if paid.refunded else "",
            "language": shop.locale.split("_")[0],
        }
        return render_to_string("invoices/document.html", context)


def document_for(agent, order):
    """The order's invoice (or receipt, once paid) as a PDF, numbered on first use (invoices.numbering)."""
    weasyprint = _weasyprint()
    invoice = numbering.issue(agent, order)
    title = title_of(order)
    pdf = weasyprint.HTML(string=html_for(agent, order, invoice)).write_pdf()
    filename = get_valid_filename(f"{title}-{invoice.label}.pdf")
    return Document(title=title, number=invoice.label, filename=filename, pdf=pdf)


def send_document(agent, order, *, sent_by, idempotency_key):
    """Send the order's invoice (or receipt) to its customer as a WhatsApp document with a caption, through
    whatsapp.send.send_media (uploaded to Meta's media endpoint by the delivery worker); returns the queued
    message. Raises send.SendError outside the 24-hour window (documents are free-form messages) and
    PdfUnavailable where no PDF can be made."""
    agent_tables = tables.for_agent(agent)
    if not send.window(agent_tables, order.customer).is_open:
        raise send.SendError(
            "More than 24 hours have passed since this customer last wrote, so WhatsApp allows no document now: "
            "only an approved template. Send the invoice once they write again.",
            "window_closed",
        )
    document = document_for(agent, order)
    caption = f"{document.title} {document.number} from {agent.name}"
    message = send.send_media(
        agent,
        order.customer,
        ContentFile(document.pdf, name=document.filename),
        caption=caption,
        sent_by=sent_by,
        idempotency_key=idempotency_key,
    )
    _note_sent(agent_tables, order, message, document, sent_by)
    return message


def _note_sent(agent_tables, order, message, document, sent_by):
    """The order's history entry for the sent document, once per message (a repeated click returns the
    first message: the order's row lock makes two at once wait for each other)."""
    with transaction.atomic(using=agent_tables.database):
        order = agent_tables.Order.objects.select_for_update().get(pk=order.pk)
        if agent_tables.OrderEvent.objects.filter(order=order, message_id=message.pk).exists():
            return
        history.record_event(
            agent_tables,
            order,
            order.status,
            order.status,
            actor=sent_by,
            note=f"{document.title} {document.number} sent on WhatsApp",
            message_id=message.pk,
            kind="invoice_sent",
        )
