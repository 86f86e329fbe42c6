"""Processing stored events: exactly once, item by item, durable through failures, replayable."""

import datetime as dt
import io
import threading
import time

import psycopg
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from agents import provisioning, tables
from whatsapp import intake
from whatsapp.models import WebhookEvent, WhatsAppConfiguration

from . import payloads
from .payloads import notification, post, status, text, value

pytestmark = pytest.mark.django_db


def test_a_second_delivery_of_the_same_message_changes_nothing(client, t):
    body = notification(value([text()]))
    post(client, body)
    customer = t.Customer.objects.get()
    t.Customer.objects.filter(pk=customer.pk).update(name="Sheena (renamed by the agent)")
    before = list(t.Message.objects.values())

    post(client, body)
    post(client, notification(value([text("edited text, same id")], contacts=[payloads.contact(name="Other")])))

    assert list(t.Message.objects.values()) == before
    customer = t.Customer.objects.get()
    assert (customer.unread_count, customer.name) == (1, "Sheena (renamed by the agent)")
    first, second, third = WebhookEvent.objects.order_by("id")
    assert first.summary == "1 message stored"
    assert second.summary == third.summary == "1 already stored"


def test_the_same_message_twice_in_one_notification_is_stored_once(client, t):
    post(client, notification(value([text(), text()]), value([text()])))
    assert t.Message.objects.count() == 1
    assert t.Customer.objects.get().unread_count == 1


def test_replaying_a_processed_event_changes_nothing(client, t, outbound_message):
    post(client, notification(value([text()], statuses=[status("read")])))
    event = WebhookEvent.objects.get()
    snapshot = (list(t.Message.objects.values()), list(t.Customer.objects.values()))

    intake.process_events_now([event.pk])
    call_command("replay_webhook_events", str(event.pk), stdout=io.StringIO())

    assert (list(t.Message.objects.values()), list(t.Customer.objects.values())) == snapshot
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED and event.attempts == 3


@pytest.fixture
def outbound_message(t):
    customer = t.Customer.objects.create(name="Sheena Nelson", phone=payloads.PHONE)
    return t.Message.objects.create(
        customer=customer, message="Hi", direction="outbound", status="sent", wamid=payloads.OUR_WAMID
    )


def test_one_bad_item_never_loses_the_others(client, t, outbound_message):
    bad = payloads.message("text", {"body": 42}, wamid="wamid.bad")
    post(
        client,
        notification(
            value([text(wamid="wamid.first"), bad, text(wamid="wamid.last")], statuses=[status("delivered")]),
            value(
                [payloads.message("order", {"product_items": []}, wamid="wamid.emptycart"), text(wamid="wamid.other")]
            ),
        ),
    )

    assert set(t.Message.objects.inbound().values_list("wamid", flat=True)) == {
        "wamid.first",
        "wamid.last",
        "wamid.other",
    }
    outbound_message.refresh_from_db()
    assert outbound_message.status == "delivered"
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FAILED
    assert "wamid.bad: a text message's body must be a string" in event.error
    assert "wamid.emptycart: an order needs at least one product item" in event.error
    assert event.summary.startswith("3 messages stored; 1 status applied")


def test_an_unknown_number_is_kept_as_an_unroutable_event_and_replays_once_configured(client, make_agent):
    post(client, notification(value([text()], phone_number_id="999999")))
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.UNROUTABLE
    assert "'999999' has no active WhatsApp configuration" in event.summary

    agent = make_agent()
    from whatsapp.configuration import save_configuration

    save_configuration(user=agent.user, whatsapp_number="+15550100009", phone_number_id="999999", access_token="x")
    out = io.StringIO()
    call_command("replay_webhook_events", "--state", "unroutable", stdout=out)

    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert tables.for_agent(agent).Message.objects.get().wamid == payloads.WAMID
    assert "1 event replayed: 1 processed" in out.getvalue()


def test_an_inactive_configuration_does_not_route(client, agent):
    WhatsAppConfiguration.objects.update(is_active=False)
    post(client, notification(value([text()])))
    assert WebhookEvent.objects.get().state == WebhookEvent.State.UNROUTABLE
    assert not tables.for_agent(agent).Message.objects.exists()


def test_messages_go_to_the_configurations_agent_or_else_the_users_oldest_agent(client, make_agent, connect_number):
    oldest = connect_number()
    younger = make_agent(user=oldest.user)
    post(client, notification(value([text(wamid="wamid.1")])))
    assert tables.for_agent(oldest).Message.objects.count() == 1

    WhatsAppConfiguration.objects.update(agent=younger)
    post(client, notification(value([text(wamid="wamid.2")])))
    assert tables.for_agent(younger).Message.objects.get().wamid == "wamid.2"


def test_other_webhook_fields_are_acknowledged_and_ignored(client):
    post(
        client,
        notification({"display_phone_number": "15550783881", "event": "VERIFIED_ACCOUNT"}, field="account_update"),
    )
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED
    assert event.summary == "ignored: account_update"


def test_errors_meta_reports_on_the_value_are_noted(client, agent):
    change = {
        **value(),
        "errors": [{"code": 131000, "title": "Something went wrong", "message": "Something went wrong"}],
    }
    post(client, notification(change))
    assert "Meta reported error 131000: Something went wrong" in WebhookEvent.objects.get().summary


def test_a_database_failure_is_retried_with_backoff_then_left_failed(client, agent):
    provisioning.drop_agent_tables(agent)
    post(client, notification(value([text()])))
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PENDING
    assert "ProgrammingError" in event.error or "OperationalError" in event.error
    first_retry = event.next_attempt_at
    assert first_retry - event.processed_at == intake.RETRY_DELAYS[0]

    # Not due yet: the worker leaves it alone.
    assert intake.process_due_events(now=first_retry - dt.timedelta(seconds=1)) == 0
    while event.state == WebhookEvent.State.PENDING:
        assert intake.process_due_events(now=event.next_attempt_at) == 1
        event.refresh_from_db()
    assert event.state == WebhookEvent.State.FAILED
    assert event.attempts == 1 + len(intake.RETRY_DELAYS)

    # An admin fixes the cause and replays it.
    provisioning.provision_agent_tables(agent)
    call_command("replay_webhook_events", "--state", "failed", stdout=io.StringIO())
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert tables.for_agent(agent).Message.objects.count() == 1


@override_settings(WHATSAPP_PROCESS_INLINE=False)
def test_without_inline_processing_the_worker_processes_events_in_batches(client, t):
    for n in range(5):
        assert post(client, notification(value([text(f"hi {n}", wamid=f"wamid.w{n}")]))).status_code == 200
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).count() == 5
    assert not t.Message.objects.exists()

    out = io.StringIO()
    call_command("process_webhook_events", "--once", "--batch-size", "2", stdout=out)

    assert t.Message.objects.count() == 5
    assert not WebhookEvent.objects.exclude(state=WebhookEvent.State.PROCESSED).exists()
    assert "5 events processed" in out.getvalue()


def test_replay_command_needs_to_be_told_which_events(client):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="which events"):
        call_command("replay_webhook_events", stdout=io.StringIO())
    with pytest.raises(CommandError, match="no webhook event"):
        call_command("replay_webhook_events", "12345", stdout=io.StringIO())


@pytest.mark.postgres
def test_a_message_another_transaction_is_storing_right_now_is_stored_once(committed_agent):
    """The batch's bulk insert meets a row a concurrent transaction holds; the batch is redone item by item."""
    t = tables.for_agent(committed_agent)
    customer = t.Customer.objects.create(name="Sheena Nelson", phone=payloads.PHONE)
    settings_dict = connection.settings_dict
    inserted = threading.Event()

    def concurrent_delivery():
        with psycopg.connect(
            host=settings_dict["HOST"],
            port=settings_dict["PORT"] or 5432,
            user=settings_dict["USER"],
            dbname=settings_dict["NAME"],
            password=settings_dict["PASSWORD"] or None,
        ) as other:
            other.execute(
                f"INSERT INTO {t.Message._meta.db_table} (customer_id, message, direction, wamid) "
                "VALUES (%s, 'racing copy', 'inbound', 'wamid.racing')",
                [customer.pk],
            )
            inserted.set()
            time.sleep(0.5)
        # Leaving the block commits.

    thread = threading.Thread(target=concurrent_delivery)
    thread.start()
    inserted.wait(5)
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        event = WebhookEvent.objects.get(
            pk=intake.store_event(
                payloads.encode(
                    notification(value([text("racing", wamid="wamid.racing"), text("other", wamid="wamid.other")]))
                ).decode()
            )
        )
    intake.process_events_now([event.pk])
    thread.join()

    assert sorted(t.Message.objects.values_list("wamid", "message")) == [
        ("wamid.other", "other"),
        ("wamid.racing", "racing copy"),
    ]
    event.refresh_from_db()
    assert (event.state, event.summary) == (WebhookEvent.State.PROCESSED, "1 message stored; 1 already stored")


def test_an_event_whose_stored_body_is_not_json_fails_alone(client, agent):
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        good = WebhookEvent.objects.get(pk=intake.store_event(payloads.encode(notification(value([text()]))).decode()))
        broken = WebhookEvent.objects.get(pk=intake.store_event("this is not JSON"))
    assert intake.process_due_events(now=timezone.now()) == 2
    good.refresh_from_db()
    broken.refresh_from_db()
    assert good.state == WebhookEvent.State.PROCESSED
    assert broken.state == WebhookEvent.State.FAILED and "not JSON" in broken.error


def test_a_batch_that_breaks_outside_any_item_leaves_each_event_failed_with_the_cause(agent, caplog):
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        events = [
            WebhookEvent.objects.get(
                pk=intake.store_event(payloads.encode(notification(value([text(wamid=f"wamid.{n}")]))).decode())
            )
            for n in range(2)
        ]
    # Routing itself cannot work: the configuration table is gone.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE whatsapp_configuration RENAME TO whatsapp_configuration_away")
    try:
        assert intake.process_due_events(now=timezone.now()) == 2
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE whatsapp_configuration_away RENAME TO whatsapp_configuration")

    for event in events:
        event.refresh_from_db()
        assert event.state == WebhookEvent.State.FAILED and event.attempts == 1
        assert "whatsapp_configuration" in event.error
    assert "could not be processed" in caplog.text
    call_command("replay_webhook_events", "--state", "failed", stdout=io.StringIO())
    assert tables.for_agent(agent).Message.objects.count() == 2


def test_a_cart_becomes_a_draft_order_once(client, t):
    from .test_message_types import ORDER

    cart = payloads.message("order", ORDER)
    post(client, notification(value([cart])))
    post(client, notification(value([cart])))

    order = t.Order.objects.get()
    assert (order.status, order.source, order.source_wamid, order.currency) == (
        "pending",
        "cart",
        payloads.WAMID,
        "USD",
    )
    assert [(i.product_retailer_id, i.quantity) for i in order.items.order_by("id")] == [
        ("di9ozbzfi4", 2),
        ("nqryix03ez", 1),
    ]
    assert order.customer == t.Message.objects.get().customer


def test_a_cart_that_cannot_become_an_order_is_still_stored_and_said_so(client, t):
    cart = payloads.message(
        "order", {"product_items": [{"product_retailer_id": "x", "quantity": 1, "item_price": 1.234}]}
    )
    post(client, notification(value([cart])))
    assert t.Message.objects.get().wa_type == "order"
    assert not t.Order.objects.exists()
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED
    assert f"cart {payloads.WAMID} did not become a draft order (the cart is not usable)" in event.summary


def test_a_cart_whose_draft_order_fails_keeps_the_message(client, t):
    from .test_message_types import ORDER

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {t.OrderEvent._meta.db_table}")
    post(client, notification(value([payloads.message("order", ORDER)])))
    assert t.Message.objects.get().wa_type == "order"
    assert not t.Order.objects.exists()
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.PROCESSED and "did not become a draft order" in event.summary


@pytest.mark.postgres
def test_the_worker_runs_until_told_to_stop(committed_agent):
    """The worker as the Procfile runs it: a real process, on the database, stopped with SIGTERM."""
    import os
    import signal
    import subprocess
    import sys

    from django.conf import settings as django_settings

    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    with override_settings(WHATSAPP_PROCESS_INLINE=False):
        event = WebhookEvent.objects.get(pk=intake.store_event(payloads.encode(notification(value([text()]))).decode()))
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "process_webhook_events", "--idle-sleep", "0.05"],
        env={
            **os.environ,
            "DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "crm.test_settings",
            "WHATSAPP_APP_SECRET": django_settings.WHATSAPP_APP_SECRET,
        },
        cwd=django_settings.BASE_DIR,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "Processing webhook events" in worker.stdout.readline()
        deadline = time.monotonic() + 20
        while WebhookEvent.objects.get(pk=event.pk).state == WebhookEvent.State.PENDING and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=20) == 0
    assert "1 event processed" in worker.stdout.read()
    assert tables.for_agent(committed_agent).Message.objects.get().wamid == payloads.WAMID


def test_processed_events_past_the_retention_are_pruned_and_the_others_kept(client, agent):
    post(client, notification(value([text(wamid="wamid.old")])))
    post(client, notification(value([text(wamid="wamid.lost")], phone_number_id="999999")))
    post(client, notification(value([text(wamid="wamid.new")])))
    old, lost, new = WebhookEvent.objects.order_by("id")
    WebhookEvent.objects.filter(pk__in=[old.pk, lost.pk]).update(received_at=timezone.now() - dt.timedelta(days=40))

    assert intake.prune_processed_events(timezone.now() - dt.timedelta(days=30)) == 1
    assert set(WebhookEvent.objects.values_list("pk", flat=True)) == {lost.pk, new.pk}
    assert tables.for_agent(agent).Message.objects.count() == 2  # the messages stay, of course
    assert intake.prune_processed_events(timezone.now() + dt.timedelta(days=1)) == 1
    assert list(WebhookEvent.objects.values_list("pk", flat=True)) == [lost.pk]
