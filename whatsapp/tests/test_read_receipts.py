"""Read receipts: opening a conversation marks it read here and tells Meta, in the background, best effort."""

import datetime as dt

from agents.provisioning import create_agent
from crm.tests.fixtures import PHONE_NUMBER_ID, add_inbound
from whatsapp import delivery, send
from whatsapp.configuration import agent_for_configuration, configuration_for_agent, save_configuration


def test_opening_a_conversation_marks_it_read_and_tells_meta_the_newest_message(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    add_inbound(connected_shop.tables, maria, ago=dt.timedelta(minutes=1), wamid="wamid.newest")

    with django_capture_on_commit_callbacks(execute=True):
        assert send.read_conversation(connected_shop.agent, maria) == "wamid.newest"

    assert not connected_shop.tables.Message.objects.unread().exists()
    maria.refresh_from_db()
    assert maria.unread_count == 0
    assert fake_graph.read_receipts == [
        {"phone_number_id": PHONE_NUMBER_ID, "message_id": "wamid.newest", "typing_indicator": {"type": "text"}}
    ]
    assert fake_graph.calls("/messages")[0].authorization == "Bearer shop-access-token"


def test_a_conversation_already_read_sends_no_receipt(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send.read_conversation(connected_shop.agent, maria)
        assert send.read_conversation(connected_shop.agent, maria) is None

    assert len(fake_graph.read_receipts) == 1


def test_a_receipt_meta_refuses_is_given_up_quietly(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    fake_graph.fail_next(10, "500")

    with django_capture_on_commit_callbacks(execute=True):
        assert send.read_conversation(connected_shop.agent, maria) == "wamid.from-maria"

    assert not connected_shop.tables.Message.objects.unread().exists()
    assert fake_graph.read_receipts == []
    assert delivery.deliver_read_receipt(connected_shop.agent.id, "wamid.from-maria") == "failed"


def test_no_receipt_without_a_number_or_an_agent(connected_shop, maria, fake_graph):
    assert delivery.deliver_read_receipt(999_999, "wamid.x") == "no configuration"
    connected_shop.configuration.delete()
    assert delivery.deliver_read_receipt(connected_shop.agent.id, "wamid.x") == "no configuration"
    send.send_read_receipt(connected_shop.agent, None)
    assert fake_graph.requests == []


def test_a_configuration_serves_the_agent_it_names_or_its_users_oldest(agent_a, second_agent_of_a):
    seller, oldest, second = agent_a.user, agent_a, second_agent_of_a
    configuration, _ = save_configuration(
        user=seller, whatsapp_number="+15550100001", phone_number_id="1", access_token="t"
    )

    assert agent_for_configuration(configuration) == oldest
    assert configuration_for_agent(oldest) == configuration
    assert configuration_for_agent(second) is None

    configuration.agent = second
    configuration.save()
    assert agent_for_configuration(configuration) == second
    assert configuration_for_agent(second) == configuration
    assert configuration_for_agent(oldest) is None

    configuration.is_active = False
    configuration.save()
    assert configuration_for_agent(second) is None
    assert configuration_for_agent(create_agent(created_by=seller, user=None)) is None  # a system agent
