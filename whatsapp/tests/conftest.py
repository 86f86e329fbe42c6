"""Fixtures for the whatsapp tests: an agent that receives PHONE_NUMBER_ID's messages (intake), and a
seller with a connected number and a customer who wrote a few minutes ago (`shop`, sending)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from agents import conversations, tables
from whatsapp.configuration import save_configuration

from .payloads import PHONE_NUMBER_ID

SHOP_PHONE_NUMBER_ID = "1001"
SHOP_BUSINESS_ACCOUNT_ID = "2002"


@pytest.fixture
def connect_number(make_agent):
    """Give an agent (new unless given) an active configuration for a phone number id."""

    def connect(phone_number_id=PHONE_NUMBER_ID, agent=None, whatsapp_number="+15550783881"):
        agent = agent or make_agent()
        save_configuration(
            user=agent.user,
            whatsapp_number=whatsapp_number,
            phone_number_id=phone_number_id,
            access_token="test-access-token",
        )
        return agent

    return connect


@pytest.fixture
def agent(connect_number):
    return connect_number()


@pytest.fixture
def t(agent):
    """The receiving agent's tables."""
    return tables.for_agent(agent)


@pytest.fixture
def committed_agent(transactional_db, connect_number):
    """A receiving agent whose rows are really committed (for tests with several connections).

    Its tables are dropped afterwards: the flush that empties a transactional test database cannot
    truncate `agents` while agent tables still refer to it.
    """
    from agents.models import Agent
    from agents.provisioning import drop_agent_tables

    yield connect_number()
    for agent in Agent.objects.all():
        drop_agent_tables(agent)


def add_inbound(agent_tables, customer, *, ago=dt.timedelta(minutes=5), text="Hi!", wamid=None):
    message = agent_tables.Message.objects.create(
        customer=customer, message=text, direction="inbound", timestamp=timezone.now() - ago, wamid=wamid,
    )
    conversations.note_new_message(agent_tables, message)
    return message


@pytest.fixture
def shop(make_agent, fake_graph):
    agent = make_agent(name="Demo Shop")
    configuration, _ = save_configuration(
        user=agent.user, whatsapp_number="+15550100001", phone_number_id=SHOP_PHONE_NUMBER_ID,
        business_account_id=SHOP_BUSINESS_ACCOUNT_ID, access_token="shop-access-token",
    )
    agent_tables = tables.for_agent(agent)
    customer = agent_tables.Customer.objects.create(name="Maria Silva", phone="+5511987654321")
    add_inbound(agent_tables, customer, wamid="wamid.from-maria")
    return SimpleNamespace(
        agent=agent, tables=agent_tables, customer=customer, configuration=configuration, seller=agent.user,
        Message=agent_tables.Message,
    )
