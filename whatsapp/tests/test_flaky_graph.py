"""Sending while the Graph API fails a fifth of its calls at random: 429 with Retry-After, 500, connect
timeouts (nothing reaches Meta) and read timeouts after Meta accepted the message (the customer got it, the
app was never told).

Every queued message must end sent, or failed for a reason: one that cannot succeed, or transient failures on
every one of its 5 attempts. Where every failure was unambiguous, the fake accepted the message exactly once;
only a read timeout after acceptance may make a second copy. Every call ends within its timeout and every
wait between attempts is bounded.
"""

import logging
import random
import re
from collections import defaultdict

import pytest

from whatsapp import graph, send

pytestmark = pytest.mark.django_db

MESSAGES = 60
DOOMED = set(range(5, MESSAGES, 8))  # Meta refuses these for good (131026: not a WhatsApp number)
CONNECT_TIMEOUT, READ_TIMEOUT, BACKOFF_MAX = 0.2, 0.3, 1.0
HELD = 4.0  # how long the fake keeps a caller waiting on a timeout: far past the client's read timeout
FIRST_FAULTS = {1: "timeout_after_accepting", 2: "429", 3: "500"}
RETRY = re.compile(r"attempt (\d) of (\d), retrying in ([0-9.]+)s")


@pytest.fixture
def flaky_client(settings):
    settings.WHATSAPP_GRAPH_CONNECT_TIMEOUT = CONNECT_TIMEOUT
    settings.WHATSAPP_GRAPH_READ_TIMEOUT = READ_TIMEOUT
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 5
    # The first wait (0.1-0.2 s) outlasts the door the fake closes for a connect timeout (connect_hold below).
    settings.WHATSAPP_GRAPH_BACKOFF_BASE = 0.2
    settings.WHATSAPP_GRAPH_BACKOFF_MAX = BACKOFF_MAX


def test_every_message_ends_sent_or_failed_for_a_reason_and_none_is_sent_twice_unless_meta_kept_quiet(
    connected_shop, maria, fake_graph, flaky_client, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="whatsapp.graph")
    seed = random.randrange(10**6)
    with django_capture_on_commit_callbacks() as sends:
        messages = [
            send.send_text(
                connected_shop.agent, maria, f"Message {n}", sent_by=connected_shop.user, idempotency_key=f"flaky-{n}"
            )
            for n in range(MESSAGES)
        ]
    assert len(sends) == MESSAGES and {m.status for m in messages} == {"queued"}
    fake_graph.fail_at_random(0.2, seed=seed, retry_after=("0",), delay=HELD, connect_hold=CONNECT_TIMEOUT + 0.1)

    # The worker runs the sends one after the other; the client's log says how each went. The first four
    # meet one fault of each kind for sure, whatever the draws.
    attempts, waits = {}, []
    for n, run_send in enumerate(sends):
        if n in DOOMED:
            fake_graph.fail_next(1, "131026", sends_only=True)
        elif n == 0:
            fake_graph.refuse_connections(CONNECT_TIMEOUT + 0.1)
        elif n in FIRST_FAULTS:
            fake_graph.fail_next(1, FIRST_FAULTS[n], retry_after="1", delay=HELD, sends_only=True)
        first = len(caplog.records)
        run_send()
        retries = [RETRY.search(record.getMessage()) for record in caplog.records[first:]]
        retries = [match for match in retries if match]
        attempts[n] = 1 + len(retries)
        waits += [float(match.group(3)) for match in retries]
    fake_graph.chaos = None

    calls = defaultdict(list)
    for call in fake_graph.calls("/messages"):
        calls[call.json["text"]["body"]].append(call.at)
    accepted = defaultdict(list)
    for entry in fake_graph.accepted_messages():
        accepted[entry["text"]].append(entry)
    outcomes = defaultdict(int)
    for n, message in enumerate(messages):
        message.refresh_from_db()
        text = f"Message {n}"
        copies = accepted[text]
        withheld = [entry for entry in copies if entry.get("answer_withheld")]
        assert 1 <= attempts[n] <= 5, (n, attempts[n])
        assert len(calls[text]) <= attempts[n]  # a refused connection never reached the fake
        if message.status == "sent":
            outcomes["sent"] += 1
            assert message.wamid in {entry["wamid"] for entry in copies}
            # A copy beyond the first only where Meta accepted it and never answered (the retry could not know).
            assert len(copies) == 1 + len(withheld) - bool(copies[-1].get("answer_withheld")), (n, copies)
        else:
            assert message.status == "failed" and send.failure_reason(message), (n, message.status)
            assert len(copies) == len(withheld), (n, copies)
            if n in DOOMED or message.error_code in graph.PERMANENT_CODES:
                outcomes["failed: cannot succeed"] += 1
                assert message.error_code == 131026
            else:
                outcomes["failed: transient on every attempt"] += 1
                assert attempts[n] == 5, (n, attempts[n], message.error_title)
        # Each timed-out call gave up within the client's timeouts: the next attempt came long before the
        # fake would have answered.
        for earlier, later in zip(calls[text], calls[text][1:], strict=False):
            assert later - earlier < READ_TIMEOUT + CONNECT_TIMEOUT + 2 * BACKOFF_MAX + 1.0 < HELD, (n, later - earlier)
    assert all(wait <= BACKOFF_MAX for wait in waits), max(waits)
    assert sum(outcomes.values()) == MESSAGES
    assert outcomes["sent"] >= MESSAGES - len(DOOMED) - 2

    connect_timeouts = sum("ConnectTimeout" in record.getMessage() for record in caplog.records)
    read_timeouts = sum("Read timed out" in record.getMessage() for record in caplog.records)
    injected = dict(fake_graph.injected)
    transient = sum(count for kind, count in injected.items() if kind != "131026")
    total_calls = len(fake_graph.calls("/messages")) + connect_timeouts
    print(
        f"\nflaky Graph API (seed {seed}): {MESSAGES} messages queued; {dict(outcomes)}; "
        f"{total_calls} calls of which {transient} met a transient fault ({injected}); the client saw "
        f"{connect_timeouts} connect timeouts and {read_timeouts} read timeouts; the fake accepted "
        f"{sum(map(len, accepted.values()))} messages for {outcomes['sent']} sent; "
        f"longest wait {max(waits, default=0):.2f}s"
    )
    assert connect_timeouts and read_timeouts and injected["429"] and injected["500"]
