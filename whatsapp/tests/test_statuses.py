"""Statuses of our outbound messages only move forward, whatever order Meta delivers them in."""

import datetime as dt

import pytest

from whatsapp import intake
from whatsapp.models import WebhookEvent
from whatsapp.statuses import StatusOutcome, apply_status_update

from . import payloads
from .payloads import OUR_WAMID, failed_status, notification, post, status, value

pytestmark = pytest.mark.django_db


@pytest.fixture
def outbound(t):
    customer = t.Customer.objects.create(name="Sheena Nelson", phone=payloads.PHONE)
    return t.Message.objects.create(
        customer=customer, message="Yes, in blue and green.", direction="outbound", status="queued", wamid=OUR_WAMID
    )


def deliver_statuses(client, *items):
    response = post(client, notification(value(statuses=list(items))))
    assert response.status_code == 200


def test_statuses_move_an_outbound_message_forward(client, outbound):
    for name, at in (("sent", "1750030073"), ("delivered", "1750030080"), ("read", "1750030090")):
        deliver_statuses(client, status(name, timestamp=at))
        outbound.refresh_from_db()
        assert outbound.status == name
        assert outbound.status_at == dt.datetime.fromtimestamp(int(at), dt.UTC)


@pytest.mark.parametrize(
    "order, final",
    [
        (["read", "delivered", "sent"], "read"),
        (["delivered", "sent"], "delivered"),
        (["sent", "read", "delivered"], "read"),
        (["read", "read"], "read"),
        (["failed", "sent", "delivered"], "failed"),
        (["sent", "failed"], "failed"),
        (["delivered", "failed"], "delivered"),
    ],
)
def test_late_statuses_never_move_a_message_back(client, outbound, order, final):
    for name in order:
        deliver_statuses(client, failed_status() if name == "failed" else status(name))
    outbound.refresh_from_db()
    assert outbound.status == final
    assert WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED).count() == len(order)


def test_a_failed_status_keeps_metas_error(client, outbound):
    deliver_statuses(client, failed_status())
    outbound.refresh_from_db()
    assert outbound.status == "failed"
    assert outbound.error_code == 131049
    assert outbound.error_title == "This message was not delivered to maintain healthy ecosystem engagement."
    assert (
        outbound.error_detail
        == "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
    )


def test_a_played_voice_note_counts_as_read(t, outbound):
    assert apply_status_update(t, status("played")) is StatusOutcome.APPLIED
    outbound.refresh_from_db()
    assert outbound.status == "read"


def test_several_statuses_in_one_notification_are_all_applied(client, t, outbound):
    other = t.Message.objects.create(
        customer=outbound.customer, message="Second", direction="outbound", status="sent", wamid="wamid.second"
    )
    deliver_statuses(client, status("delivered"), status("read", wamid="wamid.second"))
    assert t.Message.objects.get(pk=outbound.pk).status == "delivered"
    assert t.Message.objects.get(pk=other.pk).status == "read"
    assert WebhookEvent.objects.get().summary == "2 statuses applied"


def test_a_status_for_an_inbound_message_changes_nothing(t, client):
    post(client, notification(value([payloads.text(wamid="wamid.inbound")])))
    assert apply_status_update(t, status("read", wamid="wamid.inbound")) is StatusOutcome.UNKNOWN_MESSAGE
    assert t.Message.objects.get().status is None


def test_a_status_with_a_bsuid_recipient_as_meta_shapes_it_is_applied(client, outbound):
    # From Meta's business-scoped user id guide: contacts beside the statuses, an empty recipient_id.
    item = status("delivered", recipient="", recipient_user_id=payloads.BSUID)
    item["pricing"] = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
    change = {
        **value(statuses=[item]),
        "contacts": [payloads.contact(wa_id="", user_id=payloads.BSUID, username="@pablomorales")],
    }
    post(client, notification(change))
    outbound.refresh_from_db()
    assert outbound.status == "delivered"


def test_a_status_for_an_unknown_message_is_kept_on_its_event_and_looked_at_again(client, t):
    deliver_statuses(client, status("delivered", wamid="wamid.notyet"))
    event = WebhookEvent.objects.get()
    # Our send task may not have recorded the wamid yet: the event waits a little and is processed again.
    assert event.state == WebhookEvent.State.PENDING and event.next_attempt_at is not None
    assert "wamid.notyet" in event.summary and not event.error

    customer = t.Customer.objects.create(name="Sheena Nelson", phone=payloads.PHONE)
    message = t.Message.objects.create(
        customer=customer, message="Hi", direction="outbound", status="sent", wamid="wamid.notyet"
    )
    assert intake.process_due_events(now=event.next_attempt_at) == 1
    message.refresh_from_db()
    assert message.status == "delivered"
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED


def test_a_status_that_never_finds_its_message_ends_processed_not_failed(client, agent):
    deliver_statuses(client, status("read", wamid="wamid.never"))
    event = WebhookEvent.objects.get()
    while event.state == WebhookEvent.State.PENDING:
        intake.process_due_events(now=event.next_attempt_at)
        event.refresh_from_db()
    assert event.state == WebhookEvent.State.PROCESSED
    assert "for a message we do not know (wamid.never)" in event.summary
    assert event.attempts == 1 + len(intake.UNKNOWN_STATUS_DELAYS)


@pytest.mark.parametrize(
    "item",
    [
        {"status": "read", "timestamp": "1750030073"},
        status("bounced"),
        status("read", timestamp="yesterday"),
        "read",
    ],
)
def test_a_malformed_status_fails_its_event_with_a_clear_error(client, outbound, item):
    deliver_statuses(client, item, status("delivered"))
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FAILED
    assert event.error
    outbound.refresh_from_db()
    assert outbound.status == "delivered"
