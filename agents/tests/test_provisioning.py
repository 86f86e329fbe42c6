"""Provisioning gives every agent the contract's four tables, and takes them away with the agent."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from agents import provisioning, tables
from agents.models import Agent

TS = "timestamp without time zone"

# The contract, column by column: (data type, nullable, default must contain).
CONTRACT = {
    "customers": {
        "id": ("integer", "NO", "nextval('{p}_customers_id_seq'"),
        "agent_id": ("bigint", "NO", "{id}"),
        "name": ("text", "NO", None),
        "phone": ("text", "NO", None),
        "profile_image_url": ("text", "YES", None),
        "created_at": (TS, None, "CURRENT_TIMESTAMP"),
    },
    "messages": {
        "id": ("integer", "NO", "nextval('{p}_messages_id_seq'"),
        "customer_id": ("integer", "NO", None),
        "message": ("text", "NO", None),
        "direction": ("character varying", "NO", None),
        "timestamp": (TS, None, "CURRENT_TIMESTAMP"),
        "is_read": ("boolean", None, "false"),
        "media_type": ("character varying", None, "'none'"),
        "media_url": ("text", "YES", None),
        "caption": ("text", "YES", None),
    },
    "orders": {
        "id": ("integer", "NO", "nextval('{p}_orders_id_seq'"),
        "customer_id": ("integer", "NO", None),
        "total_amount": ("numeric", None, "0"),
        "status": ("character varying", None, "'pending'"),
        "notes": ("text", "YES", None),
        "shipping_address": ("text", "YES", None),
        "created_at": (TS, None, "CURRENT_TIMESTAMP"),
        "updated_at": (TS, None, "CURRENT_TIMESTAMP"),
    },
    "orders_items": {
        "id": ("integer", "NO", "nextval('{p}_orders_items_id_seq'"),
        "order_id": ("integer", "NO", None),
        "name": ("text", "NO", None),
        "quantity": ("integer", "NO", "1"),
        "price": ("numeric", "NO", "0"),
        "total": ("numeric", None, None),
        "created_at": (TS, None, "CURRENT_TIMESTAMP"),
    },
}


def catalog_columns(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = %s",
            [table],
        )
        return {name: (data_type, nullable, default) for name, data_type, nullable, default in cursor.fetchall()}


def catalog_constraints(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE t.relname = %s",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def catalog_indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def next_agent_id():
    """The id the next agent will get (consuming one value of the sequence on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return sql("SELECT nextval(pg_get_serial_sequence('agents', 'id'))")[0][0] + 1
    row = sql("SELECT seq FROM sqlite_sequence WHERE name = 'agents'")
    return (row[0][0] if row else 0) + 1


@pytest.mark.postgres
def test_provisioned_tables_match_the_contract_column_by_column(make_agent):
    agent = make_agent()
    p = agent.agent_prefix
    for suffix, columns in CONTRACT.items():
        have = catalog_columns(f"{p}_{suffix}")
        for column, (data_type, nullable, default) in columns.items():
            assert column in have, f"{p}_{suffix}.{column} missing"
            got_type, got_nullable, got_default = have[column]
            assert got_type == data_type, (suffix, column, got_type)
            if nullable:
                assert got_nullable == nullable, (suffix, column)
            if default:
                assert default.format(p=p, id=agent.id) in (got_default or ""), (suffix, column, got_default)


@pytest.mark.postgres
def test_provisioned_tables_have_the_contract_keys_and_checks(make_agent):
    agent = make_agent()
    p = agent.agent_prefix
    assert any("REFERENCES agents(id)" in c for c in catalog_constraints(f"{p}_customers"))
    assert any(f"REFERENCES {p}_customers(id)" in c for c in catalog_constraints(f"{p}_messages"))
    assert any(f"REFERENCES {p}_customers(id)" in c for c in catalog_constraints(f"{p}_orders"))
    assert any(f"REFERENCES {p}_orders(id)" in c for c in catalog_constraints(f"{p}_orders_items"))
    assert any("UNIQUE (phone)" in c for c in catalog_constraints(f"{p}_customers"))
    assert any("direction" in c and c.startswith("CHECK") for c in catalog_constraints(f"{p}_messages"))
    assert any("quantity > 0" in c for c in catalog_constraints(f"{p}_orders_items"))
    assert any("price >= " in c for c in catalog_constraints(f"{p}_orders_items"))
    # Indexes for the contract's query patterns.
    assert any("(created_at DESC)" in d for d in catalog_indexes(f"{p}_customers").values())
    assert any('(customer_id, "timestamp" DESC' in d for d in catalog_indexes(f"{p}_messages").values())


def test_plain_sql_inserts_get_the_contract_defaults(make_agent):
    agent = make_agent()
    p = agent.agent_prefix
    sql(f"INSERT INTO {p}_customers (name, phone) VALUES ('Ana', '+15550001111')")
    customer_id, agent_id, created_at = sql(f"SELECT id, agent_id, created_at FROM {p}_customers")[0]
    assert agent_id == agent.id and created_at is not None

    sql(f"INSERT INTO {p}_messages (customer_id, message, direction) VALUES (%s, 'hi', 'inbound')", [customer_id])
    assert sql(f"SELECT is_read, media_type, timestamp IS NOT NULL FROM {p}_messages")[0] == (False, "none", True)

    sql(f"INSERT INTO {p}_orders (customer_id) VALUES (%s)", [customer_id])
    order_id, status, total, created, updated = sql(
        f"SELECT id, status, total_amount, created_at, updated_at FROM {p}_orders"
    )[0]
    assert (status, Decimal(total)) == ("pending", Decimal(0)) and created and updated

    sql(f"INSERT INTO {p}_orders_items (order_id, name, quantity, price) VALUES (%s, 'Tea', 3, 2.50)", [order_id])
    sql(f"INSERT INTO {p}_orders_items (order_id, name) VALUES (%s, 'Free sample')", [order_id])
    rows = sql(f"SELECT name, quantity, price, total FROM {p}_orders_items ORDER BY id")
    assert [(n, q, Decimal(pr), Decimal(t)) for n, q, pr, t in rows] == [
        ("Tea", 3, Decimal("2.50"), Decimal("7.50")),
        ("Free sample", 1, Decimal(0), Decimal(0)),
    ]


def test_the_contracts_query_patterns_run_verbatim(make_agent):
    agent = make_agent()
    p, agent_id = agent.agent_prefix, agent.id
    sql(f"INSERT INTO {p}_customers (name, phone) VALUES ('Ana', '+15550001111')")
    customer_id = sql(f"SELECT id FROM {p}_customers")[0][0]
    sql(f"INSERT INTO {p}_messages (customer_id, message, direction) VALUES ({customer_id}, 'hi', 'inbound')")

    assert len(sql(f"SELECT * FROM {p}_customers \nWHERE agent_id = {agent_id} \nORDER BY created_at DESC;")) == 1
    assert (
        len(
            sql(f"SELECT * FROM {p}_messages \nWHERE customer_id = {customer_id} \nORDER BY timestamp DESC \nLIMIT 50;")
        )
        == 1
    )
    order_id = sql(
        f"INSERT INTO {p}_orders (customer_id, total_amount, status) \nVALUES ({customer_id}, 150.00, 'pending') \nRETURNING id;"
    )[0][0]
    sql(
        f"INSERT INTO {p}_orders_items (order_id, name, quantity, price, total)\n"
        f"VALUES ({order_id}, 'Product A', 2, 50.00, 100.00),\n       ({order_id}, 'Product B', 1, 50.00, 50.00);"
    )
    assert Decimal(sql(f"SELECT sum(total) FROM {p}_orders_items")[0][0]) == Decimal("150.00")


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO {p}_customers (name, phone) VALUES ('Dup', '+15550001111')",
        "INSERT INTO {p}_messages (customer_id, message, direction) VALUES ({c}, 'x', 'sideways')",
        "INSERT INTO {p}_messages (customer_id, message, direction, media_type) VALUES ({c}, 'x', 'inbound', 'gif')",
        "INSERT INTO {p}_orders (customer_id, status) VALUES ({c}, 'lost')",
        "INSERT INTO {p}_orders_items (order_id, name, quantity, price) VALUES ({o}, 'Z', 0, 1)",
        "INSERT INTO {p}_orders_items (order_id, name, quantity, price) VALUES ({o}, 'Z', 1, -1)",
    ],
)
def test_the_database_refuses_rows_the_contract_forbids(make_agent, statement):
    agent = make_agent()
    p = agent.agent_prefix
    sql(f"INSERT INTO {p}_customers (name, phone) VALUES ('Ana', '+15550001111')")
    c = sql(f"SELECT id FROM {p}_customers")[0][0]
    sql(f"INSERT INTO {p}_orders (customer_id) VALUES ({c})")
    o = sql(f"SELECT id FROM {p}_orders")[0][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(statement.format(p=p, c=c, o=o))


def test_a_message_for_a_missing_customer_is_refused(make_agent):
    agent = make_agent()
    table = f"{agent.agent_prefix}_messages"
    if connection.vendor == "postgresql":
        sql("SET CONSTRAINTS ALL IMMEDIATE")  # foreign keys are otherwise checked at commit
    with pytest.raises(IntegrityError), transaction.atomic():
        sql(f"INSERT INTO {table} (customer_id, message, direction) VALUES (999999, 'x', 'inbound')")
        connection.check_constraints(table_names=[table])


def test_two_agents_data_never_mix(make_agent):
    first, second = make_agent(), make_agent()
    a, b = tables.for_agent(first), tables.for_agent(second)
    a.Customer.objects.create(name="Only A", phone="+15550000001")
    b.Customer.objects.create(name="Only B", phone="+15550000001")

    assert list(a.Customer.objects.values_list("name", flat=True)) == ["Only A"]
    assert list(b.Customer.objects.values_list("name", flat=True)) == ["Only B"]
    assert a.Customer._meta.db_table == f"{first.agent_prefix}_customers"
    assert sql(f"SELECT agent_id FROM {second.agent_prefix}_customers")[0][0] == second.id


def test_orm_relations_stay_inside_one_agent(make_agent):
    first, second = make_agent(), make_agent()
    a, b = tables.for_agent(first), tables.for_agent(second)
    customer = a.Customer.objects.create(name="Ana", phone="+15550000001")
    a.Message.objects.create(customer=customer, message="hello", direction="inbound")
    assert customer.messages.get().message == "hello"
    with pytest.raises(ValueError):
        b.Message(customer=customer, message="x", direction="inbound")


def test_timestamps_are_stored_in_utc_and_read_back_aware(make_agent):
    import datetime as dt

    agent = make_agent()
    t = tables.for_agent(agent)
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    when = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    message = t.Message.objects.create(customer=customer, message="hi", direction="inbound", timestamp=when)
    assert t.Message.objects.get(pk=message.pk).timestamp == when
    raw = sql(f"SELECT timestamp FROM {agent.agent_prefix}_messages")[0][0]
    assert str(raw).startswith("2026-03-01 13:30")


def test_the_class_cache_reuses_classes_and_stays_bounded(make_agent, settings):
    settings.AGENT_TABLES_CACHE_SIZE = 2
    tables.cache.clear()
    first, second, third = make_agent(), make_agent(), make_agent()

    assert tables.for_agent(first) is tables.for_agent(first)
    tables.for_agent(second)
    tables.for_agent(third)
    assert len(tables.cache) == 2
    # `first` was the least recently used: it was evicted and is rebuilt on demand.
    rebuilt = tables.for_agent(first)
    assert rebuilt.Customer.objects.count() == 0
    assert tables.for_agent(second) is not None and len(tables.cache) == 2


def test_generated_classes_stay_out_of_the_global_registry(make_agent):
    from django.apps import apps

    agent = make_agent()
    customer_model = tables.for_agent(agent).Customer
    assert customer_model._meta.apps is not apps
    assert tables.APP_LABEL not in {model._meta.app_label for model in apps.get_models()}


@pytest.mark.parametrize("prefix", ["agt_1; DROP TABLE users", "users", "agt_", "agt_12a", 'agt_1"', None])
def test_an_invalid_prefix_never_reaches_sql(make_agent, prefix):
    agent = make_agent()
    agent.agent_prefix = prefix
    with CaptureQueriesContext(connection) as queries:
        with pytest.raises(tables.InvalidAgentPrefix):
            tables.for_agent(agent)
        with pytest.raises(tables.InvalidAgentPrefix):
            provisioning.drop_agent_tables(agent)
        with pytest.raises(tables.InvalidAgentPrefix):
            provisioning.provision_agent_tables(agent)
    assert len(queries) == 0


def test_a_failed_provisioning_leaves_neither_row_nor_tables(make_user):
    created_by = make_user()
    agents_before = Agent.objects.count()
    doomed_id = next_agent_id()
    # Something already holds one of the names the next agent needs: provisioning must fail whole.
    sql(f"CREATE TABLE agt_{doomed_id}_orders_items (id integer)")

    with pytest.raises(DatabaseError):
        provisioning.create_agent(created_by=created_by)

    assert Agent.objects.count() == agents_before
    existing = provisioning.existing_tables([Agent(id=doomed_id, agent_prefix=f"agt_{doomed_id}")])[doomed_id]
    assert existing == {f"agt_{doomed_id}_orders_items"}


def test_deleting_an_agent_drops_its_tables(make_agent):
    agent = make_agent()
    t = tables.for_agent(agent)
    t.Customer.objects.create(name="Ana", phone="+15550000001")
    assert len(provisioning.existing_tables([agent])[agent.id]) == len(tables.TABLES)

    provisioning.delete_agent(agent)

    assert provisioning.existing_tables([agent])[agent.id] == set()
    assert not Agent.objects.filter(pk=agent.pk).exists()


def test_deleting_agents_in_bulk_drops_their_tables_too(make_agent):
    agents = [make_agent(), make_agent()]
    Agent.objects.filter(pk__in=[a.pk for a in agents]).delete()
    assert all(not found for found in provisioning.existing_tables(agents).values())


def test_row_counts_report_each_table(make_agent):
    agent = make_agent()
    t = tables.for_agent(agent)
    customer = t.Customer.objects.create(name="Ana", phone="+15550000001")
    t.Message.objects.create(customer=customer, message="a", direction="inbound")
    t.Message.objects.create(customer=customer, message="b", direction="outbound")
    assert provisioning.row_counts(agent) == {
        "customers": 1,
        "messages": 2,
        "orders": 0,
        "orders_items": 0,
        "order_events": 0,
    }
    provisioning.drop_agent_tables(agent)
    assert provisioning.row_counts(agent) == {}


def test_router_sends_agent_classes_to_their_database_and_keeps_migrate_away(make_agent):
    from crm.routers import AgentTablesRouter

    agent = make_agent()
    router = AgentTablesRouter()
    assert router.db_for_read(tables.for_agent(agent).Message) == "default"
    assert router.db_for_write(tables.for_agent(agent).Message) == "default"
    assert router.db_for_read(Agent) is None
    assert router.allow_migrate("default", tables.APP_LABEL) is False
    assert router.allow_migrate("default", "agents") is None
