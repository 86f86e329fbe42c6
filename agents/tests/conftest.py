"""Fixtures of the dashboard tests: a logged-in seller with an agent of their own."""

from dataclasses import dataclass

import pytest
from django.test import Client

from agents import tables


@dataclass
class Seller:
    user: object
    agent: object
    tables: object
    client: Client


@pytest.fixture
def make_seller(make_user, make_agent):
    def make(name="Shop"):
        user = make_user()
        agent = make_agent(user=user, name=name)
        client = Client()
        client.force_login(user)
        return Seller(user=user, agent=agent, tables=tables.for_agent(agent), client=client)

    return make


@pytest.fixture
def seller(make_seller):
    return make_seller()
