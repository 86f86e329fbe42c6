"""The web app's manifest and service worker, served from the site's root with the right types, and the
alerts settings page."""

from django.contrib.staticfiles import finders
from django.urls import reverse

from alerts.models import AlertSettings


def test_the_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == ("/inbox/", "/", "standalone")
    assert manifest["name"] == "WhatsApp CRM"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_the_service_worker_is_served_from_the_root_as_javascript_and_never_cached(client):
    response = client.get("/service-worker.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    source = response.content.decode()
    assert 'addEventListener("push"' in source and 'addEventListener("notificationclick"' in source
    assert "{%" not in source


def test_every_agent_page_links_the_manifest_and_asks_for_live_updates(seller):
    page = seller.client.get(reverse("inbox")).content.decode()

    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    assert f'data-live-url="{reverse("live_changes")}"' in page
    assert "<title>Inbox · Shop A</title>" in page


def test_the_seller_turns_message_text_in_notifications_on_and_off(seller):
    page = seller.client.get(reverse("alert_settings"))
    assert page.status_code == 200
    assert b"Show message text in notifications" in page.content
    assert b"Turn on notifications" in page.content

    seller.client.post(reverse("alert_settings"), {"show_message_text": "on"})
    assert AlertSettings.objects.get(agent=seller.agent, user=seller.user).show_message_text is True

    seller.client.post(reverse("alert_settings"), {})
    assert AlertSettings.objects.get(agent=seller.agent, user=seller.user).show_message_text is False
