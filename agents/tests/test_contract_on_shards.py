"""The data contract holds on every database of the shard map: an agent whose tables live on the second
database (placed there, or moved there) passes the contract checker and the seed's query patterns, run
against that database as a plain SQL client would."""

import re
import subprocess
import sys

import pytest
from django.db import connections

from agents import moving
from agents.models import Agent
from agents.tests.test_schema_sql import CONTRACT_CHECK

SHARD = "shard2"
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", SHARD]),
    pytest.mark.skipif(not CONTRACT_CHECK.exists(), reason=f"the contract checker is not at {CONTRACT_CHECK}"),
]


def dsn(alias):
    settings = connections[alias].settings_dict
    user = settings["USER"] or "postgres"
    return f"postgres://{user}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"


def contract_check(alias, agent):
    return subprocess.run(
        [sys.executable, CONTRACT_CHECK, dsn(alias), str(agent.pk)], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("how", ["placed", "moved"])
def test_an_agent_on_the_second_database_passes_the_contract_check(make_agent, how):
    agent = make_agent(database=SHARD) if how == "placed" else make_agent()
    if how == "moved":
        moving.move_agent(moving.start_move(agent, SHARD))
    assert Agent.objects.get(pk=agent.pk).database == SHARD

    checked = contract_check(SHARD, agent)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"contract: ([0-9]+)/\1 checks hold", checked.stdout)


def test_the_second_databases_copy_of_the_core_tables_follows_its_agents(make_agent):
    on_shard = make_agent(database=SHARD)
    moved_away = make_agent(database=SHARD)
    moving.move_agent(moving.start_move(moved_away, "default"))

    with connections[SHARD].cursor() as cursor:
        cursor.execute(
            "SELECT id, agent_prefix, database FROM agents WHERE id IN (%s, %s) ORDER BY id",
            [on_shard.pk, moved_away.pk],
        )
        assert cursor.fetchall() == [(on_shard.pk, on_shard.agent_prefix, SHARD)]
        cursor.execute("SELECT count(*) FROM users WHERE id = %s", [on_shard.user_id])
        assert cursor.fetchone() == (1,)
