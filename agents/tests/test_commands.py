"""The commands ops and tests script: clear errors and a non-zero exit on bad input."""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from agents import provisioning, tables
from agents.models import Agent


def test_create_agent_prints_the_new_prefix_last(make_user, admin_user, capsys):
    seller = make_user()
    call_command("create_agent", user=seller.email, created_by=admin_user.email, name="Shop")
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    agent = Agent.objects.get(user=seller)
    assert last_line == agent.agent_prefix == f"agt_{agent.pk}"
    assert agent.created_by == admin_user and agent.name == "Shop"
    assert len(provisioning.existing_tables([agent])[agent.pk]) == len(tables.TABLES)


def test_create_agent_without_a_user_makes_a_system_agent(admin_user, capsys):
    call_command("create_agent", created_by=admin_user.email)
    agent = Agent.objects.get()
    assert agent.user is None and capsys.readouterr().out.strip().endswith(agent.agent_prefix)


@pytest.mark.parametrize("option", ["user", "created_by"])
def test_create_agent_refuses_an_unknown_email(make_user, option):
    known = make_user().email
    options = {"user": known, "created_by": known, option: "nobody@example.com"}
    with pytest.raises(CommandError, match="no user with email 'nobody@example.com'"):
        call_command("create_agent", **options)
    assert not Agent.objects.exists()


def test_a_command_with_bad_input_exits_non_zero_with_a_message(tmp_path):
    env = {
        "DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], env=env, check=True)
    result = subprocess.run(
        [sys.executable, "manage.py", "create_agent", "--created-by", "nobody@example.com"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "no user with email 'nobody@example.com'" in result.stderr
