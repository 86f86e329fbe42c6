"""database/schema/*.sql: generated from the declarations, and an agent made by `SELECT create_agent(...)`
is the agent `create_agent()` makes, from an empty database run with psql to the app serving it."""

import dataclasses
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, models, transaction

from accounts.models import Role
from agents import conversations, provisioning, schema_sql, tables
from agents.models import Agent
from crm.tests.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_CHECK = ROOT.parent / "shared" / "tools" / "contract_check.py"

# What defines an agent's tables in the catalog, for the relations whose names start with %(prefix)s.
CATALOG = {
    "relations": """SELECT relname, relkind, relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner)
        FROM pg_class WHERE relnamespace = current_schema()::regnamespace AND starts_with(relname, %(prefix)s)""",
    "columns": """SELECT table_name, column_name, ordinal_position, data_type, character_maximum_length,
        numeric_precision, numeric_scale, is_nullable, column_default, is_identity, is_generated
        FROM information_schema.columns
        WHERE table_schema = current_schema() AND starts_with(table_name::text, %(prefix)s)""",
    "constraints": """SELECT t.relname, c.conname, c.contype, c.condeferrable, c.condeferred, c.convalidated,
        pg_get_constraintdef(c.oid) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
        WHERE t.relnamespace = current_schema()::regnamespace AND starts_with(t.relname, %(prefix)s)""",
    "indexes": """SELECT tablename, indexname, indexdef FROM pg_indexes
        WHERE schemaname = current_schema() AND starts_with(tablename, %(prefix)s)""",
    "policies": """SELECT tablename, policyname, permissive, roles::text, cmd, qual, with_check FROM pg_policies
        WHERE schemaname = current_schema() AND starts_with(tablename, %(prefix)s)""",
    "triggers": """SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger
        WHERE NOT tgisinternal AND starts_with(tgrelid::regclass::text, %(prefix)s)""",
    "functions": """SELECT proname, prosrc, provolatile, proconfig::text, pg_get_userbyid(proowner) FROM pg_proc
        WHERE pronamespace = current_schema()::regnamespace AND starts_with(proname, %(prefix)s)""",
    "sequences": """SELECT sequencename, data_type, start_value, increment_by, max_value FROM pg_sequences
        WHERE schemaname = current_schema() AND starts_with(sequencename, %(prefix)s)""",
}


def catalog(cursor, prefix):
    """{what: sorted rows} of the relations, columns, constraints, indexes, policies, triggers, functions
    and sequences whose names start with `prefix`_."""
    result = {}
    for what, sql in CATALOG.items():
        cursor.execute(sql, {"prefix": f"{prefix}_"})
        result[what] = sorted(cursor.fetchall(), key=repr)
    return result


def django_catalog(prefix):
    with connection.cursor() as cursor:
        return catalog(cursor, prefix)


def run_sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def sql_value(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchone()[0]


@pytest.fixture
def sql_functions(db):
    """create_agent() and create_agent_tables() installed in the test database from the committed files."""
    with connection.cursor() as cursor:
        for name in ("dynamic_table_creation.sql", "create_agent_function.sql"):
            cursor.execute((schema_sql.SCHEMA_DIRECTORY / name).read_text())


# The files.


@pytest.mark.postgres
def test_the_committed_files_are_what_the_declarations_give(db):
    assert schema_sql.stale_files() == [], "run `python manage.py write_schema_sql` and commit database/schema/"


@pytest.mark.postgres
def test_write_schema_sql_writes_the_files_and_check_finds_one_that_drifted(db, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(schema_sql, "DATABASE_DIRECTORY", tmp_path)

    call_command("write_schema_sql")
    assert sorted(path.name for path in (tmp_path / "schema").iterdir()) == sorted(schema_sql.FILE_NAMES)
    versions = [schema_sql.migration_file_name(version) for version in range(2, tables.CURRENT_VERSION + 1)]
    assert sorted(path.name for path in (tmp_path / "migrations").iterdir()) == [*versions, "upgrade_agent_tables.sql"]
    assert f"wrote {tmp_path / 'schema' / 'create_agent_function.sql'}" in capsys.readouterr().out
    call_command("write_schema_sql", "--check")

    edited = tmp_path / "schema" / "core_tables.sql"
    edited.write_text(edited.read_text().replace('"name" varchar(255)', '"name" text'))
    with pytest.raises(CommandError, match="schema/core_tables.sql in .* differ from the declarations"):
        call_command("write_schema_sql", "--check")
    # A version file the declarations no longer give (a version renumbered) is stale too, and removed.
    (tmp_path / "migrations" / "0999_agent_tables.sql").write_text("-- gone")
    with pytest.raises(CommandError, match="migrations/0999_agent_tables.sql"):
        call_command("write_schema_sql", "--check")
    call_command("write_schema_sql")
    assert schema_sql.stale_files(tmp_path) == []
    assert not (tmp_path / "migrations" / "0999_agent_tables.sql").exists()


# The function against provisioning, in the test database.


@pytest.mark.postgres
@pytest.mark.parametrize("agent_id", [7, 4321, 98765432101, 2**63 - 1])
def test_the_sql_function_creates_exactly_the_tables_provisioning_creates(sql_functions, agent_id):
    # Long ids make Django shorten the names it gives foreign keys and their indexes: the function must too.
    agent = Agent(id=agent_id, agent_prefix=f"agt_{agent_id}", database="default")
    with connection.cursor() as cursor:
        cursor.execute("SELECT create_agent_tables(%s)", [agent_id])
    made_by_sql = django_catalog(agent.agent_prefix)

    provisioning.drop_agent_tables(agent)
    assert django_catalog(agent.agent_prefix)["relations"] == []
    provisioning.provision_agent_tables(agent)

    assert django_catalog(agent.agent_prefix) == made_by_sql
    assert len(made_by_sql["policies"]) == len(tables.TABLES)


@pytest.mark.postgres
def test_create_agent_in_sql_writes_the_row_and_the_tables_create_agent_writes(sql_functions, make_user, admin_user):
    seller = make_user()

    prefix = sql_value("SELECT create_agent(%s, %s)", [seller.pk, admin_user.pk])

    agent = Agent.objects.get(agent_prefix=prefix)
    assert prefix == f"agt_{agent.pk}"
    assert (agent.user, agent.created_by, agent.name) == (seller, admin_user, "")
    assert (agent.table_version, agent.database) == (tables.CURRENT_VERSION, "default")
    made_by_sql = django_catalog(prefix)
    provisioning.drop_agent_tables(agent)
    provisioning.provision_agent_tables(agent)
    assert django_catalog(prefix) == made_by_sql


@pytest.mark.postgres
def test_a_system_agent_has_no_user(sql_functions, super_admin):
    prefix = sql_value("SELECT create_agent(NULL, %s)", [super_admin.pk])
    assert Agent.objects.get(agent_prefix=prefix).user is None


def next_agent_id():
    """The id create_agent() will draw next (this test draws one first, so nobody else takes it)."""
    return sql_value("SELECT nextval(pg_get_serial_sequence('agents', 'id'))") + 1


def agent_relations(agent_id):
    return sql_value(
        "SELECT array_agg(relname ORDER BY relname) FROM pg_class WHERE starts_with(relname, %s)", [f"agt_{agent_id}_"]
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    "case, sqlstate, message",
    [
        ("unknown user", "23503", "create_agent: there is no user "),
        ("unknown created_by", "23503", "(created_by)"),
        ("created_by is no admin", "42501", "is not an admin (its role is agent)"),
        ("an agent has the prefix", "23505", "the prefix agt_{id} is taken already"),
        ("tables have the prefix", "23505", "the prefix agt_{id} is taken already"),
        ("a failure after the tables", "42P13", "cannot change return type of existing function"),
    ],
)
def test_create_agent_in_sql_refuses_bad_input_and_leaves_nothing_behind(
    sql_functions, make_user, admin_user, case, sqlstate, message
):
    user, created_by = make_user().pk, admin_user.pk
    agent_id = next_agent_id()
    if case == "unknown user":
        user = uuid.uuid4()
    elif case == "unknown created_by":
        created_by = uuid.uuid4()
    elif case == "created_by is no admin":
        created_by = make_user(role=Role.AGENT).pk
    elif case == "an agent has the prefix":
        # A row written by hand, under an id of its own (one from the sequence would move it on).
        Agent.objects.create(id=agent_id + 10**6, agent_prefix=f"agt_{agent_id}", created_by=admin_user)
    elif case == "tables have the prefix":
        run_sql("SELECT create_agent_tables(%s)", [agent_id])
    else:
        # The order item trigger's function is created after every table and index: a clashing one fails it.
        run_sql(f"CREATE FUNCTION agt_{agent_id}_orders_items_total() RETURNS integer LANGUAGE sql AS 'SELECT 1'")
    agents, relations = list(Agent.objects.values_list("pk", flat=True)), agent_relations(agent_id)

    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        sql_value("SELECT create_agent(%s, %s)", [user, created_by])

    assert refused.value.__cause__.sqlstate == sqlstate
    assert message.format(id=agent_id) in str(refused.value)
    assert list(Agent.objects.values_list("pk", flat=True)) == agents
    assert agent_relations(agent_id) == relations


@pytest.mark.postgres
def test_upgrade_agent_tables_brings_an_sql_made_agent_to_a_later_version(
    sql_functions, make_user, admin_user, monkeypatch, capsys
):
    prefix = sql_value("SELECT create_agent(%s, %s)", [make_user().pk, admin_user.pk])
    next_version = tables.CURRENT_VERSION + 1
    customers = tables.TABLES[0]
    later_customers = dataclasses.replace(
        customers,
        columns=lambda agent_id, prefix: (
            customers.columns(agent_id, prefix) + [(next_version, "nickname", models.TextField(null=True))]
        ),
    )
    monkeypatch.setattr(tables, "TABLES", (later_customers, *tables.TABLES[1:]))
    monkeypatch.setattr(tables, "CURRENT_VERSION", next_version)

    call_command("upgrade_agent_tables")

    assert f"{prefix} (default): applied version(s) {next_version}" in capsys.readouterr().out
    assert Agent.objects.get(agent_prefix=prefix).table_version == next_version
    assert sql_value(f"SELECT count(nickname) FROM {prefix}_customers") == 0


@pytest.fixture
def sql_upgrades(sql_functions):
    """upgrade_agent_tables() and its version functions installed from the committed database/migrations/."""
    with connection.cursor() as cursor:
        for path in sorted(schema_sql.MIGRATIONS_DIRECTORY.glob("*.sql")):
            cursor.execute(path.read_text())


@pytest.mark.postgres
def test_the_sql_upgrade_gives_an_old_agent_the_tables_the_command_gives_it(sql_upgrades, make_agent):
    agent = make_agent()
    agent_tables = tables.for_agent(agent)

    def version_one_agent_with_a_customer():
        provisioning.drop_agent_tables(agent)
        provisioning.provision_agent_tables(agent, version=1)
        Agent.objects.filter(pk=agent.pk).update(table_version=1)
        run_sql(f"INSERT INTO {agent.agent_prefix}_customers (name, phone) VALUES ('Kept', '+15550000009')")

    version_one_agent_with_a_customer()
    applied = sql_value("SELECT upgrade_agent_tables(%s)", [agent.pk])
    upgraded_in_sql = django_catalog(agent.agent_prefix)

    assert applied == list(range(2, tables.CURRENT_VERSION + 1))
    assert Agent.objects.get(pk=agent.pk).table_version == tables.CURRENT_VERSION
    assert agent_tables.Customer.objects.get().name == "Kept"
    assert sql_value("SELECT upgrade_agent_tables(%s)", [agent.pk]) == []

    version_one_agent_with_a_customer()
    agent.refresh_from_db()
    provisioning.upgrade_agent_tables(agent)
    assert django_catalog(agent.agent_prefix) == upgraded_in_sql


@pytest.mark.postgres
def test_the_sql_upgrade_refuses_an_unknown_agent_and_one_on_another_database(sql_upgrades, make_agent):
    with pytest.raises(DatabaseError, match="there is no agent 987654"), transaction.atomic():
        run_sql("SELECT upgrade_agent_tables(987654)")
    elsewhere = make_agent()
    Agent.objects.filter(pk=elsewhere.pk).update(database="shard2", table_version=1)
    with pytest.raises(DatabaseError, match="keeps its tables on the database shard2"), transaction.atomic():
        run_sql("SELECT upgrade_agent_tables(%s)", [elsewhere.pk])
    assert Agent.objects.get(pk=elsewhere.pk).table_version == 1


@pytest.mark.postgres
def test_the_dashboard_serves_an_sql_made_agent(sql_functions, client, make_user, admin_user):
    seller = make_user()
    prefix = sql_value("SELECT create_agent(%s, %s)", [seller.pk, admin_user.pk])
    agent_tables = tables.for_agent(Agent.objects.get(agent_prefix=prefix))
    customer = agent_tables.Customer.objects.create(name="Maria Souza", phone="+5511987654321")
    message = agent_tables.Message.objects.create(customer=customer, message="Is it still there?", direction="inbound")
    conversations.note_new_message(agent_tables, message)
    client.force_login(seller)

    inbox = client.get("/inbox/")

    assert inbox.status_code == 200
    assert "Maria Souza" in inbox.content.decode()


# From an empty database, with psql alone, to the app.


@pytest.fixture
def empty_database():
    """(url, role): a new empty database owned by the suite's ordinary role, dropped afterwards."""
    settings = connection.settings_dict
    role = settings.get("ROLE") or settings["USER"]
    name = f"{settings['NAME']}_sql_{uuid.uuid4().hex[:8]}"
    server = psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"],
        dbname="postgres",
        autocommit=True,
    )
    server.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
    url = f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:{settings['PORT'] or 5432}/{name}"
    yield url, role
    server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    server.close()


def psql(url, role, *arguments):
    """psql as `role` (no superuser; None: the login itself), stopping at the first error."""
    env = child_env(**({"PGOPTIONS": f"-c role={role}"} if role else {}))
    command = ["psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "-v", "ON_ERROR_STOP=1", url]
    return subprocess.run([*command, *arguments], env=env, capture_output=True, text=True)


def manage(url, role, *arguments):
    env = child_env(DEBUG="true", DATABASE_URL=url, DATABASE_ROLE=role, ALLOWED_HOSTS="testserver")
    return subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True)


SQL_AGENT_ID = 4101  # far from the small numbers in the tables' defaults, so that comparisons can tell them apart
USERS_BY_HAND = f"""
INSERT INTO users (name, email, role) VALUES ('Ada Admin', 'ada@shop.example', 'admin'),
    ('Sam Seller', 'sam@shop.example', 'agent');
INSERT INTO whatsapp_configuration (user_id, whatsapp_number, webhook_url, api_key, phone_number_id)
    SELECT id, '+15550783881', 'https://crm.example/whatsapp/webhook/', 'EAAG-plain-token', '106540352242922'
    FROM users WHERE email = 'sam@shop.example';
SELECT setval(pg_get_serial_sequence('agents', 'id'), {SQL_AGENT_ID - 1});
"""
CREATE_AGENT = (
    "SELECT create_agent((SELECT id FROM users WHERE email = '{user}'), (SELECT id FROM users WHERE email = '{by}'))"
)


@pytest.fixture
def sql_made_database(empty_database):
    """An empty database run through the four schema files and the migrations with psql, two users inserted by hand, and the agent
    agt_4101 of Sam (created by Ada) made by `SELECT create_agent(...)`: (url, role)."""
    url, role = empty_database
    paths = [schema_sql.SCHEMA_DIRECTORY / name for name in schema_sql.FILE_NAMES]
    paths += sorted(schema_sql.MIGRATIONS_DIRECTORY.glob("*.sql"))
    files = [arg for path in paths for arg in ("-f", str(path))]
    built = psql(url, role, *files)
    assert built.returncode == 0, built.stderr
    made = psql(
        url, role, "-c", USERS_BY_HAND, "-c", CREATE_AGENT.format(user="sam@shop.example", by="ada@shop.example")
    )
    assert made.returncode == 0, made.stderr
    assert made.stdout.split() == [str(SQL_AGENT_ID - 1), f"agt_{SQL_AGENT_ID}"]
    return url, role


@pytest.mark.postgres
@pytest.mark.skipif(not CONTRACT_CHECK.exists(), reason=f"the contract checker is not at {CONTRACT_CHECK}")
def test_an_agent_made_in_psql_passes_the_contract_check(sql_made_database):
    url, _ = sql_made_database

    checked = subprocess.run([sys.executable, CONTRACT_CHECK, url, str(SQL_AGENT_ID)], capture_output=True, text=True)

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert re.search(r"contract: ([0-9]+)/\1 checks hold", checked.stdout)


COUNT_AGENTS_AND_THEIR_RELATIONS = (
    "-c",
    "SELECT count(*) FROM agents",
    "-c",
    "SELECT count(*) FROM pg_class WHERE relname ~ '^agt_'",
)


@pytest.mark.postgres
def test_a_refused_create_agent_in_psql_says_why_and_leaves_nothing(sql_made_database):
    url, role = sql_made_database
    before = psql(url, role, *COUNT_AGENTS_AND_THEIR_RELATIONS).stdout

    refused = psql(url, role, "-c", CREATE_AGENT.format(user="sam@shop.example", by="sam@shop.example"))

    assert refused.returncode != 0
    assert "ERROR:  create_agent: created_by" in refused.stderr
    assert "is not an admin (its role is agent)" in refused.stderr
    assert psql(url, role, *COUNT_AGENTS_AND_THEIR_RELATIONS).stdout == before


def normalized(rows, agent_id):
    """Rows with the agent's id (its prefix's too) and Django's name digests replaced, to compare two agents."""
    text = re.sub(r"(?<=_)[0-9a-f]{8}(?=[_\"\s])", "<digest>", json.dumps(rows, default=str))
    return re.sub(rf"(?<![0-9]){agent_id}(?![0-9])", "<id>", text)


# A conversation written by a SQL client before the app took over: adoption fills the inbox fields.
WRITTEN_BY_SQL = f"""
INSERT INTO agt_{SQL_AGENT_ID}_customers (name, phone) VALUES ('Maria Souza', '+5511987654321');
INSERT INTO agt_{SQL_AGENT_ID}_messages (customer_id, message, direction)
    SELECT id, 'Is it still there?', 'inbound' FROM agt_{SQL_AGENT_ID}_customers;
"""

SERVE_THE_SQL_MADE_AGENT = """
import json
from django.test import Client
from accounts.models import User
from agents import tables
from agents.models import Agent
from whatsapp.tests import payloads

seller = User.objects.get(email="sam@shop.example")
seller.set_password("sql-made-password-123")
seller.save()
client = Client()
logged_in = client.post(
    "/accounts/login/", {"username": "sam@shop.example", "password": "sql-made-password-123"}, secure=True
).status_code == 302
webhook = payloads.post(client, payloads.notification(payloads.value([payloads.text("Hello from WhatsApp")])), secure=True)
inbox = client.get("/inbox/", secure=True)
agent = Agent.objects.get(user=seller)
print(json.dumps({
    "logged_in": logged_in,
    "webhook": webhook.status_code,
    "inbox": inbox.status_code,
    "inbox_shows_the_customer": payloads.NAME in inbox.content.decode(),
    "agent": agent.agent_prefix,
    "inbox_shows_the_sql_customer": "Maria Souza" in inbox.content.decode(),
    "messages": list(tables.for_agent(agent).Message.objects.order_by("id").values_list("message", "direction")),
}))
"""


@pytest.mark.postgres
def test_the_app_adopts_a_database_built_with_psql_and_serves_its_sql_made_agent(sql_made_database):
    url, role = sql_made_database
    # A plain SQL client writes agents' rows as a role that bypasses row security (the suite's login, a
    # superuser): the app's own role sees no agent's rows without the scope it signs (docs/security.md).
    written = psql(url, None, "-c", WRITTEN_BY_SQL)
    assert written.returncode == 0, written.stderr

    adopted = manage(url, role, "adopt_database")
    assert adopted.returncode == 0, adopted.stderr
    assert (
        f"agt_{SQL_AGENT_ID}: made by create_agent() in SQL at version {tables.CURRENT_VERSION} (applied nothing); "
        "conversations counted" in adopted.stdout
    )
    again = manage(url, role, "adopt_database")
    assert again.returncode == 0 and "agt_" not in again.stdout

    # An agent made by the app beside it has the same tables.
    made = manage(url, role, "create_agent", "--user", "ada@shop.example", "--created-by", "ada@shop.example")
    assert made.returncode == 0, made.stderr
    assert made.stdout.split()[-1] == f"agt_{SQL_AGENT_ID + 1}"
    with psycopg.connect(url) as database, database.cursor() as cursor:
        made_by_sql = catalog(cursor, f"agt_{SQL_AGENT_ID}")
        made_by_the_app = catalog(cursor, f"agt_{SQL_AGENT_ID + 1}")
    for what in CATALOG:
        assert normalized(made_by_sql[what], SQL_AGENT_ID) == normalized(made_by_the_app[what], SQL_AGENT_ID + 1), what

    served = manage(url, role, "shell", "-c", SERVE_THE_SQL_MADE_AGENT)
    assert served.returncode == 0, served.stderr
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert result["logged_in"] and result["webhook"] == 200 and result["inbox"] == 200
    assert result["inbox_shows_the_customer"] and result["inbox_shows_the_sql_customer"]
    assert result["agent"] == f"agt_{SQL_AGENT_ID}"
    assert result["messages"] == [["Is it still there?", "inbound"], ["Hello from WhatsApp", "inbound"]]

    upgraded = manage(url, role, "upgrade_agent_tables")
    assert upgraded.returncode == 0 and "0 agent(s) upgraded" in upgraded.stdout
