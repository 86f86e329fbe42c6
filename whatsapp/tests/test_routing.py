"""One rule routes a phone number id to its agent (configuration.route), read backwards to send and download."""

import datetime as dt
import time

import pytest

from accounts.models import Role
from agents import tables
from agents.models import Agent
from agents.provisioning import create_agent
from whatsapp import delivery, media, send
from whatsapp.configuration import agent_for_configuration, configuration_for_agent, route, save_configuration
from whatsapp.models import MediaDownload, WebhookEvent, WhatsAppConfiguration

from . import payloads
from .payloads import PHONE_NUMBER_ID, message, notification, post, value

pytestmark = pytest.mark.django_db


def connect(user, phone_number_id, agent=None):
    configuration, _ = save_configuration(
        user=user, whatsapp_number="+15550100001", phone_number_id=phone_number_id, access_token="test-access-token"
    )
    if agent is not None:
        configuration.agent = agent
        configuration.save()
    return configuration


def test_a_deactivated_number_receives_sends_and_downloads_nothing(client, agent, fake_graph):
    """Intake, sending, read receipts and media downloads give one answer: inactive is not routed."""
    t = tables.for_agent(agent)
    media_id = fake_graph.add_media(b"\xff\xd8\xff a photo", "image/jpeg", phone_number_id=PHONE_NUMBER_ID)
    just_now = str(int(time.time()))  # the customer wrote just now: free-form replies are allowed
    post(
        client, notification(value([message("image", {"id": media_id, "mime_type": "image/jpeg"}, timestamp=just_now)]))
    )
    customer = t.Customer.objects.get()
    queued = send.send_text(agent, customer, "It is on its way", sent_by=None, idempotency_key="before")

    WhatsAppConfiguration.objects.update(is_active=False)

    download = media.attempt_download(MediaDownload.objects.get().pk)
    assert (download.state, download.error) == (
        MediaDownload.State.FAILED,
        "no active WhatsApp number serves this agent",
    )
    assert delivery.deliver(agent.pk, queued.pk) == "failed"
    queued.refresh_from_db()
    assert (queued.status, queued.error_title) == ("failed", "No WhatsApp number connected")
    with pytest.raises(send.SendError) as refused:
        send.send_text(agent, customer, "Hello again", sent_by=None, idempotency_key="after")
    assert refused.value.code == "no_configuration"
    assert delivery.deliver_read_receipt(agent.pk, payloads.WAMID) == "no configuration"
    post(client, notification(value([payloads.text(wamid="wamid.after")])))
    assert WebhookEvent.objects.order_by("id").last().state == WebhookEvent.State.UNROUTABLE
    assert not t.Message.objects.filter(wamid="wamid.after").exists()
    assert fake_graph.requests == []


def test_a_users_oldest_agent_is_the_first_created_then_the_lowest_id(client, make_agent, make_user):
    seller = make_user()
    newer, oldest, tied = make_agent(user=seller), make_agent(user=seller), make_agent(user=seller)
    newer.refresh_from_db()
    earlier = newer.created_at - dt.timedelta(days=1)
    Agent.objects.filter(pk__in=[oldest.pk, tied.pk]).update(created_at=earlier)
    configuration = connect(seller, PHONE_NUMBER_ID)

    assert route([PHONE_NUMBER_ID]) == {PHONE_NUMBER_ID: (configuration, oldest)}
    assert agent_for_configuration(configuration) == oldest
    assert [configuration_for_agent(agent) for agent in (newer, oldest, tied)] == [None, configuration, None]
    post(client, notification(value([payloads.text()])))
    assert tables.for_agent(oldest).Message.objects.get().wamid == payloads.WAMID


def test_an_agents_configuration_is_the_route_read_backwards(make_agent, make_user):
    alice, bob = make_user(), make_user()
    alices_first, alices_second, bobs = make_agent(user=alice), make_agent(user=alice), make_agent(user=bob)
    system = create_agent(created_by=make_user(role=Role.ADMIN), user=None)
    agents = [alices_first, alices_second, bobs, system]
    alices_number = connect(alice, "1")
    bobs_number = connect(bob, "2", agent=alices_second)  # bob's number serves alice's second agent

    def backwards(agent):
        routed = route(["1", "2"]).values()
        return next((found.configuration for found in routed if found.agent == agent), None)

    for change in (
        lambda: None,
        lambda: WhatsAppConfiguration.objects.filter(pk=alices_number.pk).update(agent=system),
        lambda: WhatsAppConfiguration.objects.filter(pk=bobs_number.pk).update(is_active=False),
        lambda: WhatsAppConfiguration.objects.filter(pk=alices_number.pk).update(agent=None, phone_number_id=""),
    ):
        change()
        assert [configuration_for_agent(agent) for agent in agents] == [backwards(agent) for agent in agents]
    assert [configuration_for_agent(agent) for agent in agents] == [None, None, None, None]
