"""Fetching the agent's message templates from WhatsApp again, asked from the composer or Order settings."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from agents.access import agent_required
from agents.customers import get_customer_or_404
from whatsapp import send


@require_POST
@agent_required
def refresh_templates(request, customer_id=None):
    """Ask WhatsApp for the templates, then back to the conversation it was asked from (or Order settings)."""
    if customer_id is None:
        back = reverse("order_settings")
    else:
        back = reverse("conversation", args=[get_customer_or_404(request.agent_tables, customer_id).pk])
    try:
        send.request_template_sync(request.agent)
    except send.SendError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Asking WhatsApp for your templates; reload the page in a moment to see them.")
    return redirect(back)
