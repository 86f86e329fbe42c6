"""Webhook abuse by the ten thousand: signed deliveries of every shape, replayed and out of order, never a 500.

Each Hypothesis example is a stream of deliveries posted to the webhook in-process: well-formed messages
and statuses, the same with values of the wrong type anywhere, garbage envelopes, nesting thousands deep,
huge and oversized bodies, exact replays of earlier deliveries, and forged signatures. The stream is
processed the way production does it (the intake worker, in batches) or inline, then the database must be
consistent: each message stored once with its customer, inbox counts true, statuses only forward, every
event final or retryable with its reason. Hypothesis draws the stream's shape; each delivery's content
comes from a seeded Random, which keeps generation cheap enough for 10,000 payloads in seconds.
"""

import copy
import json
import random
import re
from collections import Counter, defaultdict

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents import tables
from agents.conversations import note_new_message
from agents.tables import MEDIA_TYPES
from whatsapp import intake, signatures, statuses
from whatsapp.models import WebhookEvent

from . import payloads
from .test_message_types import CASES

pytestmark = pytest.mark.django_db

# PostgreSQL runs the full 10,000 signed payloads; SQLite, the second run of the suite, a fifth of them.
SIGNED_PAYLOADS = {"postgresql": 10_000, "sqlite": 2_000}
DELIVERIES_PER_EXAMPLE = (40, 80)
EXAMPLES_PER_RUN = 20
MAX_BODY_BYTES = 200 * 1024  # the test's limit, so that bodies over it are cheap to make
OTHER_PHONE_NUMBER_ID = "106540352242923"
UNKNOWN_PHONE_NUMBER_ID = "999999999999999"
SENDERS = ["16505551234", "5511987654321", "447911123456", "4915123456789", "919876543210"]
BASE_MESSAGES = [case[0] for case in CASES]
# Carts are drawn less often than the other types: each becomes a draft order, the costliest item to store.
BASE_WEIGHTS = [0.2 if case[1] == "order" else 1 for case in CASES]
STATUS_NAMES = ["sent", "delivered", "read", "played", "failed"]
OUTBOUND = {"a": ["wamid.out.a0", "wamid.out.a1", "wamid.out.a2"], "b": ["wamid.out.b0"]}
# Values of every JSON type, and strings PostgreSQL or the code might choke on.
WRONG_VALUES = [
    None,
    True,
    False,
    0,
    -1,
    2**31,
    2**63,
    -(2**80),
    10**400,
    1.5,
    5e-324,
    -0.0,
    1e308,
    "",
    " ",
    "0",
    "-1",
    "1e400",
    "x" * 5000,
    "\x00",
    "\ud800",
    "\u202e\u0301",
    "\U0001f600",
    "null",
    "wamid.out.a0",
    "16505551234",
    "image",
    "text",
    [],
    {},
    [None],
    [[]],
    {"": None},
    ["text"],
    {"id": 1},
    {"id": "wamid.x", "type": "text"},
    [1, "a", None],
]
ENVELOPE_GARBAGE = [
    b"",
    b"\xff\xfe\x00junk",
    b"not json",
    b"null",
    b"[]",
    b"42",
    b'"whatsapp_business_account"',
    b'\xef\xbb\xbf{"object": "whatsapp_business_account", "entry": []}',
    b'{"object": "page", "entry": [{"changes": []}]}',
    b'{"entry": [{"changes": []}]}',
    b'{"object": "whatsapp_business_account", "entry": null}',
    b'{"object": "whatsapp_business_account", "entry": "x"}',
    b'{"object": "whatsapp_business_account", "entry": [1]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": {"field": "messages"}}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [null]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": 7, "value": {}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": []}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"a": NaN}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", '
    b'"value": {"a": -Infinity}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"a": 1e400}}]}]}',
    b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {}}]}]} trailing',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 30_000 + b"1" + b"}" * 30_000,
]
DEPTHS = [10, 60, 64, 65, 200, 900, 990, 3_000, 30_000]
# How a crash of ours shows in an event's error (tally.fail writes "label: ClassName: message").
CRASH = re.compile(r"\b\w+(Error|Exception): |Traceback")


class Stream:
    """One example's deliveries, what they were answered, and what must follow from them."""

    def __init__(self, example, retyped):
        self.example = example
        self.retyped = retyped  # the paths given a wrong type, over all streams
        self.sent = []  # (body, headers, status)
        self.wamids = {}  # wamid of a well-formed message answered 200 -> (agent key, wa_type)
        self.status_floor = defaultdict(int)  # (agent key, wamid) -> the rank its well-formed statuses reach
        self.counter = 0

    def wamid(self):
        self.counter += 1
        return f"wamid.fuzz.{self.example}.{self.counter}"

    def accepted(self, agent_key, messages, statuses_):
        """A well-formed delivery was answered 200: its messages must be stored, its statuses applied."""
        if agent_key is None:
            return  # an unknown number: kept as an unroutable event, stored nowhere
        for message in messages:
            self.wamids[message["id"]] = (agent_key, message["type"])
        for status in statuses_:
            if status["id"] in OUTBOUND[agent_key] and status["status"] != "failed":
                key = (agent_key, status["id"])
                self.status_floor[key] = max(self.status_floor[key], rank(statuses.KNOWN[status["status"]]))


def agent_key_for(rng):
    return rng.choices(["a", "b", None], weights=[8, 2, 1])[0]


PHONE_NUMBER_IDS = {"a": payloads.PHONE_NUMBER_ID, "b": OTHER_PHONE_NUMBER_ID, None: UNKNOWN_PHONE_NUMBER_ID}


def well_formed_messages(stream, rng, count):
    """`count` messages as Meta sends them, of any type, from the sender pool, each with a new wamid."""
    messages, contacts = [], {}
    for _ in range(count):
        message = copy.deepcopy(rng.choices(BASE_MESSAGES, BASE_WEIGHTS)[0])
        message["id"] = stream.wamid()
        message["timestamp"] = str(1749416383 + rng.randrange(-(10**6), 10**6))
        if rng.random() < 0.1:  # a user known only by their business-scoped user id
            del message["from"]
            message["from_user_id"] = payloads.BSUID
            contacts[payloads.BSUID] = {"profile": {"name": "Username user"}, "user_id": payloads.BSUID}
        else:
            message["from"] = rng.choice(SENDERS)
            contacts[message["from"]] = payloads.contact(wa_id=message["from"], name=f"Customer {message['from'][-4:]}")
        messages.append(message)
    return messages, list(contacts.values())


def well_formed_statuses(rng, agent_key, count):
    """Statuses for the agent's outbound messages in any order, now and then for a message it never sent."""
    wamids = OUTBOUND.get(agent_key, [])
    return [
        payloads.status(
            rng.choice(STATUS_NAMES),
            wamid=rng.choice(wamids) if wamids and rng.random() > 0.1 else "wamid.nobody.knows",
            timestamp=str(1750030073 + rng.randrange(10**5)),
        )
        for _ in range(count)
    ]


def envelope(*values):
    return payloads.notification(*values)


def dump(rng, body):
    """The body as Meta's JSON, its non-ASCII characters escaped or not (lone surrogates become invalid UTF-8)."""
    return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")


def paths(node, prefix=()):
    """Every path to a value inside a JSON-like object."""
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from paths(child, prefix + (index,))


def mutate(rng, node, retyped):
    """Give a few values anywhere in `node` the wrong type, delete or duplicate them, or add strange keys."""
    for _ in range(rng.randint(1, 5)):
        all_paths = [path for path in paths(node) if path]
        if not all_paths:
            break
        path = rng.choice(all_paths)
        parent = node
        for step in path[:-1]:
            parent = parent[step]
        action = rng.choice(["retype", "retype", "retype", "delete", "add", "duplicate"])
        if action == "retype":
            parent[path[-1]] = copy.deepcopy(rng.choice(WRONG_VALUES))
            retyped.add(tuple("[]" if isinstance(step, int) else step for step in path))
        elif action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[rng.choice(["", "id", "type", "\x00", "errors", "context", "x" * 300])] = rng.choice(WRONG_VALUES)
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    return node


# The kinds of delivery, each returning (body, headers, the answers allowed) and noting what must follow.


def deliver_messages(stream, rng):
    agent_key = agent_key_for(rng)
    messages, contacts = well_formed_messages(stream, rng, rng.randint(1, 2))
    statuses_ = well_formed_statuses(rng, agent_key, rng.choice([0, 0, 1]))
    value = payloads.value(messages, statuses=statuses_, contacts=contacts, phone_number_id=PHONE_NUMBER_IDS[agent_key])
    return dump(rng, envelope(value)), {200}, ("messages", agent_key, messages, statuses_)


def deliver_statuses(stream, rng):
    agent_key = agent_key_for(rng)
    statuses_ = well_formed_statuses(rng, agent_key, rng.randint(1, 2))
    value = payloads.value(statuses=statuses_, phone_number_id=PHONE_NUMBER_IDS[agent_key])
    return dump(rng, envelope(value)), {200}, ("messages", agent_key, [], statuses_)


def deliver_mutated(stream, rng):
    agent_key = agent_key_for(rng)
    messages, contacts = well_formed_messages(stream, rng, rng.randint(0, 2))
    statuses_ = well_formed_statuses(rng, agent_key, rng.randint(0, 1))
    value = payloads.value(messages, statuses=statuses_, contacts=contacts, phone_number_id=PHONE_NUMBER_IDS[agent_key])
    body = mutate(rng, envelope(*[copy.deepcopy(value) for _ in range(rng.randint(1, 2))]), stream.retyped)
    return dump(rng, body), {200, 400}, None


def deliver_garbage_envelope(stream, rng):
    return rng.choice(ENVELOPE_GARBAGE), {400}, None


def deliver_deep_nesting(stream, rng):
    """A well-formed delivery with one value nested hundreds or thousands deep (written as text: json.dumps
    cannot build it)."""
    messages, contacts = well_formed_messages(stream, rng, 1)
    where = rng.choice(["body", "context", "contacts", "value", "entry"])
    if where == "body":
        messages[0]["type"] = "text"
        messages[0]["text"] = {"body": "__DEEP__"}
    elif where == "context":
        messages[0]["context"] = "__DEEP__"
    value = payloads.value(messages, contacts="__DEEP__" if where == "contacts" else contacts)
    if where == "value":
        value["extra"] = "__DEEP__"
    body = envelope(value)
    if where == "entry":
        body["entry"][0]["extra"] = "__DEEP__"
    depth = rng.choice(DEPTHS)
    deep = "[" * depth + "]" * depth if rng.random() < 0.5 else '{"a":' * depth + "1" + "}" * depth
    return json.dumps(body).replace('"__DEEP__"', deep).encode(), {200, 400}, None


def deliver_huge(stream, rng):
    """A body near the size limit: one long text, a big field the intake ignores, many ignored changes, or
    (more rarely, as they cost the most to store) many messages. All of it to be accepted."""
    agent_key = rng.choice(["a", "b"])
    phone_number_id = PHONE_NUMBER_IDS[agent_key]
    shape = rng.choice(["long text", "big unknown field", "many ignored changes", "many messages"])
    messages, contacts = well_formed_messages(stream, rng, rng.randint(30, 80) if shape == "many messages" else 1)
    values = [payloads.value(messages, contacts=contacts, phone_number_id=phone_number_id)]
    fields = ["messages"]
    if shape == "long text":
        messages[0]["type"], messages[0]["text"] = "text", {"body": "ü" * rng.randrange(10_000, MAX_BODY_BYTES // 3)}
    elif shape == "big unknown field":
        values[0]["unknown"] = [rng.random() for _ in range(rng.randrange(1_000, 8_000))]
    elif shape == "many ignored changes":
        extra = rng.randrange(50, 1_000)
        values += [{"display_phone_number": payloads.DISPLAY_PHONE_NUMBER, "event": "VERIFIED_ACCOUNT"}] * extra
        fields += ["account_update"] * extra
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": payloads.BUSINESS_ACCOUNT_ID,
                "changes": [{"value": value, "field": field} for value, field in zip(values, fields, strict=False)],
            }
        ],
    }
    return json.dumps(body, ensure_ascii=False).encode(), {200}, ("messages", agent_key, messages, [])


def deliver_oversized(stream, rng):
    messages, contacts = well_formed_messages(stream, rng, 1)
    messages[0]["type"], messages[0]["text"] = "text", {"body": "x" * (MAX_BODY_BYTES + rng.randrange(1, 50_000))}
    return json.dumps(envelope(payloads.value(messages, contacts=contacts))).encode(), {413}, None


def deliver_replay(stream, rng):
    """The exact bytes and signature of an earlier delivery: Meta re-delivers, and so do attackers."""
    if not stream.sent:
        return deliver_messages(stream, rng)
    body, headers, status = rng.choice(stream.sent)
    return body, {status}, ("replay", headers)


def forged_signature(rng, body):
    return rng.choice(
        [
            None,
            "",
            "sha256=",
            "sha256=" + "0" * 64,
            "sha1=" + signatures.sign(body, django_settings.WHATSAPP_APP_SECRET)[7:47],
            signatures.sign(body, "another-app-secret"),
            signatures.sign(body + b" ", django_settings.WHATSAPP_APP_SECRET),
            signatures.sign(body, django_settings.WHATSAPP_APP_SECRET)[:-1],
            " " + signatures.sign(body, django_settings.WHATSAPP_APP_SECRET),
            signatures.sign(body, ""),
        ]
    )


KINDS = {
    "messages": (deliver_messages, 6),
    "statuses": (deliver_statuses, 3),
    "mutated": (deliver_mutated, 8),
    "replay": (deliver_replay, 3),
    "garbage envelope": (deliver_garbage_envelope, 2),
    "deep nesting": (deliver_deep_nesting, 2),
    "huge": (deliver_huge, 1),
    "oversized": (deliver_oversized, 1),
    "forged": (deliver_messages, 2),  # a well-formed body under a bad signature
}
KIND_CHOICES = [kind for kind, (_, weight) in KINDS.items() for _ in range(weight)]


class Figures:
    """What the test did, for its report line."""

    def __init__(self):
        self.signed = 0
        self.forged = 0
        self.examples = 0
        self.by_kind = Counter()
        self.answers = Counter()
        self.stored_messages = 0
        self.events = Counter()
        self.retyped = set()


# The consistency the database must keep, whatever was posted.


def rank(status):
    return statuses.RANK.get(status, 0)


def outbound_ranks(agent_tables):
    return {
        wamid: rank(status) for wamid, status in agent_tables.Message.objects.outbound().values_list("wamid", "status")
    }


def assert_statuses_only_moved_forward(stream, all_tables, seen):
    for key, agent_tables in all_tables.items():
        for wamid, now in outbound_ranks(agent_tables).items():
            before = seen.get((key, wamid), 0)
            assert now >= before, f"{wamid} went back from rank {before} to {now}"
            seen[(key, wamid)] = now


def assert_consistent(stream, all_tables, figures):
    for key, t in all_tables.items():
        Message, Customer = t.Message, t.Customer
        # One message per wamid, each with its customer (inner join) in this agent's table.
        duplicated = Message.objects.values("wamid").annotate(n=Count("id")).filter(n__gt=1, wamid__isnull=False)
        assert not duplicated.exists(), list(duplicated)
        assert Message.objects.filter(customer__isnull=True).count() == 0
        assert Message.objects.count() == Message.objects.filter(customer__in=Customer.objects.all()).count()
        for message in Message.objects.inbound():
            assert message.message.strip(), message.pk
            assert message.wamid and message.wa_type and message.timestamp
            assert message.media_type in MEDIA_TYPES
            assert isinstance(message.payload, dict)
        # Each customer's inbox fields are what their messages say.
        for customer in Customer.objects.annotate(
            unread=Count("messages", filter=Q(messages__direction="inbound", messages__is_read=False)),
            newest=Max("messages__timestamp"),
        ):
            assert customer.unread_count == customer.unread, customer
            assert customer.last_message_at == customer.newest, customer
        # Every well-formed message answered 200 is stored, once, in the agent its number routes to.
        expected = {wamid: wa_type for wamid, (agent_key, wa_type) in stream.wamids.items() if agent_key == key}
        stored = dict(Message.objects.filter(wamid__in=list(expected)).values_list("wamid", "wa_type"))
        assert stored == expected
        figures.stored_messages += Message.objects.inbound().count()
        # A well-formed status answered 200 moved its message at least that far (a failure only ends
        # a message that was not delivered yet: it is not counted here).
        for wamid, now in outbound_ranks(t).items():
            assert now >= stream.status_floor[(key, wamid)], (wamid, now, stream.status_floor[(key, wamid)])


def assert_events_final_or_retryable(figures, answered_200, final):
    events = list(WebhookEvent.objects.all())
    assert len(events) == answered_200  # each 200 stored exactly one event; every refusal stored nothing
    for event in events:
        assert not CRASH.search(event.error), event.error
        if event.state == WebhookEvent.State.PENDING:
            assert not final, (event.pk, event.summary, event.error)
            assert event.next_attempt_at is not None
            assert event.error or "for a message we do not know" in event.summary
        elif event.state == WebhookEvent.State.FAILED:
            assert event.error
        elif event.state == WebhookEvent.State.UNROUTABLE:
            assert "has no active WhatsApp configuration" in event.summary
        else:
            assert event.state == WebhookEvent.State.PROCESSED and event.summary
        if final:
            figures.events[event.state] += 1


def drain_the_queue():
    """Run the intake worker at each retry's time until no event is left waiting."""
    for _ in range(len(intake.RETRY_DELAYS) + len(intake.UNKNOWN_STATUS_DELAYS) + 2):
        due = WebhookEvent.objects.filter(state=WebhookEvent.State.PENDING).aggregate(at=Max("next_attempt_at"))["at"]
        if due is None:
            return
        while intake.process_due_events(now=due):
            pass
    raise AssertionError("events are still pending after every retry")


# The test.


@pytest.fixture
def outbound(connect_number, agent, t):
    """Two agents with numbers, and messages they sent that statuses will be about."""
    other = connect_number(phone_number_id=OTHER_PHONE_NUMBER_ID, whatsapp_number="+15550783882")
    all_tables = {"a": t, "b": tables.for_agent(other)}
    for key, agent_tables in all_tables.items():
        customer = agent_tables.Customer.objects.create(phone="+15550000000", name="Outbound")
        for wamid, status in zip(OUTBOUND[key], ["queued", "sent", "delivered"], strict=False):
            message = agent_tables.Message.objects.create(
                customer=customer,
                message="Hi",
                direction="outbound",
                status=status,
                is_read=True,
                wamid=wamid,
            )
            note_new_message(agent_tables, message)
    return all_tables


def post(client, body, headers):
    return client.post("/whatsapp/webhook/", data=body, content_type="application/json", **headers)


def run_stream(client, all_tables, figures, example, kinds, seed, inline, batch_size, process_every):
    rng = random.Random(seed)
    stream = Stream(example, figures.retyped)
    seen = {}
    answered_200 = 0
    with override_settings(WHATSAPP_PROCESS_INLINE=inline):
        for index, kind in enumerate(kinds):
            body, allowed, follows = KINDS[kind][0](stream, rng)
            if follows and follows[0] == "replay":
                headers = follows[1]
                follows = None
            elif kind == "forged":
                signature = forged_signature(rng, body)
                headers = {} if signature is None else {"HTTP_X_HUB_SIGNATURE_256": signature}
                allowed = {403}
            else:
                headers = {"HTTP_X_HUB_SIGNATURE_256": signatures.sign(body, django_settings.WHATSAPP_APP_SECRET)}
            response = post(client, body, headers)

            assert response.status_code in allowed, (kind, response.status_code, response.content[:200], body[:300])
            figures.by_kind[kind] += 1
            figures.answers[response.status_code] += 1
            if response.status_code == 403:
                figures.forged += 1
            else:
                figures.signed += 1
            stream.sent.append((body, headers, response.status_code))
            answered_200 += response.status_code == 200
            if follows and response.status_code == 200:
                stream.accepted(*follows[1:])
            if not inline and (index + 1) % process_every == 0:
                while intake.process_due_events(batch_size=batch_size):
                    pass
            if inline or (index + 1) % process_every == 0:
                assert_statuses_only_moved_forward(stream, all_tables, seen)
        while intake.process_due_events(batch_size=batch_size):
            pass
    assert_statuses_only_moved_forward(stream, all_tables, seen)
    assert_events_final_or_retryable(figures, answered_200, final=False)
    drain_the_queue()
    assert_statuses_only_moved_forward(stream, all_tables, seen)
    assert_events_final_or_retryable(figures, answered_200, final=True)
    assert_consistent(stream, all_tables, figures)


@override_settings(WHATSAPP_WEBHOOK_MAX_BODY_BYTES=MAX_BODY_BYTES)
def test_ten_thousand_signed_deliveries_never_crash_and_leave_the_database_consistent(client, outbound):
    target = SIGNED_PAYLOADS[connection.vendor]
    figures = Figures()

    @settings(
        max_examples=EXAMPLES_PER_RUN,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
    )
    @given(
        kinds=st.lists(
            st.sampled_from(KIND_CHOICES), min_size=DELIVERIES_PER_EXAMPLE[0], max_size=DELIVERIES_PER_EXAMPLE[1]
        ),
        seed=st.integers(0, 2**32 - 1),
        # Production processes in batches (the intake worker); the demo and tests inline.
        inline=st.sampled_from([False] * 11 + [True]),
        batch_size=st.sampled_from([200, 200, 20, 5]),
        process_every=st.sampled_from([80, 80, 20, 5]),
    )
    def stream_of_deliveries(kinds, seed, inline, batch_size, process_every):
        figures.examples += 1
        # Each example starts from the same database: its rows are rolled back after the checks.
        with transaction.atomic():
            run_stream(client, outbound, figures, figures.examples, kinds, seed, inline, batch_size, process_every)
            transaction.set_rollback(True)

    # Hypothesis runs a fixed number of examples per call: call again until the target is reached.
    while figures.signed < target:
        stream_of_deliveries()

    print(
        f"\nwebhook fuzz on {connection.vendor}: {figures.signed} signed payloads and {figures.forged} forged ones "
        f"in {figures.examples} streams; by kind {dict(figures.by_kind)}; answers {dict(figures.answers)}; "
        f"{len(figures.retyped)} distinct fields given a wrong type; {figures.stored_messages} messages stored; "
        f"events {dict(figures.events)}"
    )
    assert figures.signed >= target
    assert figures.answers[500] == 0


# What the fuzz found, pinned.


def test_a_body_nested_deeper_than_meta_ever_nests_is_refused_and_nothing_is_stored(client, t):
    deep = "[" * (intake.MAX_NESTING + 1) + "]" * (intake.MAX_NESTING + 1)
    message = json.dumps(payloads.text()).replace('"Does it come in another color?"', deep)
    body = json.dumps(envelope(payloads.value([{}]))).replace("{}", message).encode()

    response = payloads.post(client, body)

    assert response.status_code == 400 and b"nested more than 64 levels deep" in response.content
    assert not WebhookEvent.objects.exists()
    assert payloads.post(client, envelope(payloads.value([payloads.text({"a": [[[[["fine"]]]]]})]))).status_code == 200


def test_a_contact_name_with_nul_characters_becomes_a_storable_customer_name(client, t):
    contact = payloads.contact(name="Shee\x00na")

    assert payloads.post(client, envelope(payloads.value([payloads.text()], contacts=[contact]))).status_code == 200

    assert t.Customer.objects.get().name == "Sheena"
    assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED


@pytest.mark.parametrize("phones", [1.5, True])
def test_a_shared_contact_whose_phones_are_not_a_list_is_stored_by_name(client, t, phones):
    shared = [{"name": {"formatted_name": "Barbara J. Johnson"}, "phones": phones}]

    payloads.post(client, envelope(payloads.value([payloads.message("contacts", shared)])))

    assert t.Message.objects.get().message == "Contact: Barbara J. Johnson"


def test_a_location_with_a_number_too_big_for_a_float_is_stored_without_it(client, t):
    body = json.dumps(envelope(payloads.value([payloads.message("location", {"name": "Philz", "latitude": 0})])))
    body = body.replace('"latitude": 0', '"latitude": 1' + "0" * 400 + ', "longitude": 2').encode()

    payloads.post(client, body)

    assert t.Message.objects.get().message == "Location: Philz"
