"""PostgreSQL Row Level Security: a query that forgets to filter still cannot reach another agent's rows.

The suite connects as an ordinary role (conftest.py), so the policies hold here as in production.
"""

import pytest
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from agents import tables
from agents.models import Agent
from crm import rls
from whatsapp.configuration import save_configuration
from whatsapp.models import WhatsAppConfiguration

pytestmark = pytest.mark.postgres


def rows(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def setting():
    return rows("SELECT coalesce(crm_row_scope(), '')")[0][0]  # the scope the database accepts


@pytest.fixture
def two_shops(make_agent):
    shops = []
    for name, phone in (("Alice", "+15550000001"), ("Bea", "+15550000002")):
        agent = make_agent(name=f"Shop of {name}")
        tables.for_agent(agent).Customer.objects.create(name=name, phone=phone)
        save_configuration(user=agent.user, whatsapp_number=phone, phone_number_id=f"pn-{name}", access_token="t" * 20)
        shops.append(agent)
    return shops


def test_working_as_one_agent_an_unfiltered_query_sees_none_of_anothers_rows(two_shops):
    alice, bea = two_shops
    with rls.agent_scope(alice):
        assert rows(f"SELECT name FROM {alice.agent_prefix}_customers") == [("Alice",)]
        # A query on the other agent's table, as if a view had taken the wrong table: nothing.
        assert rows(f"SELECT name FROM {bea.agent_prefix}_customers") == []
        assert rows(f"SELECT count(*) FROM {bea.agent_prefix}_messages") == [(0,)]
        # Nor can it write there.
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            rows(f"INSERT INTO {bea.agent_prefix}_customers (name, phone) VALUES ('Mallory', '+15550000666')")
        assert rows(f"UPDATE {bea.agent_prefix}_customers SET name = 'Mallory' RETURNING id") == []
    assert rows(f"SELECT name FROM {bea.agent_prefix}_customers") == [("Bea",)]


def test_the_core_tables_narrow_to_the_agent_it_works_as(two_shops):
    alice, bea = two_shops
    with rls.agent_scope(alice):
        assert list(Agent.objects.values_list("pk", flat=True)) == [alice.pk]
        assert list(WhatsAppConfiguration.objects.values_list("user_id", flat=True)) == [alice.user_id]
        # Users can be read (names, logins) but only the agent's own user can be changed.
        assert rows("UPDATE users SET name = 'Taken' WHERE id = %s RETURNING id", [bea.user_id]) == []
        assert rows("UPDATE users SET name = 'Alice A.' WHERE id = %s RETURNING id", [alice.user_id]) != []
    assert Agent.objects.count() == 2 and WhatsAppConfiguration.objects.count() == 2


def test_a_web_request_sees_no_agent_rows_until_a_view_says_whose(two_shops):
    alice, _ = two_shops
    seen = {}

    def careless_view(request):
        seen["rows"] = rows(f"SELECT name FROM {alice.agent_prefix}_customers")
        seen["agents"] = Agent.objects.count()
        return HttpResponse("ok")

    rls.RowScopeMiddleware(careless_view)(RequestFactory().get("/anything/"))
    assert seen == {"rows": [], "agents": 2}


def test_a_dashboard_request_works_as_its_agent_and_leaves_the_connection_clean(committed_db, client, two_shops):
    alice, bea = two_shops
    client.force_login(alice.user)
    page = client.get(reverse("customer_list")).content.decode()
    assert "Alice" in page and "Bea" not in page
    # Each statement's scope ended with its transaction: the server connection's session holds none (read
    # past the row-scope wrapper, as the connection's next client, through PgBouncer say, would find it).
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('crm.agent_id', true), '')")
        assert cursor.fetchone()[0] == ""
        cursor.execute(f"SELECT count(*) FROM {bea.agent_prefix}_customers")
        assert cursor.fetchone()[0] == 0
    assert rows(f"SELECT name FROM {bea.agent_prefix}_customers") == [("Bea",)]


def test_the_admin_works_on_every_agent(client, admin_user, two_shops):
    client.force_login(admin_user)
    page = client.get(reverse("admin:agents_agent_changelist")).content.decode()
    for agent in two_shops:
        assert agent.agent_prefix in page and "customers: 1" in page


def test_a_rolled_back_savepoint_takes_its_scope_with_it_and_the_next_query_applies_it_again(two_shops):
    alice, bea = two_shops
    with transaction.atomic():
        with rls.agent_scope(alice):
            with pytest.raises(ZeroDivisionError), transaction.atomic():
                assert setting() == str(alice.pk)
                raise ZeroDivisionError
            # The setting made inside the savepoint is gone with it: applied again, not assumed.
            assert setting() == str(alice.pk)
            assert rows(f"SELECT name FROM {bea.agent_prefix}_customers") == []
        with rls.scope(rls.NOBODY):
            assert setting() == ""
            assert rows(f"SELECT name FROM {alice.agent_prefix}_customers") == []


def test_every_agent_table_has_its_policy_and_forces_it_on_the_owner(make_agent):
    agent = make_agent()
    names = tables.table_names(agent.agent_prefix)
    found = rows(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, count(p.polname) FROM pg_class c "
        "LEFT JOIN pg_policy p ON p.polrelid = c.oid WHERE c.relname = ANY(%s) GROUP BY 1, 2, 3",
        [names],
    )
    assert sorted(found) == sorted((name, True, True, 1) for name in names)
    for core in ("users", "agents", "whatsapp_configuration"):
        assert rows("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [core]) == [
            (True, True)
        ]


def test_upgrading_an_agent_from_before_row_security_adds_its_policies(make_agent):
    from agents import provisioning

    agent = make_agent()
    provisioning.drop_agent_tables(agent)
    provisioning.provision_agent_tables(agent, version=tables.ROW_SECURITY_VERSION - 1)
    Agent.objects.filter(pk=agent.pk).update(table_version=tables.ROW_SECURITY_VERSION - 1)
    agent.refresh_from_db()
    names = tables.table_names(agent.agent_prefix)
    assert rows("SELECT count(*) FROM pg_policy WHERE polrelid::regclass::text = ANY(%s)", [names]) == [(0,)]

    assert tables.ROW_SECURITY_VERSION in provisioning.upgrade_agent_tables(agent)

    assert rows("SELECT count(*) FROM pg_policy WHERE polrelid::regclass::text = ANY(%s)", [names]) == [(len(names),)]
    with rls.agent_scope(agent.pk + 1000):
        assert tables.for_agent(agent).Customer.objects.count() == 0


def test_the_suite_really_runs_as_an_ordinary_role(db):
    assert rows("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user") == [(False, False)]


@pytest.mark.django_db(databases=["default", "shard2"])
def test_prepare_row_security_marks_the_search_functions_leakproof(capsys):
    from django.core.management import call_command

    call_command("prepare_row_security")
    assert "default: upper(text), textlike(text, text) marked LEAKPROOF" in capsys.readouterr().out
    assert rows(
        "SELECT bool_and(proleakproof) FROM pg_proc WHERE oid IN ('upper(text)'::regprocedure, "
        "'textlike(text, text)'::regprocedure)"
    ) == [(True,)]


def test_a_statement_outside_a_transaction_sets_its_scope_in_one_of_its_own(committed_db, two_shops):
    alice, bea = two_shops
    assert connection.get_autocommit() and not connection.in_atomic_block
    with rls.agent_scope(alice):
        assert rows(f"SELECT name FROM {alice.agent_prefix}_customers") == [("Alice",)]
        assert rows(f"SELECT name FROM {bea.agent_prefix}_customers") == []
        assert [c.name for c in tables.for_agent(alice).Customer.objects.iterator(chunk_size=10)] == ["Alice"]
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(current_setting('crm.agent_id', true), '')")
        assert cursor.fetchone()[0] == ""


def test_the_scope_holds_for_a_server_side_cursor_too(two_shops):
    alice, bea = two_shops
    with rls.agent_scope(bea), transaction.atomic():
        # QuerySet.iterator() reads through a named (server-side) cursor on PostgreSQL.
        assert [c.name for c in tables.for_agent(bea).Customer.objects.iterator(chunk_size=10)] == ["Bea"]
        assert list(tables.for_agent(alice).Customer.objects.iterator(chunk_size=10)) == []


def test_work_left_for_the_commit_runs_in_the_scope_it_was_left_in(two_shops, django_capture_on_commit_callbacks):
    alice, bea = two_shops
    seen = []
    # As in a web request: the commit comes after the block that worked as Bea has ended.
    with rls.scope(rls.NOBODY), django_capture_on_commit_callbacks(execute=True), rls.agent_scope(bea):
        read_beas = lambda: seen.append(rows(f"SELECT name FROM {bea.agent_prefix}_customers"))  # noqa: E731
        transaction.on_commit(rls.bound(read_beas))
        transaction.on_commit(read_beas)
    assert seen == [[("Bea",)], []]


def test_a_table_every_agent_shares_shows_each_agent_only_its_own_rows(two_shops):
    from agents.models import QuickReply

    alice, bea = two_shops
    for agent in two_shops:
        QuickReply.objects.create(agent=agent, shortcut="hours", text=f"{agent.name} opens at 9")
    with rls.agent_scope(alice):
        assert list(QuickReply.objects.values_list("text", flat=True)) == ["Shop of Alice opens at 9"]
        assert rows("UPDATE agent_quick_replies SET text = 'taken' WHERE agent_id = %s RETURNING id", [bea.pk]) == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            QuickReply.objects.create(agent=bea, shortcut="planted", text="from Alice's scope")
    with rls.scope(rls.NOBODY):
        assert QuickReply.objects.count() == 0
    assert QuickReply.objects.count() == 2


# The web role may not widen its scope: what an attacker who can run SQL as that role would try.


@pytest.fixture
def web_role_connection(web_role):
    import psycopg

    settings_dict = connection.settings_dict
    server = {k: v for k, v in {"host": settings_dict["HOST"], "port": settings_dict["PORT"]}.items() if v}
    with psycopg.connect(**server, user=web_role, dbname=settings_dict["NAME"], autocommit=True) as web:
        yield web


def read_as(web, scope, sql):
    with web.transaction():
        web.execute("SELECT set_config('crm.agent_id', %s, true)", [scope])
        return web.execute(sql).fetchall()


def test_the_web_role_cannot_set_itself_another_scope(two_shops, web_role_connection):
    web, (alice, bea) = web_role_connection, two_shops
    customers = f"SELECT name FROM {bea.agent_prefix}_customers"
    forged_mac = rls.signed(bea.pk).rsplit(":", 1)[0] + ":" + "0" * 64
    all_with_alices_mac = "all:" + rls.signed(alice.pk).split(":", 1)[1]
    for scope in (str(bea.pk), "all", "", "none", forged_mac, all_with_alices_mac, rls.signed(bea.pk, now=1)):
        assert read_as(web, scope, customers) == [], scope
        assert read_as(web, scope, f"SELECT count(*) FROM {alice.agent_prefix}_orders") == [(0,)]
    # The same role, given the scope the app signs, reads Bea's rows: the grants are there, the scope is not.
    assert read_as(web, rls.signed(bea.pk), customers) == [("Bea",)]
    assert read_as(web, rls.signed(rls.ALL), f"SELECT count(*) FROM {alice.agent_prefix}_customers") == [(1,)]


def test_the_web_role_can_neither_read_the_keys_nor_drop_a_policy(two_shops, web_role_connection):
    import psycopg

    web, bea = web_role_connection, two_shops[1]
    for attack in (
        f"SELECT * FROM {rls.KEYS_TABLE}",
        f"ALTER TABLE {bea.agent_prefix}_customers DISABLE ROW LEVEL SECURITY",
        f"DROP POLICY {bea.agent_prefix}_customers_agent ON {bea.agent_prefix}_customers",
        "CREATE OR REPLACE FUNCTION crm_row_scope() RETURNS text LANGUAGE sql AS $$ SELECT 'all' $$",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            web.execute(attack)


# Every table that holds one agent's data, beside the agent tables, shows each agent only its own rows.

AGENT_KEYED_TABLES = (
    "agent_quick_replies",
    "whatsapp_media_downloads",
    "whatsapp_webhook_events",
    "order_status_templates",
    "invoice_counters",
    "invoices",
)


def test_every_shared_table_holding_one_agents_data_carries_row_security(db):
    for table in (*AGENT_KEYED_TABLES, "whatsapp_message_templates"):
        assert rows("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = %s", [table]) == [
            (True, True)
        ], table
        assert rows("SELECT count(*) FROM pg_policy WHERE polrelid = %s::regclass", [table]) == [(1,)], table


def test_media_downloads_status_templates_and_message_templates_show_each_agent_its_own(two_shops):
    from django.utils import timezone

    from orders.models import StatusTemplate
    from whatsapp.models import MediaDownload, MessageTemplate

    alice, bea = two_shops
    for agent in two_shops:
        MediaDownload.objects.create(agent=agent, message_id=1, media_id=f"media-{agent.name}")
        template = MessageTemplate.objects.create(
            configuration=WhatsAppConfiguration.objects.get(user=agent.user),
            meta_id=f"t-{agent.pk}",
            name=f"shipped_{agent.pk}",
            language="en",
            status="APPROVED",
            synced_at=timezone.now(),
        )
        StatusTemplate.objects.create(agent=agent, status="shipped", template=template)
    with rls.agent_scope(alice):
        assert list(MediaDownload.objects.values_list("media_id", flat=True)) == ["media-Shop of Alice"]
        assert list(MessageTemplate.objects.values_list("name", flat=True)) == [f"shipped_{alice.pk}"]
        assert list(StatusTemplate.objects.values_list("agent_id", flat=True)) == [alice.pk]
        assert (
            rows(
                "UPDATE whatsapp_message_templates SET status = 'PAUSED' WHERE name = %s RETURNING id",
                [f"shipped_{bea.pk}"],
            )
            == []
        )
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            MediaDownload.objects.create(agent=bea, message_id=2, media_id="planted")
    with rls.scope(rls.NOBODY):
        assert (MediaDownload.objects.count(), MessageTemplate.objects.count(), StatusTemplate.objects.count()) == (
            0,
            0,
            0,
        )
    assert (MediaDownload.objects.count(), MessageTemplate.objects.count(), StatusTemplate.objects.count()) == (2, 2, 2)


def test_a_webhook_event_is_seen_by_the_agent_it_was_routed_to_and_before_that_by_the_intake_only(two_shops):
    from whatsapp.intake import process_events_now, store_event
    from whatsapp.models import WebhookEvent

    alice, bea = two_shops
    body = (
        '{"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": '
        '{"messaging_product": "whatsapp", "metadata": {"display_phone_number": "15550000001", "phone_number_id": '
        '"pn-Alice"}, "statuses": []}}]}]}'
    )
    with rls.scope(rls.NOBODY):  # the webhook's request
        event_id = store_event(body, "pn-Alice")
        assert WebhookEvent.objects.count() == 0
    for agent in two_shops:
        with rls.agent_scope(agent):
            assert WebhookEvent.objects.count() == 0
    process_events_now([event_id])
    assert WebhookEvent.objects.get(pk=event_id).agent_id == alice.pk
    with rls.agent_scope(alice):
        assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [event_id]
    with rls.agent_scope(bea):
        assert WebhookEvent.objects.count() == 0
        assert rows("DELETE FROM whatsapp_webhook_events RETURNING id") == []


@pytest.mark.django_db(databases=["default", "shard2"])
def test_readyz_says_when_the_database_refuses_this_processs_row_scope(client):
    assert client.get("/readyz").status_code == 200
    rows(f"DELETE FROM {rls.KEYS_TABLE} RETURNING 1")  # as if SECRET_KEY had changed without `migrate`
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["databases"]["default"].startswith("refuses the row scope")


def test_a_web_process_works_on_no_agents_rows_outside_a_request():
    import subprocess
    import sys

    from django.conf import settings

    from crm.tests.processes import child_env

    probe = "from crm import rls; print(rls.current()); import crm.wsgi; print(rls.current())"
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env=child_env(DJANGO_SETTINGS_MODULE="crm.settings", DEBUG="true", DATABASE_URL="sqlite:///:memory:"),
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
    )
    # Commands and workers are trusted outside a request; the web process is not (crm/wsgi.py).
    assert result.stdout.split() == [rls.ALL, rls.NOBODY], result.stderr


def test_each_agents_shop_settings_show_only_in_its_own_scope(two_shops):
    from agents.models import Shop

    alice, bea = two_shops
    for agent, currency in ((alice, "EUR"), (bea, "USD")):
        Shop.objects.create(agent=agent, currency=currency, locale="en_US")
    with rls.agent_scope(alice):
        assert list(Shop.objects.values_list("currency", flat=True)) == ["EUR"]
        assert rows("UPDATE agent_shops SET currency = 'JPY' WHERE agent_id = %s RETURNING agent_id", [bea.pk]) == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            rows(
                "INSERT INTO agent_shops (agent_id, currency, locale, time_zone) VALUES (%s, 'GBP', 'en_GB', '')",
                [bea.pk],
            )
    with rls.scope(rls.NOBODY):
        assert Shop.objects.count() == 0
    assert Shop.objects.count() == 2


def test_every_model_whose_rows_name_an_agent_carries_row_security(db):
    from django.apps import apps

    keyed = {
        model._meta.db_table
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is Agent
    }
    assert {"agent_quick_replies", "whatsapp_webhook_events"} <= keyed
    unprotected = [
        table
        for table in sorted(keyed)
        if rows("SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE relname = %s", [table]) != [(True,)]
    ]
    assert unprotected == [], "put rls.keyed_row_security(table) in the migration that creates each"


def test_each_agents_products_and_catalog_sync_are_in_its_own_scope_only(two_shops):
    from orders.models import CatalogSync, Product

    alice, bea = two_shops
    for agent in two_shops:
        Product.objects.create(agent=agent, name=f"{agent.name} vase", retailer_id="vase", price=5)
        CatalogSync.objects.create(agent=agent, catalog_id=f"catalog-{agent.pk}")
    with rls.agent_scope(alice):
        assert list(Product.objects.values_list("name", flat=True)) == ["Shop of Alice vase"]
        assert list(CatalogSync.objects.values_list("agent_id", flat=True)) == [alice.pk]
        assert rows("UPDATE agent_products SET name = 'taken' WHERE agent_id = %s RETURNING id", [bea.pk]) == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Product.objects.create(agent=bea, name="planted", retailer_id="planted", price=1)
    with rls.scope(rls.NOBODY):
        assert Product.objects.count() == 0
        assert CatalogSync.objects.count() == 0
    assert Product.objects.count() == 2
