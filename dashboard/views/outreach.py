"""Outreach: a customer's marketing preference set by the shop, and the shop's stop and start words."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents import customers
from agents.access import agent_required
from outreach import consent

from ..forms import OutreachSettingsForm
from .common import bad_request

CHOICES = {"out": True, "in": False}


@require_POST
@agent_required
def customer_marketing(request, customer_id):
    customer = customers.get_customer_or_404(request.agent_tables, customer_id)
    opted_out = CHOICES.get(request.POST.get("marketing", ""))
    if opted_out is None:
        return bad_request(request, "Choose whether the customer receives marketing messages (“in” or “out”).")
    consent.set_by_seller(request.agent, customer, opted_out=opted_out, user=request.user)
    if opted_out:
        messages.success(request, f"{customer.name} will not receive marketing messages.")
    else:
        messages.success(request, f"{customer.name} receives marketing messages again.")
    return redirect("customer_detail", customer.pk)


@agent_required
def outreach_settings(request):
    form = OutreachSettingsForm(request.POST or None, instance=consent.settings_of(request.agent))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "The stop and start words were saved.")
        return redirect("outreach_settings")
    return render(
        request,
        "outreach/settings.html",
        {"section": "customers", "form": form},
        status=400 if form.errors else 200,
    )
