"""Broadcasts: the audience and who it leaves out, sending through the fake Graph API once per recipient
however often the runner dies, pacing, the daily limit, pausing and cancelling."""

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from agents import labels
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem
from outreach import broadcasts, consent, runner, tasks
from outreach.broadcasts import Audience, BroadcastError
from outreach.models import Broadcast, BroadcastRecipient, MarketingPreference, OutreachSettings
from whatsapp import costs
from whatsapp.tests.payloads import failed_status, notification, post, value


@pytest.fixture
def shop(broadcast_shop):
    return broadcast_shop


def customers(shop, count, start=0):
    Customer = shop.tables.Customer
    Customer.objects.bulk_create(
        [Customer(name=f"Client {n} Doe", phone=f"+1555{n:07d}") for n in range(start, start + count)],
        batch_size=2000,
    )
    return list(Customer.objects.filter(phone__startswith="+1555").order_by("pk"))


def make(shop, audience=None, **fields):
    return broadcasts.create_broadcast(
        shop.agent,
        name="Linen week",
        template=shop.template,
        values={"body.1": "{first_name}", "body.2": "20% off this week"},
        audience=audience or Audience(),
        user=shop.user,
        **fields,
    )


def run_to_the_end(broadcast, **kwargs):
    for _ in range(1000):
        outcome, again = runner.run(broadcast.pk, "test-runner", seconds=3600, **kwargs)
        if again is None:
            return outcome
    raise AssertionError("the broadcast never finished")


def sends_by_number(fake_graph):
    return Counter(sent["to"] for sent in fake_graph.sent_messages(PHONE_NUMBER_ID) if sent["type"] == "template")


def test_the_audience_says_who_it_leaves_out_and_why(shop):
    ana, bea, cid = customers(shop, 3)
    consent.change(shop.agent, bea.pk, opted_out=True, source="keyword", detail="STOP")
    shop.tables.Customer.objects.create(name="Known by id", phone="US.13491208655302741918", wa_user_id="US.1349")

    found = broadcasts.plan(shop.agent, Audience())

    assert found.included == 2
    assert found.excluded == {
        "opted out of marketing": 1,
        "no phone number (known by a WhatsApp user id only)": 1,
    }


def test_the_audience_narrows_by_what_customers_did_and_by_a_list_of_numbers(shop):
    ana, bea, cid = customers(shop, 3)
    placing.create_order(shop.agent, bea, [LineItem("Linen shirt", 1, 30)], actor=shop.user)
    shop.tables.Message.objects.create(
        customer=cid, message="hi", direction="inbound", timestamp=timezone.now() - dt.timedelta(days=40)
    )
    names = lambda audience: [c.name for c, _ in broadcasts.plan(shop.agent, audience).recipients]  # noqa: E731

    assert names(Audience(ordered_item="linen")) == ["Client 1 Doe"]
    assert names(Audience(ordered_item="wool")) == []
    month_ago = timezone.now() - dt.timedelta(days=30)
    assert names(Audience(wrote_to=month_ago)) == ["Client 2 Doe"]
    assert names(Audience(wrote_from=month_ago)) == []
    numbers = broadcasts.parse_numbers('phone\n"+1 555 000 0000"\n+15550000002;x\n+447700900123\n')
    found = broadcasts.plan(shop.agent, Audience(numbers=numbers))
    assert [c.name for c, _ in found.recipients] == ["Client 0 Doe", "Client 2 Doe"]
    assert found.unknown_numbers == ["+447700900123"]


def test_the_audience_narrows_to_customers_with_a_label(shop, agent_b):
    ana, bea, cid = customers(shop, 3)
    paid = labels.save_label(shop.agent, name="Paid", colour="green")
    vip = labels.save_label(shop.agent, name="VIP", colour="blue")
    theirs = labels.save_label(agent_b, name="Theirs", colour="red")
    labels.add_label(shop.agent, shop.tables, paid, [ana.pk])
    labels.add_label(shop.agent, shop.tables, vip, [cid.pk])

    found = broadcasts.plan(shop.agent, Audience(labels=[paid.pk, vip.pk]))
    assert [c.name for c, _ in found.recipients] == ["Client 0 Doe", "Client 2 Doe"]
    assert broadcasts.plan(shop.agent, Audience(labels=[theirs.pk])).recipients == []


def test_the_cost_is_estimated_by_category_and_country_from_the_price_table(shop):
    customers(shop, 3)
    shop.tables.Customer.objects.create(name="In Brazil", phone="+5511987650000")
    costs.save_price(shop.agent, category="marketing", country_prefix="1", price=Decimal("0.025"), currency="USD")
    costs.save_price(shop.agent, category="utility", country_prefix="", price=Decimal("0.004"), currency="USD")

    found = broadcasts.plan(shop.agent, Audience())
    estimate = broadcasts.estimate(shop.agent, found, shop.template)

    assert (estimate.cost, estimate.unpriced, estimate.category) == ({"USD": Decimal("0.075")}, 1, "marketing")
    assert estimate.cost_text == "$0.08"


def test_a_list_with_something_that_is_no_number_is_refused_with_its_line():
    with pytest.raises(Exception, match="Not phone numbers: line 3 \\(12\\)"):
        broadcasts.parse_numbers("+15550000001\n\n12\n")


def test_a_broadcast_that_cannot_be_sent_is_not_made(shop):
    customers(shop, 1)
    with pytest.raises(BroadcastError, match="Fill in the Body variable"):
        broadcasts.create_broadcast(
            shop.agent, name="x", template=shop.template, values={"body.1": "x"}, audience=Audience(), user=shop.user
        )
    with pytest.raises(BroadcastError, match="Nobody in this audience"):
        make(shop, Audience(ordered_item="nothing like it"))
    with pytest.raises(BroadcastError, match="a time in the future"):
        make(shop, scheduled_at=timezone.now() - dt.timedelta(minutes=1))
    assert not Broadcast.objects.exists()


def test_each_recipient_gets_the_template_filled_in_for_them_and_opted_out_ones_nothing(shop, fake_graph):
    ana, bea, cid = customers(shop, 3)
    consent.change(shop.agent, bea.pk, opted_out=True, source="keyword", detail="STOP")
    broadcast = make(shop)

    assert run_to_the_end(broadcast).startswith("finished (2 sent)")

    sent = [s for s in fake_graph.sent_messages(PHONE_NUMBER_ID) if s["type"] == "template"]
    assert [s["to"] for s in sent] == ["+15550000000", "+15550000002"]
    assert sent[0]["template"] == {
        "name": "new_stock",
        "language": {"code": "en"},
        "components": [
            {
                "type": "body",
                "parameters": [{"type": "text", "text": "Client"}, {"type": "text", "text": "20% off this week"}],
            }
        ],
    }
    broadcast.refresh_from_db()
    assert broadcast.status == "finished"
    progress = broadcasts.progress(broadcast)
    assert progress["recipients"] == {"sent": 2, "excluded": 1} and progress["messages"] == {"sent": 2}


def test_a_customer_who_opts_out_during_the_broadcast_is_not_sent_it(shop, fake_graph):
    ana, bea = customers(shop, 2)
    broadcast = make(shop)
    consent.change(shop.agent, bea.pk, opted_out=True, source="keyword", detail="STOP")

    run_to_the_end(broadcast)

    assert sends_by_number(fake_graph) == {"+15550000000": 1}
    assert broadcast.recipients.get(customer_id=bea.pk).state == "excluded"


class Killed(BaseException):
    """The worker process dying: nothing of the runner's own clean-up is trusted to have run."""


CROWD = 10_000


@pytest.mark.postgres
def test_ten_thousand_recipients_each_sent_once_through_a_crash_and_a_restart(shop, fake_graph, monkeypatch):
    everyone = customers(shop, CROWD)
    opted_out = everyone[:: CROWD // 10]
    for customer in opted_out:
        consent.change(shop.agent, customer.pk, opted_out=True, source="meta", detail="stop")
    broadcast = make(shop)
    real_deliver, delivered = runner.delivery.deliver, []
    crash_at = CROWD * 43 // 100

    def deliver_then_die(agent_id, message_id):
        if len(delivered) == crash_at:
            raise Killed  # the message is queued in the agent's table; the recipient is not marked sent
        delivered.append(message_id)
        return real_deliver(agent_id, message_id)

    monkeypatch.setattr(runner.delivery, "deliver", deliver_then_die)
    with pytest.raises(Killed):
        run_to_the_end(broadcast)
    monkeypatch.setattr(runner.delivery, "deliver", real_deliver)
    # The dead runner's hold runs out; the clock starts another runner, which goes on where it stopped.
    Broadcast.objects.filter(pk=broadcast.pk).update(leased_until=timezone.now() - dt.timedelta(seconds=1))
    assert runner.stalled_broadcasts(timezone.now()) == [broadcast.pk]
    reached = CROWD - len(opted_out)
    outcome = runner.run(broadcast.pk, "second-runner", seconds=3600)[0]
    assert outcome == f"finished ({reached - crash_at} sent)"

    sends = sends_by_number(fake_graph)
    assert len(sends) == reached and set(sends.values()) == {1}
    assert not {c.phone for c in opted_out} & set(sends)
    assert broadcast.recipients.filter(state="sent").count() == reached
    assert shop.tables.Message.objects.filter(wa_type="template").count() == reached


def test_a_second_runner_waits_while_the_first_holds_the_broadcast(shop, fake_graph):
    customers(shop, 2)
    broadcast = make(shop)
    assert runner.take(broadcast.pk, "first", timezone.now())
    assert runner.run(broadcast.pk, "second") == ("held by another runner, or not sending", None)
    assert runner.run(broadcast.pk, "first", seconds=3600)[0].startswith("finished")
    assert sends_by_number(fake_graph) == {"+15550000000": 1, "+15550000001": 1}


def test_sending_keeps_to_the_shops_messages_per_second(shop, fake_graph, monkeypatch):
    customers(shop, 12)
    OutreachSettings.objects.filter(agent=shop.agent).update(messages_per_second=4)
    broadcast = make(shop)
    # The runner's own clock, advanced only by its sleeps: what it paces is exact, however busy the machine.
    now, started = [0.0], []
    real_deliver = runner.delivery.deliver
    monkeypatch.setattr(runner.delivery, "deliver", lambda *args: started.append(now[0]) or real_deliver(*args))

    runner.run(broadcast.pk, "r", seconds=3600, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))

    assert len(started) == 12 and sum(sends_by_number(fake_graph).values()) == 12
    assert all(later - earlier >= 1.0 for earlier, later in zip(started, started[4:], strict=False))
    assert started[-1] - started[0] == pytest.approx(11 / 4)


def test_the_daily_limit_stops_the_runner_until_there_is_room(shop, fake_graph):
    customers(shop, 5)
    OutreachSettings.objects.filter(agent=shop.agent).update(daily_limit=3)
    broadcast = make(shop)

    outcome, again = runner.run(broadcast.pk, "r", seconds=3600)

    assert outcome == "daily limit reached (3 sent)" and again >= 60
    broadcast.refresh_from_db()
    assert broadcast.status == "sending" and "daily limit of 3 customers" in broadcast.note
    assert broadcast.leased_until > timezone.now() + dt.timedelta(seconds=again)  # no second runner meanwhile
    BroadcastRecipient.objects.filter(state="sent").update(sent_at=timezone.now() - dt.timedelta(hours=25))
    assert runner.run(broadcast.pk, "r", seconds=3600)[0] == "finished (2 sent)"


def test_pausing_stops_before_the_next_recipient_and_resuming_goes_on(
    shop, fake_graph, django_capture_on_commit_callbacks
):
    customers(shop, 3)
    broadcast = make(shop)
    calls = []

    def pause_after_the_first(seconds):
        calls.append(seconds)
        broadcasts.pause(broadcast)

    OutreachSettings.objects.filter(agent=shop.agent).update(messages_per_second=1)
    outcome, again = runner.run(broadcast.pk, "r", seconds=3600, sleep=pause_after_the_first)
    assert (outcome, again) == ("stopped (1 sent)", None)
    assert sends_by_number(fake_graph) == {"+15550000000": 1}

    with django_capture_on_commit_callbacks(execute=True):
        broadcasts.resume(broadcast)
    broadcast.refresh_from_db()
    assert broadcast.status == "finished"
    assert sum(sends_by_number(fake_graph).values()) == 3


def test_cancelling_skips_whoever_is_left(shop, fake_graph):
    customers(shop, 3)
    broadcast = make(shop)
    broadcasts.cancel(broadcast)
    assert runner.run(broadcast.pk, "r")[0] == "held by another runner, or not sending"
    assert dict(Counter(broadcast.recipients.values_list("state", flat=True))) == {"skipped": 3}
    with pytest.raises(BroadcastError, match="cancelled"):
        broadcasts.resume(broadcast)


def test_a_scheduled_broadcast_starts_when_its_time_comes(shop, fake_graph):
    customers(shop, 1)
    broadcast = make(shop, scheduled_at=timezone.now() + dt.timedelta(hours=1))
    assert tasks.start_and_resume_broadcasts(timezone.now()) == 0

    assert tasks.start_and_resume_broadcasts(timezone.now() + dt.timedelta(hours=2)) == 1

    broadcast.refresh_from_db()
    assert broadcast.status == "finished" and sends_by_number(fake_graph) == {"+15550000000": 1}


def test_meta_holding_back_a_marketing_message_131049_is_shown_and_opts_nobody_out(shop, fake_graph, client):
    ana, bea = customers(shop, 2)
    broadcast = make(shop)
    run_to_the_end(broadcast)
    sent = shop.tables.Message.objects.get(customer=ana, wa_type="template")

    post(client, notification(value(statuses=[failed_status(wamid=sent.wamid)], phone_number_id=PHONE_NUMBER_ID)))

    first = broadcasts.report(broadcast)["recipients"][0]
    assert (first.message.status, first.message.error_code) == ("failed", 131049)
    assert "healthy ecosystem engagement" in first.message.error_title
    assert broadcasts.progress(broadcast)["messages"] == {"failed": 1, "sent": 1}
    assert not MarketingPreference.objects.exists()
