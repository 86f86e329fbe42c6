"""The shop's ways to pay: a payment link of its own, bank details, cash on delivery, Meta's review and pay."""

from django.contrib import messages
from django.shortcuts import redirect, render

from agents.access import agent_required
from checkout import ways
from checkout.forms import PaymentSettingsForm


@agent_required
def payment_settings(request):
    form = PaymentSettingsForm(request.agent, request.POST or None, instance=ways.settings_of(request.agent))
    if request.method == "POST" and form.is_valid():
        ways.save_settings(request.agent, actor=request.user, request=request, **form.values())
        messages.success(request, "The ways to pay were saved.")
        return redirect("payment_settings")
    return render(
        request,
        "orders/payment_settings.html",
        {"section": "orders", "form": form},
        status=400 if form.errors else 200,
    )
