"""A connection that has served many agents is closed when the request ends: its backend's catalog
cache, which grows with every agent's tables it touches, is given back."""

import pytest
from django.db import connection


def backend_pid():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_is_closed_after_the_request_in_which_it_reached_the_agent_limit(make_agent, client, settings):
    settings.AGENT_CONNECTION_MAX_AGENTS = 3
    agents = [make_agent() for _ in range(3)]
    connection.close()
    client.force_login(agents[0].user)
    pid = backend_pid()

    for agent in agents[:2]:
        client.force_login(agent.user)
        assert client.get("/").status_code == 200
        assert connection.connection is not None and backend_pid() == pid

    client.force_login(agents[2].user)
    assert client.get("/").status_code == 200

    assert connection.connection is None
    assert backend_pid() != pid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_agents_again_do_not_count_twice(make_agent, client, settings):
    settings.AGENT_CONNECTION_MAX_AGENTS = 2
    agent = make_agent()
    connection.close()
    client.force_login(agent.user)
    pid = backend_pid()

    for _ in range(3):
        assert client.get("/").status_code == 200

    assert connection.connection is not None and backend_pid() == pid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_upgrading_many_agents_recycles_the_connection_and_finishes(make_agent, settings, capsys):
    from django.core.management import call_command

    from agents import provisioning
    from agents.models import Agent

    settings.AGENT_CONNECTION_MAX_AGENTS = 2
    agents = [make_agent() for _ in range(3)]
    for agent in agents:
        provisioning.drop_agent_tables(agent)
        provisioning.provision_agent_tables(agent, version=1)
    Agent.objects.update(table_version=1)
    pid = backend_pid()

    call_command("upgrade_agent_tables")

    assert "3 agent(s) upgraded" in capsys.readouterr().out
    assert backend_pid() != pid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deleting_an_agent_recycles_the_connection_that_checked_every_agents_foreign_key(
    make_agent, admin_user, client
):
    agent = make_agent()
    client.force_login(admin_user)
    pid = backend_pid()

    response = client.post(f"/admin/agents/agent/{agent.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert connection.connection is None and backend_pid() != pid
