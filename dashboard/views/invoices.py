"""An order's invoice or receipt: the PDF download, sending it on WhatsApp, and the shop's invoice prefix.

The domain is the invoices app (numbering, documents); these views parse, call it once, and answer.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from agents.access import agent_required
from invoices import documents, numbering
from invoices.forms import InvoiceSettingsForm
from whatsapp import send

from .order import get_order_or_404


@require_GET
@agent_required
def order_invoice(request, order_id):
    """The order's invoice (a receipt once paid) as a PDF download named with its number."""
    order = get_order_or_404(request.agent_tables, order_id)
    try:
        document = documents.document_for(request.agent, order)
    except documents.PdfUnavailable as error:
        return render(
            request, "invoices/unavailable.html", {"section": "orders", "order": order, "error": error}, status=503
        )
    response = HttpResponse(document.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{document.filename}"'
    return response


@require_POST
@agent_required
def order_send_invoice(request, order_id):
    """Send the invoice (or receipt) to the customer as a WhatsApp document, once per click."""
    order = get_order_or_404(request.agent_tables, order_id)
    title = documents.title_of(order).lower()
    try:
        documents.send_document(
            request.agent,
            order,
            sent_by=request.user,
            idempotency_key=f"order-{order.pk}-invoice-{request.POST.get('idempotency_key', '')}",
        )
    except (send.SendError, documents.PdfUnavailable) as error:
        messages.error(request, f"The {title} was not sent: {error}")
    else:
        messages.success(request, f"The {title} is on its way to {order.customer.name} as a PDF on WhatsApp.")
    return redirect(reverse("order_detail", args=[order.pk]) + "#order-messages")


@agent_required
def invoice_settings(request):
    """The prefix of the shop's invoice numbers."""
    if request.method != "POST":
        form = InvoiceSettingsForm(initial={"prefix": numbering.prefix_of(request.agent)})
        return _settings_page(request, form)
    form = InvoiceSettingsForm(request.POST)
    if form.is_valid():
        try:
            numbering.set_prefix(request.agent, form.cleaned_data["prefix"], actor=request.user, request=request)
        except ValidationError as error:
            form.add_error("prefix", error)
        else:
            messages.success(request, "The invoice settings were saved.")
            return redirect("invoice_settings")
    return _settings_page(request, form, status=400)


def _settings_page(request, form, *, status=200):
    return render(
        request,
        "invoices/settings.html",
        {"section": "shop", "form": form, "next_number": numbering.next_label(request.agent)},
        status=status,
    )
