"""A database built by hand from the contract (agents/tests/contract/*.sql, not by this app) is taken
over by one command, then used through the ORM and the dashboard."""

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from agents import tables
from crm.tests.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = Path(__file__).resolve().parent / "contract"

# Runs inside the adopted database's app: log in, read the dashboard, write through the ORM.
USE_THE_ADOPTED_DATABASE = """
import json
from django.test import Client
from accounts.models import User
from agents import conversations, tables
from agents.models import Agent
from whatsapp.models import WhatsAppConfiguration

seller = User.objects.get(email="sam@shop.example")
seller.set_password("adopted-password-123")
seller.save()
client = Client()
logged_in = client.post(
    "/accounts/login/", {"username": "Sam@Shop.example", "password": "adopted-password-123"}, secure=True
).status_code == 302
page = client.get("/", secure=True).content.decode()

agent = Agent.objects.get(agent_prefix="agt_3784")
t = tables.for_agent(agent)
maria = t.Customer.objects.get(phone="+5511987654321")
message = t.Message.objects.create(customer=maria, message="Still there?", direction="inbound")
conversations.note_new_message(t, message)
maria.refresh_from_db()
new_customer = t.Customer.objects.create(name="New", phone="+15550000099")
item = t.OrderItem.objects.create(order=t.Order.objects.get(), name="Product C", quantity=3, price=2)
item.refresh_from_db()
print(json.dumps({
    "logged_in": logged_in,
    "page": page,
    "admin": User.objects.get(email="ada@shop.example").role,
    "messages": list(t.Message.objects.order_by("id").values_list("message", "media_type")),
    "unread": maria.unread_count,
    "new_customer_agent_id": t.Customer.objects.filter(pk=new_customer.pk).values_list("agent_id", flat=True)[0],
    "item_total": str(item.total),
    "token": WhatsAppConfiguration.objects.get(user=seller).access_token(),
    "other_agent_customers": list(tables.for_agent(Agent.objects.get(agent_prefix="agt_3785")).Customer.objects.values_list("name", flat=True)),
    "versions": sorted(set(Agent.objects.values_list("table_version", flat=True))),
}))
"""


@pytest.fixture
def contract_database():
    """A new, empty database beside the test database, dropped afterwards."""
    settings = connection.settings_dict
    name = f"{settings['NAME']}_adopt"
    server = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    )
    server.execute(f'DROP DATABASE IF EXISTS "{name}"')
    server.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
    yield url
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.close()


def manage(url, *arguments):
    env = child_env(DEBUG="true", DATABASE_URL=url, ALLOWED_HOSTS="testserver")
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True)


@pytest.mark.postgres
@pytest.mark.parametrize("seed", ["seed_enums.sql", "seed_varchar.sql"])
def test_a_contract_database_is_adopted_and_then_works_through_the_orm_and_the_dashboard(contract_database, seed):
    with psycopg.connect(contract_database, autocommit=True) as seeding:
        seeding.execute((CONTRACT / seed).read_text())

    adopted = manage(contract_database, "adopt_database")

    assert adopted.returncode == 0, adopted.stderr
    assert "agt_3784: tables adopted at version 1" in adopted.stdout
    assert "whatsapp_configuration: encrypted 1 access token(s)" in adopted.stdout
    if seed == "seed_enums.sql":
        again = manage(contract_database, "adopt_database")  # nothing left to do, and no harm done
        assert again.returncode == 0 and "added column" not in again.stdout and "agt_" not in again.stdout

    used = manage(contract_database, "shell", "-c", USE_THE_ADOPTED_DATABASE)
    assert used.returncode == 0, used.stderr
    result = json.loads(used.stdout.strip().splitlines()[-1])
    assert result["logged_in"] is True
    # The dashboard counts the seed's rows: one conversation with unread messages, 1 open order.
    figures = {
        label: int(value)
        for value, label in re.findall(
            r'<span class="value">([0-9]+)</span>\s*<span class="label">([^<]+)</span>', result["page"]
        )
    }
    assert figures["Unread conversation"] == 1 and figures["Open order"] == 1
    assert result["admin"] == "super_admin"
    assert result["messages"][2] == ["Here is the one I want", "image"]
    assert result["messages"][-1] == ["Still there?", "none"]
    assert result["unread"] == 3  # the seed's two unread messages, counted on adoption, plus the new one
    assert result["new_customer_agent_id"] == 3784
    assert Decimal(result["item_total"]) == 6  # quantity x price, filled by the trigger adoption added
    assert result["token"] == "EAAG-plain-access-token-0001"
    assert result["other_agent_customers"] == ["Aisha Bello"]
    assert result["versions"] == [tables.CURRENT_VERSION]

    with psycopg.connect(contract_database) as adopted_database:
        tokens = adopted_database.execute("SELECT api_key FROM whatsapp_configuration").fetchall()
    assert tokens[0][0].startswith("fernet:")


@pytest.mark.postgres
def test_a_database_without_the_contract_tables_is_refused_and_left_alone(contract_database):
    with psycopg.connect(contract_database, autocommit=True) as seeding:
        seeding.execute("CREATE TABLE users (id uuid PRIMARY KEY, name varchar NOT NULL)")

    result = manage(contract_database, "adopt_database")

    assert result.returncode != 0
    assert "not a contract database: table(s) agents, whatsapp_configuration missing" in result.stderr
    with psycopg.connect(contract_database) as untouched:
        columns = untouched.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY 1"
        ).fetchall()
    assert columns == [("id",), ("name",)]
