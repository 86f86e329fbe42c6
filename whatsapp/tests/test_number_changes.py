"""A customer's new number (Meta's `user_changed_number` system message): followed once, kept in the history,
undone by an admin."""

import pytest
from django.urls import reverse

from whatsapp.models import CustomerNumberChange

from . import payloads
from .payloads import NAME, PHONE, message, notification, post, text, value

pytestmark = pytest.mark.django_db

NEW_WA_ID = "12195555358"
NEW_PHONE = "+12195555358"
# Meta's example (webhooks/reference/messages/system): no contacts array, `from` is the old number.
CHANGE = message(
    "system",
    {
        "body": "User Sheena Nelson changed from 16505551234 to 12195555358",
        "wa_id": NEW_WA_ID,
        "type": "user_changed_number",
    },
    wamid="wamid.HBgLMTk4MzU1NTE5NzQVAgASGAoxMTgyMDg2MjY3AA==",
    timestamp="1750269342",
)


def deliver_change(client):
    value_ = value([CHANGE])
    del value_["contacts"]
    assert post(client, notification(value_)).status_code == 200


def test_a_number_change_delivered_twice_moves_the_customer_once_and_creates_nobody(client, t):
    post(client, notification(value([text()])))
    deliver_change(client)
    deliver_change(client)

    customer = t.Customer.objects.get()
    assert (customer.phone, customer.name) == (NEW_PHONE, NAME)
    assert customer.messages.filter(wa_type="system").count() == 1
    change = CustomerNumberChange.objects.get()
    assert (change.customer_id, change.old_phone, change.new_phone) == (customer.pk, PHONE, NEW_PHONE)


def test_a_replayed_event_changes_nothing_more(client, t):
    from whatsapp import intake
    from whatsapp.models import WebhookEvent

    post(client, notification(value([text()])))
    deliver_change(client)
    intake.replay_events(WebhookEvent.objects.values_list("id", flat=True))

    assert list(t.Customer.objects.values_list("phone", flat=True)) == [NEW_PHONE]
    assert t.Message.objects.count() == 2 and CustomerNumberChange.objects.count() == 1


def test_the_customer_page_lists_the_earlier_number(client, connect_number, seller, agent_a):
    from agents import tables

    connect_number(agent=agent_a)
    webhook = type(client)()
    post(webhook, notification(value([text()])))
    deliver_change(webhook)
    post(
        webhook,
        notification(value([text(wamid="wamid.after", from_=NEW_WA_ID)], contacts=[payloads.contact(NEW_WA_ID)])),
    )
    customer = tables.for_agent(agent_a).Customer.objects.get()

    page = client.get(reverse("customer_detail", args=[customer.pk])).content.decode()
    assert customer.messages.count() == 3
    assert "Earlier number" in page and "6505551234" in page


def test_an_admin_undoes_a_change_and_the_customer_is_back_on_the_old_number(client, t, admin_user):
    post(client, notification(value([text()])))
    deliver_change(client)
    change = CustomerNumberChange.objects.get()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:whatsapp_customernumberchange_changelist"),
        {"action": "undo", "_selected_action": [change.pk]},
        follow=True,
    )

    assert "is back on +16505551234" in response.content.decode()
    assert t.Customer.objects.get().phone == PHONE
    change.refresh_from_db()
    assert change.undone_at is not None and change.undone_by == admin_user
    # Twice is refused, and says why.
    response = client.post(
        reverse("admin:whatsapp_customernumberchange_changelist"),
        {"action": "undo", "_selected_action": [change.pk]},
        follow=True,
    )
    assert "was undone already" in response.content.decode()


def test_an_undo_is_refused_when_another_customer_holds_the_old_number(t, client):
    from whatsapp.customers import UndoRefused, undo_number_change

    post(client, notification(value([text()])))
    deliver_change(client)
    t.Customer.objects.create(name="Someone", phone=PHONE)

    with pytest.raises(UndoRefused, match="Another customer has the number"):
        undo_number_change(CustomerNumberChange.objects.get(), user=None)
    assert t.Customer.objects.get(name=NAME).phone == NEW_PHONE


@pytest.mark.postgres
def test_number_changes_are_under_row_security(make_agent):
    import datetime as dt

    from django.db import DatabaseError, connection, transaction

    from crm import rls

    alice, bea = make_agent(name="Alice"), make_agent(name="Bea")
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for agent in (alice, bea):
        CustomerNumberChange.objects.create(
            agent=agent, customer_id=1, wamid="wamid.x", old_phone=PHONE, new_phone=NEW_PHONE, changed_at=at
        )
    with rls.agent_scope(alice):
        assert list(CustomerNumberChange.objects.values_list("agent_id", flat=True)) == [alice.pk]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE whatsapp_customer_number_changes SET new_phone = 'taken' WHERE agent_id = %s RETURNING id",
                [bea.pk],
            )
            assert cursor.fetchall() == []
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            CustomerNumberChange.objects.create(
                agent=bea, customer_id=2, wamid="wamid.y", old_phone=PHONE, new_phone=NEW_PHONE, changed_at=at
            )
    with rls.scope(rls.NOBODY):
        assert CustomerNumberChange.objects.count() == 0
