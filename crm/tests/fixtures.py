"""Who the tests work as: the fixtures every app's tests share (the root conftest.py loads this module).

The permission matrix: `agent_a`, the agent the tests work as; `second_agent_of_a`, another agent of the same
user; `agent_b`, an agent of another user; `admin_user` and `super_admin`. At work: `seller` is agent A's user
with a test client logged in (working as agent A), `seller_b` the same for agent B. `connected_shop` is the
seller with agent A's WhatsApp number on the fake Graph API, `maria` a customer of agent A who wrote five
minutes ago, and `live_shop` the connected shop on a live server, for Chromium and other processes.
"""

import datetime as dt
from dataclasses import dataclass

import pytest

PASSWORD = "correct-horse-battery"  # every test user's, unless a test gives another

# Agent A's WhatsApp number once connected (`connected_shop`, `live_shop`).
WHATSAPP_NUMBER = "+15550100001"
PHONE_NUMBER_ID = "1001"
BUSINESS_ACCOUNT_ID = "2002"
ACCESS_TOKEN = "shop-access-token"


@pytest.fixture
def make_user(db):
    from accounts.models import Role, User

    counter = iter(range(1, 10_000))

    def make(role=Role.AGENT, email=None, name=None, password=PASSWORD):
        n = next(counter)
        return User.objects.create_user(
            email=email or f"{role}{n}@example.com", name=name or f"{role.title()} {n}", password=password, role=role
        )

    return make


@pytest.fixture
def make_agent(make_user, request):
    from accounts.models import Role
    from agents.models import Agent
    from agents.provisioning import create_agent

    created = []

    def make(user=None, name="", created_by=None, database="default"):
        """An agent with its tables; `database="shard2"` puts them on the test shard (PostgreSQL only)."""
        user = user or make_user()
        agent = create_agent(
            created_by=created_by or make_user(role=Role.ADMIN), user=user, name=name, database=database
        )
        created.append(agent.pk)
        return agent

    yield make
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        # A transactional test commits: its agents' tables would outlive the flush (and their foreign
        # keys stop it from truncating `agents`), so delete the agents, which drops their tables.
        for agent in Agent.objects.filter(pk__in=created):
            agent.delete()


# The permission matrix ---------------------------------------------------------------------------------


@pytest.fixture
def agent_a(make_agent):
    """Agent A, of a user of its own: the agent the tests work as."""
    return make_agent(name="Shop A")


@pytest.fixture
def second_agent_of_a(agent_a, make_agent):
    """A second agent of agent A's user, younger than agent A."""
    return make_agent(user=agent_a.user, name="Shop A2")


@pytest.fixture
def agent_b(make_agent):
    """Agent B, of another user: what agent A must never reach."""
    return make_agent(name="Shop B")


@pytest.fixture
def admin_user(make_user):
    from accounts.models import Role

    return make_user(role=Role.ADMIN)


@pytest.fixture
def super_admin(make_user):
    from accounts.models import Role

    return make_user(role=Role.SUPER_ADMIN)


# At work -----------------------------------------------------------------------------------------------


@dataclass
class Seller:
    """An agent's user at work: `client` is logged in as `user` and works as `agent`, whose tables are
    `tables`; `configuration` is the agent's WhatsApp number once connected."""

    user: object
    agent: object
    tables: object
    client: object
    configuration: object = None


def _at_work(agent, client):
    from agents import tables

    client.force_login(agent.user)
    return Seller(user=agent.user, agent=agent, tables=tables.for_agent(agent), client=client)


@pytest.fixture
def seller(agent_a, client):
    """Agent A's user logged in, working as agent A (the user's first agent). Its client is pytest-django's
    `client`: in a test with a seller, `client` is logged in too."""
    return _at_work(agent_a, client)


@pytest.fixture
def seller_b(agent_b):
    """Agent B's user logged in on a client of their own, working as agent B."""
    from django.test import Client

    return _at_work(agent_b, Client())


@pytest.fixture
def connected_shop(seller, fake_graph):
    """The seller, with agent A's WhatsApp number (WHATSAPP_NUMBER, PHONE_NUMBER_ID) on the fake Graph API."""
    from whatsapp.configuration import save_configuration

    seller.configuration, _ = save_configuration(
        user=seller.user,
        whatsapp_number=WHATSAPP_NUMBER,
        phone_number_id=PHONE_NUMBER_ID,
        business_account_id=BUSINESS_ACCOUNT_ID,
        access_token=ACCESS_TOKEN,
    )
    return seller


def add_inbound(agent_tables, customer, *, ago=dt.timedelta(minutes=5), text="Hi!", wamid=None):
    """A message from `customer`, `ago` ago, stored as intake stores it."""
    from django.utils import timezone

    from agents import conversations

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
def maria(agent_a):
    """Maria Silva, a customer of agent A who wrote "Hi!" five minutes ago: the 24-hour window is open."""
    from agents import tables

    agent_tables = tables.for_agent(agent_a)
    customer = agent_tables.Customer.objects.create(name="Maria Silva", phone="+5511987654321")
    add_inbound(agent_tables, customer, wamid="wamid.from-maria")
    return customer


MARIA_WA_ID = "5511987654321"  # Maria Silva's number as Meta writes it


@pytest.fixture
def deliver_from_maria(client, django_capture_on_commit_callbacks):
    """Post messages from Maria's phone to agent A's number, signed as Meta signs them, and run what they
    commit (the sends)."""
    from whatsapp.tests.payloads import contact, notification, post, value

    def post_from_maria(*messages):
        body = notification(
            value(messages, contacts=[contact(wa_id=MARIA_WA_ID, name="Maria Silva")], phone_number_id=PHONE_NUMBER_ID)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, body).status_code == 200

    return post_from_maria


BROADCAST_TEMPLATE = {
    "name": "new_stock",
    "language": "en",
    "status": "APPROVED",
    "category": "MARKETING",
    "parameter_format": "POSITIONAL",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, new linen is in: {{2}}", "example": {"body_text": [["Ana", "20% off"]]}}
    ],
}


@pytest.fixture
def broadcast_shop(connected_shop, fake_graph):
    """The connected shop with an approved marketing template, on the fake Graph API, sending fast."""
    from django.utils import timezone

    from outreach.models import OutreachSettings
    from whatsapp.models import MessageTemplate

    fake_graph.register_phone_number(PHONE_NUMBER_ID, business_account_id=BUSINESS_ACCOUNT_ID)
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [{"id": "91", **BROADCAST_TEMPLATE}])
    connected_shop.template = MessageTemplate.objects.create(
        configuration=connected_shop.configuration, meta_id="91", synced_at=timezone.now(), **BROADCAST_TEMPLATE
    )
    OutreachSettings.objects.create(agent=connected_shop.agent, messages_per_second=1000, daily_limit=100_000)
    return connected_shop


@pytest.fixture
def live_shop(committed_db, live_server, connected_shop, fake_graph, settings):
    """The connected shop on a live server, its rows committed: the fake Graph API posts the number's
    webhooks to the live server. The customer sandbox is on and the dashboard polls every second."""
    from django.urls import reverse

    settings.DASHBOARD_POLL_SECONDS = 1
    settings.WHATSAPP_SANDBOX = True
    fake_graph.register_phone_number(
        PHONE_NUMBER_ID,
        display_phone_number=WHATSAPP_NUMBER,
        business_account_id=BUSINESS_ACCOUNT_ID,
        webhook_url=live_server.url + reverse("whatsapp_webhook"),
    )
    yield connected_shop
    fake_graph.wait_for_webhooks(timeout=5)


WEB_ROLE = "crm_web_probe"


@pytest.fixture
def web_role(committed_db):
    """The name of an ordinary login role that owns nothing and has what `grant_web_role` gives the web
    processes: how production's web processes should connect (docs/security.md). Skipped where this
    login may not create roles."""
    import io

    import psycopg
    from django.core.management import call_command
    from django.db import connection

    settings_dict = connection.settings_dict
    server = {k: v for k, v in {"host": settings_dict["HOST"], "port": settings_dict["PORT"]}.items() if v}
    with psycopg.connect(**server, user=settings_dict["USER"], dbname="postgres", autocommit=True) as admin:
        if not admin.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]:
            pytest.skip("creating a login role for the web needs a superuser login")
        if not admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [WEB_ROLE]).fetchone():
            admin.execute(f"CREATE ROLE {WEB_ROLE} LOGIN")
    call_command("grant_web_role", WEB_ROLE, database=["default"], stdout=io.StringIO())
    return WEB_ROLE
