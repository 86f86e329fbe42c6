"""Fixtures for the intake tests: an agent that receives PHONE_NUMBER_ID's messages."""

import pytest

from agents import tables
from whatsapp.configuration import save_configuration

from .payloads import PHONE_NUMBER_ID


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
