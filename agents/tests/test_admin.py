"""Admins create agents (with their tables) and see each agent's tables from the admin."""

from django.urls import reverse

from agents import provisioning, tables
from agents.models import Agent


def test_adding_an_agent_in_the_admin_provisions_its_tables(client, admin_user, make_user):
    seller = make_user()
    client.force_login(admin_user)
    response = client.post(reverse("admin:agents_agent_add"), {"name": "Rosa's Bakery", "user": seller.pk})

    assert response.status_code == 302
    agent = Agent.objects.get(user=seller)
    assert agent.agent_prefix == f"agt_{agent.pk}"
    assert agent.created_by == admin_user and agent.table_version == tables.CURRENT_VERSION
    assert len(provisioning.existing_tables([agent])[agent.pk]) == len(tables.TABLES)


def test_the_agent_list_shows_owner_table_status_and_row_counts(client, admin_user, make_agent):
    agent = make_agent(name="Rosa's Bakery")
    t = tables.for_agent(agent)
    t.Customer.objects.create(name="Ana", phone="+15550000001")
    client.force_login(admin_user)

    page = client.get(reverse("admin:agents_agent_changelist")).content.decode()

    assert agent.agent_prefix in page and agent.user.email in page
    assert f"ok (version {tables.CURRENT_VERSION})" in page
    assert "customers: 1, messages: 0, orders: 0, orders items: 0, order events: 0" in page


def test_the_agent_list_reports_missing_tables(client, admin_user, make_agent):
    agent = make_agent()
    provisioning.drop_agent_tables(agent)
    client.force_login(admin_user)
    assert f"0 of {len(tables.TABLES)} present" in client.get(reverse("admin:agents_agent_changelist")).content.decode()


def test_deleting_an_agent_in_the_admin_asks_first_then_drops_its_tables(client, admin_user, make_agent):
    agent = make_agent()
    client.force_login(admin_user)
    url = reverse("admin:agents_agent_delete", args=[agent.pk])

    confirmation = client.get(url).content.decode()
    assert "Are you sure" in confirmation and "tables" in confirmation
    assert len(provisioning.existing_tables([agent])[agent.pk]) == len(tables.TABLES)

    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert provisioning.existing_tables([agent])[agent.pk] == set()


def test_an_agent_user_cannot_reach_the_agent_admin(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    response = client.get(reverse("admin:agents_agent_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response.url
