"""Agent tables carry a version; upgrading adds each later version's columns in place, keeping data."""

import re

import pytest
from django.core.management import call_command
from django.db import connection

from agents import provisioning, tables
from agents.models import Agent


def shape(agent):
    """Columns, and index names with the prefix taken out, of an agent's tables."""
    introspection = connection.introspection
    result = {}
    with connection.cursor() as cursor:
        for spec in [spec for spec in tables.TABLES if spec.since <= agent.table_version]:
            table = f"{agent.agent_prefix}_{spec.suffix}"
            columns = sorted(
                (column.name, column.null_ok) for column in introspection.get_table_description(cursor, table)
            )
            constraints = introspection.get_constraints(cursor, table)
            # Django names some indexes with a hash of the table name: compare without it.
            names = sorted(
                re.sub(r"_[0-9a-f]{8}(?=_|$)", "_HASH", name.replace(agent.agent_prefix, "P"))
                for name, info in constraints.items()
                if info["index"] or info["unique"] or info["check"]
            )
            result[spec.suffix] = (columns, names if connection.vendor == "postgresql" else len(names))
    return result


def make_version_one_agent(make_agent):
    """An agent whose tables hold only the contract's columns, with a customer in them."""
    agent = make_agent()
    provisioning.drop_agent_tables(agent)
    provisioning.provision_agent_tables(agent, version=1)
    Agent.objects.filter(pk=agent.pk).update(table_version=1)
    agent.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {agent.agent_prefix}_customers (name, phone) VALUES ('Kept', '+15550000009')")
    return agent


def test_upgrading_old_tables_gives_the_shape_of_fresh_ones_and_keeps_data(make_agent):
    old = make_version_one_agent(make_agent)
    fresh = make_agent()
    assert "wamid" not in {c for c, _ in shape(old)["messages"][0]}

    applied = provisioning.upgrade_agent_tables(old)

    assert applied == list(range(2, tables.CURRENT_VERSION + 1))
    old.refresh_from_db()
    assert old.table_version == tables.CURRENT_VERSION
    assert shape(old) == shape(fresh)
    assert tables.for_agent(old).Customer.objects.get().name == "Kept"


def test_upgrading_is_idempotent(make_agent):
    agent = make_agent()
    assert provisioning.upgrade_agent_tables(agent) == []
    assert provisioning.upgrade_agent_tables(agent) == []


def test_the_upgrade_command_visits_every_stale_agent(make_agent, capsys):
    old = make_version_one_agent(make_agent)
    current = make_agent()

    call_command("upgrade_agent_tables")
    out = capsys.readouterr().out
    assert f"{old.agent_prefix} (default): applied version(s)" in out
    assert current.agent_prefix not in out
    assert "1 agent(s) upgraded" in out

    call_command("upgrade_agent_tables")
    assert "0 agent(s) upgraded" in capsys.readouterr().out


@pytest.mark.postgres
def test_upgraded_tables_keep_the_contract(make_agent):
    old = make_version_one_agent(make_agent)
    provisioning.upgrade_agent_tables(old)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {old.agent_prefix}_customers (name, phone) VALUES ('New', '+15550000010') RETURNING agent_id"
        )
        assert cursor.fetchone()[0] == old.id


def test_a_later_version_can_add_a_whole_table(make_agent, monkeypatch):
    from django.db import models as dj_models

    agent = make_agent()
    next_version = tables.CURRENT_VERSION + 1

    class NoteBase(dj_models.Model):
        class Meta:
            abstract = True

    note_spec = tables.TableSpec(
        "Note",
        "notes",
        NoteBase,
        lambda agent_id, prefix: [
            (next_version, "id", dj_models.AutoField(primary_key=True)),
            (next_version, "text", dj_models.TextField()),
        ],
        lambda prefix: [],
        since=next_version,
    )
    monkeypatch.setattr(tables, "TABLES", tables.TABLES + (note_spec,))
    monkeypatch.setattr(tables, "CURRENT_VERSION", next_version)

    assert provisioning.upgrade_agent_tables(agent) == [next_version]
    assert f"{agent.agent_prefix}_notes" in provisioning.existing_tables([agent])[agent.id]
    tables.for_agent(agent).Note.objects.create(text="kept")
    provisioning.drop_agent_tables(agent)
    assert provisioning.existing_tables([agent])[agent.id] == set()
