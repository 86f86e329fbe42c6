"""Customers known only by a business-scoped user id (BSUID: they adopted a WhatsApp username): full customers,
shown and found by username, answered through `recipient`, joined by their number when it appears."""

import pytest
from django.urls import reverse
from django.utils import timezone

from agents import tables
from crm.tests.fixtures import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID
from whatsapp import message_templates, send

from . import payloads
from .payloads import notification, post, text, value

pytestmark = pytest.mark.django_db

BSUID = "US.13491208655302741918"
PARENT = "US.ENT.11815799212886844830"
USERNAME = "@realsheenanelson"


def from_username_adopter(wamid="wamid.bsuid-1", username=USERNAME, name="Sheena Nelson", body="Hi, is it in stock?"):
    """A message of a user who adopted a username: no `from` number, only their BSUID and parent BSUID."""
    message = text(body, wamid=wamid, from_="", timestamp=str(int(timezone.now().timestamp())))
    message["from_user_id"] = BSUID
    message["from_parent_user_id"] = PARENT
    profile = {"username": username, **({"name": name} if name else {})}
    contact = {"profile": profile, "wa_id": "", "user_id": BSUID, "parent_user_id": PARENT}
    return value([message], contacts=[contact])


def deliver(client, *values):
    """Post to the connected shop's number (crm.tests.fixtures' PHONE_NUMBER_ID)."""
    for item in values:
        item["metadata"]["phone_number_id"] = PHONE_NUMBER_ID
    assert post(client, notification(*values)).status_code == 200


@pytest.fixture
def bsuid_customer(connected_shop, client):
    deliver(type(client)(), from_username_adopter())
    return connected_shop.tables.Customer.objects.get()


def test_a_username_adopter_is_a_customer_with_username_and_parent_user_id(bsuid_customer):
    c = bsuid_customer
    assert (c.phone, c.wa_user_id, c.wa_parent_user_id, c.username, c.name) == (
        BSUID,
        BSUID,
        PARENT,
        USERNAME,
        "Sheena Nelson",
    )


def test_the_username_is_kept_up_to_date(bsuid_customer, client):
    deliver(client, from_username_adopter(wamid="wamid.bsuid-2", username="@sheena.n"))
    bsuid_customer.refresh_from_db()
    assert bsuid_customer.username == "@sheena.n" and bsuid_customer.messages.count() == 2


def test_without_a_profile_name_the_username_is_the_name_and_follows_it(connected_shop, client):
    deliver(client, from_username_adopter(name=None))
    deliver(client, from_username_adopter(wamid="wamid.bsuid-2", username="@sheena.n", name=None))
    assert connected_shop.tables.Customer.objects.get().name == "@sheena.n"


def test_pages_show_the_username_and_find_the_customer_by_it(bsuid_customer, client):
    page = client.get(reverse("customer_detail", args=[bsuid_customer.pk])).content.decode()
    assert "@realsheenanelson · no phone number shared" in page
    found = client.get(reverse("customer_list"), {"q": "realsheena"}).content.decode()
    assert "Sheena Nelson" in found
    assert client.get(reverse("conversation", args=[bsuid_customer.pk])).status_code == 200
    assert client.get(reverse("order_create", args=[bsuid_customer.pk])).status_code == 200


def test_a_reply_goes_to_the_user_id_in_recipient(
    connected_shop, bsuid_customer, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(
            connected_shop.agent, bsuid_customer, "Yes, in stock!", sent_by=connected_shop.user, idempotency_key="k"
        )

    [call] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "recipient": BSUID,
        "type": "text",
        "text": {"body": "Yes, in stock!", "preview_url": False},
    }
    message.refresh_from_db()
    assert message.status == "sent" and message.wamid


def test_a_status_names_the_user_id_and_then_the_number_joins_the_same_customer(
    connected_shop, bsuid_customer, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_text(
            connected_shop.agent, bsuid_customer, "Yes!", sent_by=connected_shop.user, idempotency_key="k"
        )
    message.refresh_from_db()
    status = payloads.status("delivered", wamid=message.wamid, recipient=payloads.WA_ID, recipient_user_id=BSUID)
    deliver(client, value(statuses=[status]))

    bsuid_customer.refresh_from_db()
    message.refresh_from_db()
    assert message.status == "delivered"
    assert (bsuid_customer.phone, bsuid_customer.wa_user_id) == (payloads.PHONE, BSUID)
    # The customer's next message, now from the number, is theirs too.
    deliver(client, value([text(wamid="wamid.with-number")], contacts=[payloads.contact(user_id=BSUID)]))
    assert connected_shop.tables.Customer.objects.count() == 1


def test_an_authentication_template_is_refused_with_the_reason(connected_shop, bsuid_customer, fake_graph):
    fake_graph.set_templates(
        BUSINESS_ACCOUNT_ID,
        [
            {
                "name": "login_code",
                "language": "en_US",
                "status": "APPROVED",
                "category": "AUTHENTICATION",
                "id": "9001",
                "components": [{"type": "BODY", "text": "{{1}} is your code."}],
            }
        ],
    )
    message_templates.sync_templates(connected_shop.configuration)
    template = connected_shop.configuration.templates.get()

    with pytest.raises(send.SendError, match="only to a phone number") as refused:
        send.send_template(
            connected_shop.agent,
            bsuid_customer,
            template,
            {"body.1": "123456"},
            sent_by=connected_shop.user,
            idempotency_key="k",
        )
    assert refused.value.code == "needs_phone_number"
    assert not tables.for_agent(connected_shop.agent).Message.objects.outbound().exists()
