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
    return rows("SELECT coalesce(current_setting('crm.agent_id', true), '')")[0][0]


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


def test_a_dashboard_request_works_as_its_agent_and_leaves_the_connection_clean(client, two_shops):
    alice, bea = two_shops
    client.force_login(alice.user)
    page = client.get(reverse("customer_list")).content.decode()
    assert "Alice" in page and "Bea" not in page
    # The kept connection goes back to no agent's rows once the request is over (read past the row-scope
    # wrapper, as the connection's next user would find it).
    with connection.connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('crm.agent_id', true)")
        assert cursor.fetchone()[0] == rls.NOBODY
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
        assert setting() == ""


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
