"""Messages Meta marks with errors (it could not deliver their content): a placeholder in the thread, stored once."""

import pytest
from django.urls import reverse

from . import payloads
from .payloads import WA_ID, notification, post, value

pytestmark = pytest.mark.django_db

UNSUPPORTED_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
# webhooks/reference/messages/unsupported: an edited message.
UNSUPPORTED = {
    "from": WA_ID,
    "id": UNSUPPORTED_WAMID,
    "timestamp": "1750090702",
    "errors": [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ],
    "type": "unsupported",
    "unsupported": {"type": "edit"},
}
# An interactive answer Meta could not pass on: the errors sit on the value beside it.
INTERACTIVE_WAMID = "wamid.interactive-131000"
INTERACTIVE = {"from": WA_ID, "id": INTERACTIVE_WAMID, "timestamp": "1750090800", "type": "interactive"}
VALUE_ERRORS = [
    {
        "code": 131000,
        "title": "Something went wrong",
        "message": "Something went wrong",
        "error_data": {"details": "Message failed to send because of an unknown error."},
        "href": "/documentation/business-messaging/whatsapp/support/error-codes",
    }
]


def deliver(client, *values):
    assert post(client, notification(*values)).status_code == 200


def interactive_value():
    return {**value([INTERACTIVE]), "errors": VALUE_ERRORS}


def test_an_unsupported_message_is_a_placeholder_saying_what_happened(client, t):
    deliver(client, value([UNSUPPORTED]))

    row = t.Message.objects.get()
    assert (row.wa_type, row.error_code, row.error_title) == ("unsupported", 131051, "Message type unknown")
    assert "(edit)" in row.message and "Message type unknown (error 131051)" in row.message
    assert "Message type is currently not supported." in row.message


def test_a_message_with_errors_on_its_value_is_kept_as_a_placeholder(client, t):
    deliver(client, interactive_value())

    row = t.Message.objects.get()
    assert (row.wa_type, row.error_code) == ("interactive", 131000)
    assert "Something went wrong (error 131000)" in row.message
    assert t.Customer.objects.get().unread_count == 1


def test_each_is_stored_once_delivered_twice_and_out_of_order(client, t):
    deliver(client, interactive_value())
    deliver(client, value([UNSUPPORTED]))
    deliver(client, interactive_value(), value([UNSUPPORTED]))

    assert sorted(t.Message.objects.values_list("error_code", flat=True)) == [131000, 131051]


def test_message_level_errors_on_any_type_make_a_placeholder(client, t):
    broken = payloads.text(errors=VALUE_ERRORS)
    deliver(client, value([broken]))
    assert t.Message.objects.get().error_code == 131000


def test_value_errors_without_messages_are_noted_on_the_event(client, t):
    from whatsapp.models import WebhookEvent

    deliver(client, {**value(), "errors": VALUE_ERRORS})
    assert not t.Message.objects.exists()
    assert "Meta reported error 131000" in WebhookEvent.objects.get().summary


def test_the_thread_shows_the_placeholder(client, connect_number, seller, agent_a):
    connect_number(agent=agent_a)
    deliver(type(client)(), interactive_value())
    from agents import tables

    customer = tables.for_agent(agent_a).Customer.objects.get()
    page = client.get(reverse("conversation", args=[customer.pk])).content.decode()
    assert "could not deliver here: Something went wrong (error 131000)" in page
