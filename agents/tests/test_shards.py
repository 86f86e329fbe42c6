"""Agents spread over two real PostgreSQL databases: an agent on the second one works end to end,
and leaves none of its data on the first."""

import re
import uuid
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connections, transaction

from accounts.models import User
from agents import conversations, provisioning, shards, tables
from agents.models import Agent
from crm import routers

SHARD = "shard2"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(databases=["default", SHARD])]


def sql(database, statement, params=()):
    with connections[database].cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def tables_on(database, prefix):
    """Every relation (tables, sequences, indexes) on `database` whose name starts with the prefix."""
    return {name for (name,) in sql(database, "SELECT relname FROM pg_class WHERE relname LIKE %s", [prefix + "\\_%"])}


def shape(database, agent):
    """Columns and constraint/index names (prefix taken out) of an agent's tables on `database`."""
    connection = connections[database]
    result = {}
    with connection.cursor() as cursor:
        for spec in tables.TABLES:
            table = f"{agent.agent_prefix}_{spec.suffix}"
            columns = sorted((c.name, c.null_ok) for c in connection.introspection.get_table_description(cursor, table))
            names = sorted(
                name.replace(agent.agent_prefix, "P")
                for name in connection.introspection.get_constraints(cursor, table)
            )
            result[spec.suffix] = (columns, len(names))
    return result


def test_an_agent_on_the_second_database_works_end_to_end_and_leaves_nothing_in_the_first(
    make_agent, django_capture_on_commit_callbacks
):
    agent = make_agent(database=SHARD)
    prefix = agent.agent_prefix
    assert Agent.objects.get(pk=agent.pk).database == SHARD

    # Its tables (and their sequences and indexes) are on the shard only.
    assert {f"{prefix}_{spec.suffix}" for spec in tables.TABLES} <= tables_on(SHARD, prefix)
    assert tables_on("default", prefix) == set()

    # Writes and reads through the generated classes go to the shard.
    t = tables.for_agent(agent)
    assert t.database == SHARD
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    with transaction.atomic(using=t.database):
        message = t.Message.objects.create(customer=customer, message="Hello", direction="inbound")
        conversations.note_new_message(t, message)
    order = t.Order.objects.create(customer=customer, total_amount=Decimal("7.50"))
    t.OrderItem.objects.create(order=order, name="Tea", quantity=3, price=Decimal("2.50"))

    customer.refresh_from_db()
    assert customer.unread_count == 1 and customer.messages.get().message == "Hello"
    assert order.items.get().total == Decimal("7.50")
    assert sql(SHARD, f"SELECT agent_id, name FROM {prefix}_customers") == [(agent.id, "Ana")]
    assert conversations.mark_conversation_read(t, customer) is None
    assert provisioning.row_counts(agent) == {
        "customers": 1,
        "messages": 1,
        "orders": 1,
        "orders_items": 1,
        "order_events": 0,
    }
    assert tables_on("default", prefix) == set()

    # Deleting the agent drops its tables from the shard once the row's deletion commits.
    with django_capture_on_commit_callbacks(execute=True):
        provisioning.delete_agent(agent)
    assert not Agent.objects.filter(pk=agent.pk).exists()
    assert tables_on(SHARD, prefix) == set()


def test_upgrading_visits_agents_on_every_database(make_agent, capsys):
    on_default, on_shard = make_agent(), make_agent(database=SHARD)
    fresh_on_shard = make_agent(database=SHARD)
    for agent in (on_default, on_shard):
        provisioning.drop_agent_tables(agent)
        provisioning.provision_agent_tables(agent, version=1)
        Agent.objects.filter(pk=agent.pk).update(table_version=1)
    sql(SHARD, f"INSERT INTO {on_shard.agent_prefix}_customers (name, phone) VALUES ('Kept', '+15550000009')")

    call_command("upgrade_agent_tables")

    out = capsys.readouterr().out
    assert (
        f"{on_default.agent_prefix} (default): applied" in out and f"{on_shard.agent_prefix} ({SHARD}): applied" in out
    )
    on_shard.refresh_from_db()
    assert on_shard.table_version == tables.CURRENT_VERSION
    assert shape(SHARD, on_shard) == shape(SHARD, fresh_on_shard)
    assert tables.for_agent(on_shard).Customer.objects.get().name == "Kept"


def test_a_step_the_shard_committed_but_default_never_recorded_is_recorded_not_reapplied(make_agent):
    agent = make_agent(database=SHARD)
    # What a failed commit on `default` after the shard's commit leaves: new columns, old number.
    Agent.objects.filter(pk=agent.pk).update(table_version=1)
    agent.refresh_from_db()

    assert provisioning.upgrade_agent_tables(agent) == list(range(2, tables.CURRENT_VERSION + 1))
    assert Agent.objects.get(pk=agent.pk).table_version == tables.CURRENT_VERSION


def test_customers_on_a_shard_are_pinned_to_their_agent(make_agent):
    agent = make_agent(database=SHARD)
    customers = f"{agent.agent_prefix}_customers"
    sql(SHARD, f"INSERT INTO {customers} (name, phone) VALUES ('Ana', '+15550000001')")
    assert sql(SHARD, f"SELECT agent_id FROM {customers}") == [(agent.id,)]
    with pytest.raises(IntegrityError), transaction.atomic(using=SHARD):
        sql(SHARD, f"INSERT INTO {customers} (agent_id, name, phone) VALUES (%s, 'Bo', '+15550000002')", [agent.id + 1])


def test_new_agents_go_to_the_least_loaded_database(make_agent, settings):
    settings.NEW_AGENT_DATABASES = ["default", SHARD]
    make_agent(database="default")
    make_agent(database="default")

    placed = [make_agent(database=None).database for _ in range(3)]

    assert placed == [SHARD, SHARD, "default"]  # 2-0, 2-1, then a tie goes to the first listed
    assert shards.agent_counts() == {"default": 3, SHARD: 2}


def test_a_database_outside_the_shard_map_is_refused(make_user, make_agent):
    created_by = make_user()
    with pytest.raises(routers.UnknownAgentDatabase, match="'elsewhere' is not in the shard map"):
        provisioning.create_agent(created_by=created_by, database="elsewhere")
    assert not Agent.objects.exists()

    agent = make_agent()
    agent.database = "elsewhere"
    tables.cache.clear()
    with pytest.raises(routers.UnknownAgentDatabase):
        tables.for_agent(agent)


def test_classes_follow_an_agent_whose_database_changed(make_agent):
    agent = make_agent(database=SHARD)
    assert tables.for_agent(agent).database == SHARD
    agent.database = "default"
    assert tables.for_agent(agent).database == "default"


def test_a_failure_on_the_shard_leaves_no_agent_row(make_user):
    created_by = make_user()
    doomed = sql("default", "SELECT nextval(pg_get_serial_sequence('agents', 'id'))")[0][0] + 1
    sql(SHARD, f"CREATE TABLE agt_{doomed}_orders_items (id integer)")

    with pytest.raises(Exception, match="already exists"):
        provisioning.create_agent(created_by=created_by, database=SHARD)

    assert not Agent.objects.exists()
    assert tables_on(SHARD, f"agt_{doomed}") == {f"agt_{doomed}_orders_items"}


def test_core_tables_are_migrated_on_default_only():
    router = routers.AgentTablesRouter()
    assert router.allow_migrate("default", "accounts") is None
    assert router.allow_migrate(SHARD, "accounts") is False
    assert router.allow_migrate(SHARD, tables.APP_LABEL) is False
    assert tables_on(SHARD, "users") == set() and sql(SHARD, "SELECT to_regclass('agents')") == [(None,)]


@pytest.mark.django_db(databases=["default", SHARD], transaction=True)
def test_a_failure_after_the_shard_committed_leaves_nothing_behind():
    # A creator whose row does not exist: `default` refuses the agent only at COMMIT (the foreign key
    # is deferred), after the shard has committed the tables.
    ghost = User(id=uuid.uuid4(), email="ghost@example.com", name="Ghost")
    next_id = sql("default", "SELECT nextval(pg_get_serial_sequence('agents', 'id'))")[0][0] + 1

    with pytest.raises(IntegrityError):
        provisioning.create_agent(created_by=ghost, database=SHARD)

    assert not Agent.objects.exists()
    assert tables_on(SHARD, f"agt_{next_id}") == set()


@pytest.mark.django_db(databases=["default", SHARD], transaction=True)
def test_check_agent_tables_reports_and_drops_orphans_and_spares_live_agents(make_agent, capsys):
    live = make_agent(database=SHARD)
    orphan = Agent(
        id=live.id + 1000, agent_prefix=f"agt_{live.id + 1000}", database=SHARD, created_by_id=live.created_by_id
    )
    provisioning.provision_agent_tables(orphan)  # tables whose row never committed

    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_agent_tables")
    out = capsys.readouterr().out
    assert f"{SHARD}: orphan tables {orphan.agent_prefix}" in out
    assert not re.search(rf"\b{live.agent_prefix}\b", out)

    call_command("check_agent_tables", drop_orphans=True)
    assert f"dropped the orphan tables of {orphan.agent_prefix}" in capsys.readouterr().out
    assert tables_on(SHARD, orphan.agent_prefix) == set()
    assert len(provisioning.existing_tables([live])[live.id]) == len(tables.TABLES)

    call_command("check_agent_tables")
    assert "every agent has its tables; no orphan tables" in capsys.readouterr().out


def test_an_admin_can_place_a_new_agent_on_a_chosen_database(client, admin_user, make_user):
    from django.urls import reverse

    seller = make_user()
    client.force_login(admin_user)
    form = client.get(reverse("admin:agents_agent_add")).content.decode()
    assert f'<option value="{SHARD}">{SHARD} (0 agents)</option>' in form

    response = client.post(reverse("admin:agents_agent_add"), {"name": "Shop", "user": seller.pk, "placement": SHARD})

    assert response.status_code == 302
    agent = Agent.objects.get(user=seller)
    assert agent.database == SHARD and tables_on(SHARD, agent.agent_prefix)


def test_the_create_agent_command_takes_a_database(make_user, capsys):
    admin = make_user()
    call_command("create_agent", created_by=admin.email, database=SHARD)
    agent = Agent.objects.get()
    assert agent.database == SHARD and f"on database {SHARD}" in capsys.readouterr().out

    with pytest.raises(CommandError, match="--database: database 'nowhere' is not in the shard map"):
        call_command("create_agent", created_by=admin.email, database="nowhere")
