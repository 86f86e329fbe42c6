"""The inbox as a work queue: needs reply derived from the messages, done, snoozed, and the counts."""

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from agents import conversations, tables

NOON = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture
def t(make_agent):
    return tables.for_agent(make_agent())


@pytest.fixture
def ana(t):
    return t.Customer.objects.create(name="Ana", phone="+15550000001")


def add(t, customer, direction, minutes, **fields):
    fields.setdefault("status", None if direction == "inbound" else "sent")
    message = t.Message.objects.create(
        customer=customer, message="m", direction=direction, timestamp=NOON + dt.timedelta(minutes=minutes), **fields
    )
    conversations.note_new_message(t, message)
    return message


def waiting_since(customer):
    customer.refresh_from_db()
    return customer.awaiting_reply_since


def test_a_customers_message_needs_a_reply_until_an_answer_follows(t, ana):
    add(t, ana, "inbound", 0)
    add(t, ana, "inbound", 1)
    assert waiting_since(ana) == NOON  # since the oldest unanswered message

    add(t, ana, "outbound", 2)
    assert waiting_since(ana) is None

    add(t, ana, "inbound", 3)
    assert waiting_since(ana) == NOON + dt.timedelta(minutes=3)


def test_a_template_answers_and_a_queued_send_answers(t, ana):
    add(t, ana, "inbound", 0)
    add(t, ana, "outbound", 1, wa_type="template")
    assert waiting_since(ana) is None
    add(t, ana, "inbound", 2)
    add(t, ana, "outbound", 3, wa_type="text", status="queued")
    assert waiting_since(ana) is None


def test_a_failed_send_is_no_answer_and_a_later_failure_reopens_the_question(t, ana):
    add(t, ana, "inbound", 0)
    add(t, ana, "outbound", 1, status="failed")
    assert waiting_since(ana) == NOON

    sent = add(t, ana, "outbound", 2, status="sent")
    assert waiting_since(ana) is None
    t.Message.objects.filter(pk=sent.pk).update(status="failed")
    conversations.note_failed_sends(t, [sent.pk])
    assert waiting_since(ana) == NOON


def test_reactions_and_system_notices_neither_ask_nor_answer(t, ana):
    add(t, ana, "inbound", 0, wa_type="reaction")
    add(t, ana, "inbound", 1, wa_type="system")
    assert waiting_since(ana) is None
    add(t, ana, "inbound", 2)
    add(t, ana, "outbound", 3, wa_type="reaction")
    assert waiting_since(ana) == NOON + dt.timedelta(minutes=2)


def test_a_late_message_older_than_the_answer_counts_as_answered(t, ana):
    add(t, ana, "outbound", 5)
    add(t, ana, "inbound", 1)  # delivered late, written before the answer
    assert waiting_since(ana) is None


def test_batched_intake_keeps_the_same_state_as_one_by_one(t, ana):
    bo = t.Customer.objects.create(name="Bo", phone="+15550000002")
    rows = [
        t.Message(customer=ana, message="m", direction="inbound", timestamp=NOON),
        t.Message(customer=bo, message="m", direction="inbound", timestamp=NOON, wa_type="reaction"),
    ]
    t.Message.objects.bulk_create(rows)
    conversations.note_new_messages(t, rows)
    assert waiting_since(ana) == NOON and waiting_since(bo) is None


def test_a_customers_new_message_reopens_a_done_or_snoozed_conversation(t, ana):
    add(t, ana, "inbound", 0)
    conversations.mark_done(t, ana)
    ana.refresh_from_db()
    assert conversations.queue_state(ana) == "done"

    add(t, ana, "inbound", 1, wa_type="reaction")  # a reaction does not reopen it
    ana.refresh_from_db()
    assert conversations.queue_state(ana) == "done"

    add(t, ana, "inbound", 2)
    ana.refresh_from_db()
    assert conversations.queue_state(ana) == "open" and ana.snoozed_until is None

    conversations.snooze(t, ana, timezone.now() + dt.timedelta(hours=1))
    ana.refresh_from_db()
    assert conversations.queue_state(ana) == "snoozed"
    rows = [t.Message(customer=ana, message="m", direction="inbound", timestamp=NOON + dt.timedelta(minutes=3))]
    t.Message.objects.bulk_create(rows)
    conversations.note_new_messages(t, rows)
    ana.refresh_from_db()
    assert conversations.queue_state(ana) == "open"


def test_a_snooze_ends_by_itself_when_its_time_passes(t, ana):
    add(t, ana, "inbound", 0)
    now = timezone.now()
    conversations.snooze(t, ana, now + dt.timedelta(hours=1))
    assert conversations.queue_counts(t, now=now)["snoozed"] == 1
    later = conversations.queue_counts(t, now=now + dt.timedelta(hours=2))
    assert (later["snoozed"], later["open"], later["needs_reply"]) == (0, 1, 1)


@pytest.mark.parametrize(
    "preset, now, expected",
    [
        ("hour", dt.datetime(2026, 5, 1, 22, 30), dt.datetime(2026, 5, 1, 23, 30)),
        ("tomorrow", dt.datetime(2026, 5, 1, 22, 30), dt.datetime(2026, 5, 2, 9, 0)),
        ("tomorrow", dt.datetime(2026, 5, 1, 0, 30), dt.datetime(2026, 5, 2, 9, 0)),
        ("next_week", dt.datetime(2026, 5, 1, 10, 0), dt.datetime(2026, 5, 4, 9, 0)),  # a Friday: Monday
        ("next_week", dt.datetime(2026, 5, 4, 10, 0), dt.datetime(2026, 5, 11, 9, 0)),  # a Monday: the next
    ],
)
def test_snooze_presets_are_in_the_sellers_time_zone(preset, now, expected):
    zone = zoneinfo.ZoneInfo("America/Sao_Paulo")
    with timezone.override(zone):
        until = conversations.snooze_until(preset, now=now.replace(tzinfo=zone))
    assert until == expected.replace(tzinfo=zone)
    assert conversations.snooze_until("forever") is None


def test_counts_per_filter_in_one_query(t, django_assert_num_queries):
    now = timezone.now()
    waiting = t.Customer.objects.create(name="Waiting", phone="+15550000011")
    answered = t.Customer.objects.create(name="Answered", phone="+15550000012")
    done = t.Customer.objects.create(name="Done", phone="+15550000013")
    snoozed = t.Customer.objects.create(name="Snoozed", phone="+15550000014")
    for customer in (waiting, answered, done, snoozed):
        add(t, customer, "inbound", 0)
    add(t, answered, "outbound", 1)
    conversations.mark_done(t, done)
    conversations.snooze(t, snoozed, now + dt.timedelta(days=1))
    t.Customer.objects.create(name="Never wrote", phone="+15550000015")

    with django_assert_num_queries(1):
        counts = conversations.queue_counts(t, now=now)
    assert counts == {"all": 4, "needs_reply": 1, "unread": 4, "open": 2, "done": 1, "snoozed": 1}


def test_an_upgrade_to_the_queue_version_fills_needs_reply_from_the_messages(make_agent):
    from agents import provisioning
    from agents.models import Agent

    agent = make_agent()
    provisioning.drop_agent_tables(agent)
    provisioning.provision_agent_tables(agent, version=tables.REPLY_STATE_VERSION - 1)
    Agent.objects.filter(pk=agent.pk).update(table_version=tables.REPLY_STATE_VERSION - 1)
    old = tables.build(agent.id, agent.agent_prefix, version=tables.REPLY_STATE_VERSION - 1)
    customer = old.Customer.objects.create(name="Ana", phone="+15550000001", last_message_at=NOON)
    old.Message.objects.create(customer=customer, message="m", direction="inbound", timestamp=NOON)

    agent.refresh_from_db()
    assert tables.REPLY_STATE_VERSION in provisioning.upgrade_agent_tables(agent)
    assert tables.for_agent(agent).Customer.objects.get().awaiting_reply_since == NOON
