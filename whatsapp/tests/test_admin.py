"""Admins see every webhook event, find the ones that need attention, and replay them."""

import pytest
from django.urls import reverse

from agents import tables
from whatsapp.configuration import save_configuration
from whatsapp.models import WebhookEvent

from . import payloads
from .payloads import notification, post, text, value

pytestmark = pytest.mark.django_db


def test_the_event_list_shows_states_and_filters_those_needing_attention(client, agent, admin_user):
    post(client, notification(value([text()])))
    post(client, notification(value([text(wamid="wamid.lost")], phone_number_id="999999")))
    client.force_login(admin_user)

    page = client.get(reverse("admin:whatsapp_webhookevent_changelist")).content.decode()
    assert "processed" in page and "unroutable" in page and "999999" in page

    page = client.get(
        reverse("admin:whatsapp_webhookevent_changelist"), {"state__exact": "unroutable"}
    ).content.decode()
    assert "999999" in page and "1 message stored" not in page

    page = client.get(reverse("admin:whatsapp_webhookevent_changelist"), {"q": "wamid.lost"}).content.decode()
    assert "999999" in page and "1 message stored" not in page


def test_an_event_page_shows_the_body_and_the_error(client, agent, admin_user):
    post(client, notification(value([payloads.message("text", {"body": ["not", "text"]})])))
    event = WebhookEvent.objects.get()
    client.force_login(admin_user)

    page = client.get(reverse("admin:whatsapp_webhookevent_change", args=[event.pk])).content.decode()
    assert "a text message&#x27;s body must be a string" in page
    assert "&quot;whatsapp_business_account&quot;" in page
    assert "Save" not in page and "Delete" not in page


def test_replaying_from_the_admin_processes_the_selected_events(client, make_agent, admin_user):
    post(client, notification(value([text()], phone_number_id="999999")))
    event = WebhookEvent.objects.get()
    agent = make_agent()
    save_configuration(user=agent.user, whatsapp_number="+15550100009", phone_number_id="999999", access_token="x")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:whatsapp_webhookevent_changelist"),
        {"action": "replay", "_selected_action": [event.pk]},
        follow=True,
    )

    assert "1 event replayed: 1 processed" in response.content.decode()
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert tables.for_agent(agent).Message.objects.count() == 1


def test_agents_cannot_see_webhook_events(client, make_user):
    client.force_login(make_user())
    response = client.get(reverse("admin:whatsapp_webhookevent_changelist"))
    assert response.status_code == 302
