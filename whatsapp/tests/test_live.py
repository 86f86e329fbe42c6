"""The whole loop over real HTTP: the fake Graph API plays Meta and the customer, the app runs as a server."""

import time

import pytest
from django.core.files.storage import default_storage

from agents import tables
from whatsapp import send
from whatsapp.models import MediaDownload, WebhookEvent

from . import payloads

pytestmark = pytest.mark.postgres


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_conversation_through_the_running_server(live_server, fake_graph, committed_agent):
    t = tables.for_agent(committed_agent)
    fake_graph.webhook_url = live_server.url + "/whatsapp/webhook/"
    number, customer_wa_id = payloads.PHONE_NUMBER_ID, "16505551234"

    # The customer writes, then sends a photo: Meta posts both, signed, to the webhook.
    fake_graph.customer_sends(number, customer_wa_id, name="Sheena Nelson", text="Do you have it in blue?")
    photo = fake_graph.add_media(b"\xff\xd8\xff a blue mug \xff\xd9", "image/jpeg", phone_number_id=number)
    fake_graph.customer_sends(number, customer_wa_id, media_id=photo, caption="This one")
    assert fake_graph.wait_for_webhooks()
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.name, customer.unread_count) == ("+16505551234", "Sheena Nelson", 2)
    image = t.Message.objects.get(wa_type="image")
    assert image.message == "Image: This one"
    assert wait_until(lambda: MediaDownload.objects.filter(state=MediaDownload.State.DONE).exists())
    image.refresh_from_db()
    assert default_storage.open(MediaDownload.objects.get().file_name).read() == b"\xff\xd8\xff a blue mug \xff\xd9"

    # The agent answers: sent through the Graph API; Meta's sent, delivered and read statuses come back.
    reply = send.send_text(
        committed_agent, customer, "Yes, we have 12 left.", sent_by=committed_agent.user, idempotency_key="reply-1"
    )
    assert wait_until(lambda: t.Message.objects.get(pk=reply.pk).status in ("sent", "delivered"))
    fake_graph.customer_reads(number, customer_wa_id)
    assert fake_graph.wait_for_webhooks()
    assert wait_until(lambda: t.Message.objects.get(pk=reply.pk).status == "read")

    assert {delivery["status"] for delivery in fake_graph.deliveries} == {200}
    assert t.Message.objects.inbound().count() == 2
    assert not WebhookEvent.objects.filter(state=WebhookEvent.State.FAILED).exists()
