"""Moving an agent's tables to another database while its customers write: webhook events and sends are
held, then released on the new database; a move crashed after any step finishes when run again, with
every message there once; shard_report says where the rows are."""

import time

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from agents import moving, tables
from agents.models import Agent, AgentMove
from crm import rls
from crm.tests.fixtures import PHONE_NUMBER_ID
from whatsapp import send
from whatsapp.models import WebhookEvent

SHARD = "shard2"
pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True, databases=["default", SHARD])]
Step = AgentMove.Step
CUSTOMER = "+15557770001"


@pytest.fixture(autouse=True)
def as_the_operator():
    """The test reads every agent's rows and events, as the command line does."""
    with rls.unrestricted():
        yield


class Crash(Exception):
    """What a killed process leaves: the step it was in, unfinished."""


def tables_on(database, prefix):
    with connections[database].cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'r' AND relname LIKE %s", [prefix + "\\_%"])
        return {name for (name,) in cursor.fetchall()}


def wait_for(condition, what, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Shop:
    """The live shop's customer writing through the fake Graph API; every wamid they sent, in order."""

    def __init__(self, live_shop, fake_graph):
        self.seller, self.fake_graph, self.wamids = live_shop, fake_graph, []

    def customer_writes(self, text, *, wait=True):
        before = WebhookEvent.objects.count()
        self.wamids.append(self.fake_graph.customer_sends(PHONE_NUMBER_ID, CUSTOMER, name="Ana", text=text))
        if wait:
            # Stored: the move may hold a lock the processing waits for, so this waits for the row only.
            wait_for(lambda: WebhookEvent.objects.count() > before, f"the webhook event of {text!r} to be stored")

    def stored_wamids(self, agent):
        t = tables.for_agent(agent)
        return sorted(t.Message.objects.filter(direction="inbound").values_list("wamid", flat=True))


@pytest.fixture
def shop(live_shop, fake_graph):
    shop = Shop(live_shop, fake_graph)
    shop.customer_writes("Hello before the move")
    fake_graph.wait_for_webhooks(timeout=10)
    return shop


def run_move(agent, target, after_step=None):
    agent = Agent.objects.get(pk=agent.pk)
    return moving.move_agent(moving.start_move(agent, target), after_step=after_step)


@pytest.mark.parametrize("crash_after", [None, Step.HELD, Step.COPIED, Step.VERIFIED, Step.SWITCHED, Step.DROPPED])
def test_messages_posted_while_an_agent_moves_are_stored_once_on_the_new_database(shop, fake_graph, crash_after):
    agent = shop.seller.agent
    customer = tables.for_agent(agent).Customer.objects.get()
    sent, crashed = [], []

    def during_the_move(move):
        # Right after the switch the move still holds `agents` (dropping the old tables' foreign key to it),
        # as deleting an agent does: the webhook waits for its commit, and so must not this thread.
        shop.customer_writes(f"Written after {move.step}", wait=move.step != Step.SWITCHED)
        if move.step == Step.HELD and not sent:
            message = send.send_text(
                agent, customer, "Queued while moving", sent_by=shop.seller.user, idempotency_key="moving-1"
            )
            sent.append(message.pk)
        if move.step == crash_after and not crashed:
            crashed.append(move.step)
            raise Crash(move.step)

    if crash_after:
        with pytest.raises(Crash):
            run_move(agent, SHARD, after_step=during_the_move)
        assert AgentMove.objects.get(agent=agent).step != Step.DONE
    run_move(agent, SHARD, after_step=during_the_move)
    shop.customer_writes("After the move")
    fake_graph.wait_for_webhooks(timeout=10)

    agent.refresh_from_db()
    move = AgentMove.objects.get(agent=agent)
    assert (agent.database, move.step, move.error) == (SHARD, Step.DONE, "")
    assert tables_on("default", agent.agent_prefix) == set()
    wait_for(lambda: len(shop.stored_wamids(agent)) == len(set(shop.wamids)), "every message on the new database")
    assert shop.stored_wamids(agent) == sorted(set(shop.wamids))
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == 0
    # The send queued while held went out once, from the new database.
    assert [m["text"]["body"] for m in fake_graph.sent_messages()] == ["Queued while moving"]
    assert tables.for_agent(agent).Message.objects.get(pk=sent[0]).status in ("sent", "delivered", "read")
    # New rows continue the copied ids.
    new = tables.for_agent(agent).Customer.objects.create(name="Bo", phone="+15557770002")
    assert new.pk > customer.pk


def test_a_moved_agent_keeps_its_row_security_and_can_move_back(shop, fake_graph):
    agent = shop.seller.agent
    run_move(agent, SHARD)
    run_move(agent, "default")

    agent.refresh_from_db()
    assert agent.database == "default" and tables_on(SHARD, agent.agent_prefix) == set()
    assert shop.stored_wamids(agent) == sorted(shop.wamids)
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity, (SELECT count(*) FROM pg_policy WHERE polrelid = c.oid) "
            "FROM pg_class c WHERE relname = %s",
            [f"{agent.agent_prefix}_messages"],
        )
        assert cursor.fetchone() == (True, True, 1)


def test_a_copy_that_differs_is_never_switched(shop, monkeypatch):
    agent = shop.seller.agent
    real_figures = moving._figures
    monkeypatch.setattr(
        moving, "_figures", lambda a, suffix: real_figures(a, suffix) + ([1] if a.database == SHARD else [])
    )
    with pytest.raises(moving.MoveError, match="differs"):
        run_move(agent, SHARD)
    agent.refresh_from_db()
    assert agent.database == "default"
    assert AgentMove.objects.get(agent=agent).error.startswith("the copy differs")
    assert tables_on(SHARD, agent.agent_prefix) == set()
    assert shop.stored_wamids(agent) == sorted(shop.wamids)


def test_the_command_moves_an_agent_and_refuses_what_it_cannot(shop, capsys):
    agent = shop.seller.agent
    with pytest.raises(CommandError, match="'elsewhere' is not in the shard map"):
        call_command("move_agent", agent.agent_prefix, "--to", "elsewhere")
    with pytest.raises(CommandError, match="already lives on default"):
        call_command("move_agent", str(agent.pk), "--to", "default")
    with pytest.raises(CommandError, match="There is no agent 999999"):
        call_command("move_agent", "999999", "--to", SHARD)

    call_command("move_agent", agent.agent_prefix, "--to", SHARD)

    out = capsys.readouterr().out
    assert f"{agent.agent_prefix}: default -> {SHARD}, from step holding" in out
    assert "Copy verified" in out and f"{agent.agent_prefix} now lives on {SHARD}." in out


def test_shard_report_counts_agents_rows_and_size_per_database(shop, make_agent, capsys):
    make_agent(database=SHARD)
    with connections["default"].cursor() as cursor:
        cursor.execute(f"ANALYZE {shop.seller.agent.agent_prefix}_messages")

    call_command("shard_report")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["database", "agents", "rows", "size"]
    default, shard = lines[1].split(), lines[2].split()
    assert default[:2] == ["default", "1"] and shard[:2] == [SHARD, "1"]
    assert int(default[2].replace(",", "")) >= 1 and default[4] == "MB"
    assert lines[-1].startswith("Suggestion: ")


def test_an_agents_moves_are_seen_only_in_its_own_scope(make_agent):
    alice, bea = make_agent(), make_agent()
    AgentMove.objects.create(agent=bea, source="default", target=SHARD)
    with rls.agent_scope(alice):
        assert not AgentMove.objects.exists() and not moving.is_held(bea.pk)
    with rls.agent_scope(bea):
        assert moving.is_held(bea.pk)
    with rls.scope(rls.NOBODY):
        assert moving.held_agents([bea]) == {bea.pk}  # the intake's routing sees every agent's moves


def test_the_admin_moves_agents_in_the_background_and_shows_the_step(client, admin_user, make_agent):
    from django.urls import reverse

    agent = make_agent()
    tables.for_agent(agent).Customer.objects.create(name="Ana", phone=CUSTOMER)
    client.force_login(admin_user)
    changelist = reverse("admin:agents_agent_changelist")

    response = client.post(
        changelist, {"action": f"move_to_{SHARD}", "_selected_action": [agent.pk]}, follow=True
    )  # the test settings run tasks at once, as a worker would later

    page = response.content.decode()
    assert f"moving from default to {SHARD}" in page
    assert f"default → {SHARD}: Done: events and sends released" in page
    agent.refresh_from_db()
    assert agent.database == SHARD and tables.for_agent(agent).Customer.objects.get().name == "Ana"
    moves = client.get(reverse("admin:agents_agentmove_changelist")).content.decode()
    assert "Done: events and sends released" in moves

    again = client.post(changelist, {"action": f"move_to_{SHARD}", "_selected_action": [agent.pk]}, follow=True)
    assert f"already lives on {SHARD}" in again.content.decode()


def test_the_orphan_sweep_leaves_the_copy_of_a_move_under_way_alone(make_agent):
    from agents import provisioning

    agent = make_agent()
    move = moving.start_move(agent, SHARD)
    provisioning.provision_agent_tables(moving._at(agent, SHARD))  # what a move stopped after copying leaves

    assert agent.agent_prefix not in provisioning.orphan_prefixes(SHARD)
    assert provisioning.drop_orphan_tables(SHARD, agent.agent_prefix) is False

    moving.move_agent(move)  # resumed: copies again over what it left
    agent.refresh_from_db()
    assert agent.database == SHARD and agent.agent_prefix not in provisioning.orphan_prefixes(SHARD)
