"""The seller's price table of WhatsApp messages (per pricing category and country code): what the costs on
order, customer and report pages are priced with."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents.access import agent_required
from whatsapp import costs

from ..forms import MessagePriceForm


@agent_required
def message_prices(request):
    form = MessagePriceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        price = costs.save_price(request.agent, **form.cleaned_data)
        messages.success(request, f"The price of {price.get_category_display().lower()} messages was saved.")
        return redirect("message_prices")
    return render(
        request,
        "orders/message_prices.html",
        {"section": "orders", "form": form, "prices": costs.prices_of(request.agent)},
        status=400 if form.errors else 200,
    )


@require_POST
@agent_required
def message_price_delete(request, message_price_id):
    costs.delete_price(costs.get_price_or_404(request.agent, message_price_id))
    messages.success(request, "The price was deleted.")
    return redirect("message_prices")
