"""A seller with a connected WhatsApp number and a customer who wrote a few minutes ago (sending tests)."""

import datetime as dt
from types import SimpleNamespace

import pytest
from django.utils import timezone

from agents import conversations, tables
from whatsapp.configuration import save_configuration

PHONE_NUMBER_ID = "1001"
BUSINESS_ACCOUNT_ID = "2002"


def add_inbound(agent_tables, customer, *, ago=dt.timedelta(minutes=5), text="Hi!", wamid=None):
    message = agent_tables.Message.objects.create(
        customer=customer,
        message=text,
        direction="inbound",
        timestamp=timezone.now() - ago,
        wamid=wamid,
    )
    conversations.note_new_message(agent_tables, message)
    return message


@pytest.fixture
def shop(make_agent, fake_graph):
    agent = make_agent(name="Demo Shop")
    configuration, _ = save_configuration(
        user=agent.user,
        whatsapp_number="+15550100001",
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=BUSINESS_ACCOUNT_ID,
        access_token="shop-access-token",
    )
    agent_tables = tables.for_agent(agent)
    customer = agent_tables.Customer.objects.create(name="Maria Silva", phone="+5511987654321")
    add_inbound(agent_tables, customer, wamid="wamid.from-maria")
    return SimpleNamespace(
        agent=agent,
        tables=agent_tables,
        customer=customer,
        configuration=configuration,
        seller=agent.user,
        Message=agent_tables.Message,
    )
