"""Alerts: the live-update question every open page asks, the seller's alert settings, the browsers that
receive Web Push, and the web app's manifest and service worker (served from the site's root: a service
worker controls only the paths under its own)."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_POST

from agents.access import agent_required
from alerts import live, push
from alerts.forms import AlertSettingsForm, PushEndpointForm, PushSubscriptionForm
from alerts.middleware import check_answer


def _form_error(form):
    return JsonResponse(
        {"error": " ".join(message for errors in form.errors.values() for message in errors)}, status=400
    )


@never_cache
@require_GET
@agent_required
def live_changes(request):
    """The agent's live state, a fresh ticket for the check, and the customer messages since `since`."""
    try:
        answer = live.changes(
            request.agent,
            request.agent_tables,
            request.GET.get("since", ""),
            show_text=lambda: push.alert_settings_of(request.agent, request.user).show_message_text,
        )
    except live.InvalidToken as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse(answer)


@require_GET
def live_check(request):
    """Answered by alerts.middleware before this view is reached; here for a stack without it."""
    return check_answer(request.GET)


@agent_required
def alert_settings(request):
    chosen = push.alert_settings_of(request.agent, request.user)
    form = AlertSettingsForm(
        request.POST if request.method == "POST" else None, initial={"show_message_text": chosen.show_message_text}
    )
    if request.method == "POST" and form.is_valid():
        push.save_alert_settings(request.agent, request.user, **form.cleaned_data)
        messages.success(request, "Your alert settings were saved.")
        return redirect("alert_settings")
    return render(
        request,
        "agents/alerts.html",
        {
            "section": "alerts",
            "form": form,
            "push_public_key": settings.WEBPUSH_VAPID_PUBLIC_KEY if push.push_configured() else "",
        },
        status=400 if form.errors else 200,
    )


@require_POST
@agent_required
def push_subscribe(request):
    """Save the browser's push subscription (posted by alerts.js once the seller turned push on)."""
    if not push.push_configured():
        return JsonResponse({"error": "Push notifications are not set up on this server."}, status=409)
    form = PushSubscriptionForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    push.subscribe(request.agent, request.user, **form.cleaned_data)
    return JsonResponse({"subscribed": True}, status=201)


@require_POST
@agent_required
def push_unsubscribe(request):
    """Forget the browser's subscription: only one of the user's own, for the current agent (else 404)."""
    form = PushEndpointForm(request.POST)
    if not form.is_valid():
        return _form_error(form)
    if not push.unsubscribe(request.agent, request.user, form.cleaned_data["endpoint"]):
        return JsonResponse({"error": "This browser was not subscribed."}, status=404)
    return JsonResponse({"unsubscribed": True})


@require_GET
@cache_control(max_age=3600)
def web_manifest(request):
    """What a browser needs to install the dashboard as an app (name, icons, where it starts)."""
    icons = [
        {"src": static("img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
        {"src": static("img/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
    ]
    manifest = {
        "id": "/",
        "name": "WhatsApp CRM",
        "short_name": "CRM",
        "description": "Your customers' WhatsApp messages and orders.",
        "start_url": "/inbox/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#075e54",
        "icons": icons,
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


@require_GET
def service_worker(request):
    """The service worker, from the root so that its scope is the whole site; browsers check it anew on each
    visit (no-cache), so a new version is taken at once."""
    response = HttpResponse(render_to_string("alerts/service-worker.js"), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response
