"""The typing indicator: on the read receipt when the seller opens an unread conversation, and while they type
(at most once per 25 seconds per conversation)."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse

from crm.tests.fixtures import PHONE_NUMBER_ID, add_inbound
from whatsapp import send

# Meta's typing indicators page: the read receipt, with the indicator.
EXPECTED_BODY = {
    "messaging_product": "whatsapp",
    "status": "read",
    "message_id": "wamid.newest",
    "typing_indicator": {"type": "text"},
}


@pytest.fixture(autouse=True)
def _forget_typing():
    cache.clear()
    yield
    cache.clear()


def test_opening_an_unread_conversation_sends_the_read_receipt_with_the_typing_indicator(
    connected_shop, maria, fake_graph, client, django_capture_on_commit_callbacks
):
    add_inbound(connected_shop.tables, maria, ago=dt.timedelta(minutes=1), wamid="wamid.newest")

    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(reverse("conversation", args=[maria.pk])).status_code == 200

    [call] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")
    assert call.json == EXPECTED_BODY


def test_typing_in_the_composer_shows_the_indicator_once_per_25_seconds(
    connected_shop, maria, fake_graph, client, django_capture_on_commit_callbacks
):
    add_inbound(connected_shop.tables, maria, ago=dt.timedelta(minutes=1), wamid="wamid.newest")
    url = reverse("composer_typing", args=[maria.pk])

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 204
        assert client.post(url).status_code == 204

    assert [call.json for call in fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")] == [EXPECTED_BODY]
    cache.delete(f"whatsapp:typing:{connected_shop.agent.id}:{maria.pk}")  # 25 seconds later
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    assert len(fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")) == 2


def test_opening_the_conversation_counts_as_the_indicator_of_the_next_25_seconds(
    connected_shop, maria, fake_graph, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("conversation", args=[maria.pk]))
        client.post(reverse("composer_typing", args=[maria.pk]))
    assert len(fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")) == 1


def test_no_indicator_for_a_customer_who_never_wrote(connected_shop, fake_graph, client):
    silent = connected_shop.tables.Customer.objects.create(name="Silent", phone="+15550009999")
    assert send.show_typing(connected_shop.agent, silent) is False
    assert client.post(reverse("composer_typing", args=[silent.pk])).status_code == 204
    assert fake_graph.requests == []


def test_typing_asks_for_a_post(connected_shop, maria, client):
    assert client.get(reverse("composer_typing", args=[maria.pk])).status_code == 405
