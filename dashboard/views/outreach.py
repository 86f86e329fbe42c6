"""Outreach: a customer's marketing preference set by the shop, the shop's stop and start words, broadcasts."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from agents import customers
from agents.access import agent_required
from agents.labels import labels_of
from outreach import broadcasts, consent
from whatsapp.send import approved_templates

from ..forms import BroadcastForm, BusinessHoursForm, OutreachSettingsForm
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
        messages.success(request, "The outreach settings were saved.")
        return redirect("outreach_settings")
    return render(
        request,
        "outreach/settings.html",
        {"section": "customers", "form": form},
        status=400 if form.errors else 200,
    )


@agent_required
def business_hours(request):
    templates = approved_templates(request.agent)
    form = BusinessHoursForm(templates, request.POST or None, instance=consent.settings_of(request.agent))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "The business hours and automatic messages were saved.")
        return redirect("business_hours")
    return render(
        request, "outreach/hours.html", {"section": "customers", "form": form}, status=400 if form.errors else 200
    )


@agent_required
def broadcast_list(request):
    return render(
        request,
        "outreach/broadcasts.html",
        {"section": "broadcasts", "broadcasts": broadcasts.recent_broadcasts(request.agent)},
    )


@agent_required
def broadcast_new(request):
    templates, labels = broadcasts.broadcast_templates(request.agent), labels_of(request.agent)
    form = BroadcastForm(templates, labels, request.POST or None, initial=request.GET)
    found = None
    if request.method == "POST" and form.is_valid():
        if "preview" in request.POST:
            found = broadcasts.plan(request.agent, form.audience())
            found.estimate = broadcasts.estimate(request.agent, found, form.templates[form.cleaned_data["template"]])
        else:
            try:
                broadcast = broadcasts.create_broadcast(
                    request.agent,
                    name=form.cleaned_data["name"],
                    template=form.cleaned_data["template"],
                    values=form.values(),
                    audience=form.audience(),
                    user=request.user,
                    scheduled_at=form.cleaned_data["send_at"],
                )
            except broadcasts.BroadcastError as error:
                form.add_error(None, str(error))
            else:
                return redirect("broadcast_detail", broadcast.pk)
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request, "outreach/broadcast_new.html", {"section": "broadcasts", "form": form, "plan": found}, status=status
    )


@agent_required
def broadcast_detail(request, broadcast_id):
    broadcast = broadcasts.get_broadcast_or_404(request.agent, broadcast_id)
    context = {"section": "broadcasts", "broadcast": broadcast, **broadcasts.report(broadcast)}
    template = "outreach/_broadcast_progress.html" if request.headers.get("HX-Request") else "outreach/broadcast.html"
    return render(request, template, context)


@require_POST
@agent_required
def broadcast_action(request, broadcast_id, action):
    broadcast = broadcasts.get_broadcast_or_404(request.agent, broadcast_id)
    try:
        ACTIONS[action](broadcast)
    except broadcasts.BroadcastError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"The broadcast is {broadcast.get_status_display()}.")
    return redirect("broadcast_detail", broadcast.pk)


ACTIONS = {"pause": broadcasts.pause, "resume": broadcasts.resume, "cancel": broadcasts.cancel}
