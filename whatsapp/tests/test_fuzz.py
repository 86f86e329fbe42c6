"""Malformed but signed payloads: the webhook never answers 500 and never leaves a half-processed message."""

import copy

import pytest
from django.db import transaction
from django.db.models import Count, Max, Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents.conversations import note_new_message
from agents.tables import MEDIA_TYPES
from whatsapp.models import WebhookEvent

from . import payloads
from .payloads import notification, post, status, value
from .test_message_types import CASES

pytestmark = pytest.mark.django_db

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", "0", "16505551234", "1749416383", "text", "image", "wamid.x", "\x00", "\ud800"])
)
json_values = st.recursive(
    json_leaves,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=6,
)
BASES = [case[0] for case in CASES] + [status("read"), status("delivered"), payloads.failed_status()]


def paths(node, prefix=()):
    """Every path to a value inside a JSON-like object."""
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, prefix + (index,))


def mutate(data, node):
    """Replace, delete or add a few values anywhere in `node` (a deep copy)."""
    node = copy.deepcopy(node)
    for _ in range(data.draw(st.integers(0, 4))):
        all_paths = [path for path in paths(node) if path]
        if not all_paths:
            break
        path = data.draw(st.sampled_from(all_paths))
        parent = node
        for step in path[:-1]:
            parent = parent[step]
        action = data.draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = data.draw(json_values)
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=6))] = data.draw(json_values)
    return node


def change_of(data):
    messages = [mutate(data, base) for base in data.draw(st.lists(st.sampled_from(BASES[:-3]), max_size=3))]
    statuses = [mutate(data, base) for base in data.draw(st.lists(st.sampled_from(BASES[-3:]), max_size=2))]
    for message in messages:
        if isinstance(message, dict) and data.draw(st.booleans()):
            message["id"] = f"wamid.fuzz{data.draw(st.integers(0, 50))}"
    return mutate(data, value(messages, statuses=statuses, contacts=[payloads.contact()]))


def assert_nothing_half_processed(t):
    for message in t.Message.objects.inbound():
        assert message.message.strip(), message.pk
        assert message.wamid and message.wa_type and message.timestamp
        assert message.media_type in MEDIA_TYPES
        assert isinstance(message.payload, dict)
    # Every stored message was counted on its customer, in the same transaction.
    customers = t.Customer.objects.annotate(
        unread=Count("messages", filter=Q(messages__direction="inbound", messages__is_read=False)),
        newest=Max("messages__timestamp"),
    )
    for customer in customers:
        assert customer.unread_count == customer.unread, customer
        assert customer.last_message_at == customer.newest, customer
    for event in WebhookEvent.objects.all():
        # Only the payload's own faults, never a crash of ours (which would be retried as transient).
        assert event.state != WebhookEvent.State.PENDING or not event.error, event.error
        for name in ("TypeError", "AttributeError", "KeyError", "IndexError", "DataError", "Traceback"):
            assert name not in event.error, event.error


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_malformed_signed_payloads_never_crash_nor_half_store(client, t, data):
    if not t.Message.objects.filter(wamid=payloads.OUR_WAMID).exists():
        customer = t.Customer.objects.create(phone="+15550000000", name="Outbound")
        outbound = t.Message.objects.create(
            customer=customer, message="Hi", direction="outbound", status="sent", is_read=True, wamid=payloads.OUR_WAMID
        )
        note_new_message(t, outbound)
    envelope = notification(*[change_of(data) for _ in range(data.draw(st.integers(1, 2)))])
    if data.draw(st.booleans()):
        envelope = mutate(data, envelope)

    # Each example starts from the same database: its rows are rolled back after the checks.
    with transaction.atomic():
        response = post(client, envelope)
        assert response.status_code in (200, 400), response.content
        assert_nothing_half_processed(t)
        transaction.set_rollback(True)
