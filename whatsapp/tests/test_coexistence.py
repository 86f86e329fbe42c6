"""A number onboarded from the WhatsApp Business app: the seller's messages from the phone (echoes), the chat
history Meta shares at onboarding, and the app's contacts."""

import datetime as dt
import time

import pytest
from django.urls import reverse

from whatsapp import coexistence
from whatsapp.models import HistoryImport

from . import payloads
from .payloads import DISPLAY_PHONE_NUMBER, PHONE, PHONE_NUMBER_ID, notification, post

pytestmark = pytest.mark.django_db

METADATA = {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": PHONE_NUMBER_ID}
# webhooks/reference/smb_message_echoes: the seller's text, sent from the app.
ECHO = {
    "from": DISPLAY_PHONE_NUMBER,
    "to": "16505551234",
    "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0N0FCNjMA",
    "timestamp": "1739321024",
    "type": "text",
    "text": {"body": "Here's the info you requested! https://www.meta.com/quest/quest-3/"},
}


def deliver(client, value, field):
    assert post(client, notification(value, field=field)).status_code == 200


def echoes(*echo):
    return {"messaging_product": "whatsapp", "metadata": METADATA, "message_echoes": list(echo)}


def test_an_echo_is_an_outbound_message_of_the_conversation_stored_once(client, t):
    deliver(client, echoes(ECHO), "smb_message_echoes")
    deliver(client, echoes(ECHO), "smb_message_echoes")

    row = t.Message.objects.get()
    assert (row.direction, row.status, row.is_read, row.customer.phone) == ("outbound", "sent", True, PHONE)
    assert row.message == ECHO["text"]["body"]
    assert row.timestamp == dt.datetime.fromtimestamp(1739321024, tz=dt.UTC)
    assert row.customer.unread_count == 0


def test_an_echo_and_the_customers_messages_share_the_conversation_in_any_order(client, t):
    deliver(client, echoes(ECHO), "smb_message_echoes")
    post(client, notification(payloads.value([payloads.text()])))
    deliver(client, echoes(ECHO), "smb_message_echoes")
    assert t.Customer.objects.count() == 1
    assert sorted(t.Message.objects.values_list("direction", flat=True)) == ["inbound", "outbound"]


def test_our_own_send_is_never_doubled_by_an_echo(
    connected_shop, maria, fake_graph, client, monkeypatch, django_capture_on_commit_callbacks
):
    from crm.tests.fixtures import PHONE_NUMBER_ID as SHOP_NUMBER_ID
    from whatsapp import send

    monkeypatch.setattr("fakegraph.server.new_wamid", lambda: "wamid.ours")
    echo = {**ECHO, "id": "wamid.ours", "to": "5511987654321"}
    shop_echoes = {**echoes(echo), "metadata": {**METADATA, "phone_number_id": SHOP_NUMBER_ID}}
    # Echoed before our send task recorded the wamid, and again after.
    deliver(client, shop_echoes, "smb_message_echoes")
    with django_capture_on_commit_callbacks(execute=True):
        send.send_text(connected_shop.agent, maria, "Hello", sent_by=connected_shop.user, idempotency_key="k")
    deliver(client, shop_echoes, "smb_message_echoes")

    [ours] = connected_shop.tables.Message.objects.outbound()
    assert (ours.wamid, ours.idempotency_key, ours.status) == ("wamid.ours", "k", "sent")


def history_chunk(phase, order, progress, threads):
    return {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "history": [{"metadata": {"phase": phase, "chunk_order": order, "progress": progress}, "threads": threads}],
    }


# webhooks/reference/history: two threads, with a media placeholder.
DOCS_HISTORY = history_chunk(
    0,
    1,
    55,
    [
        {
            "id": "16505551234",
            "messages": [
                {
                    "from": DISPLAY_PHONE_NUMBER,
                    "id": "wamid.HBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0N0FCNjMA",
                    "timestamp": "1739230955",
                    "type": "text",
                    "text": {"body": "Here's the info you requested! https://www.meta.com/quest/quest-3/"},
                    "history_context": {"status": "READ"},
                },
                {
                    "from": DISPLAY_PHONE_NUMBER,
                    "id": "wamid.QyNUEHBgLMTY0NjcwNDM1OTUVAgARGBI1Rj3NEYxMzAzMzQ5MkEA",
                    "timestamp": "1739230970",
                    "type": "media_placeholder",
                    "history_context": {"status": "PLAYED"},
                },
                {
                    "from": "16505551234",
                    "id": "wamid.N0FCNjMAHBgLMTY0NjcwNDM1OTUVAgARGBIyNDlBOEI5QUQ4NDc0",
                    "timestamp": "1739230970",
                    "type": "text",
                    "text": {"body": "Thanks!"},
                    "history_context": {"status": "READ"},
                },
            ],
        },
        {
            "id": "12125557890",
            "messages": [
                {
                    "from": DISPLAY_PHONE_NUMBER,
                    "id": "wamid.BIyNDlBOEI5N0FCNjMAHBgLMTY0NjcwNDM1OTUVAgARGQUQ4NDc0",
                    "timestamp": "1739230970",
                    "type": "text",
                    "text": {"body": "Thanks for your order! As a thank you, use code THANKS30."},
                    "history_context": {"status": "DELIVERED"},
                }
            ],
        },
    ],
)
MEDIA_CONTENT = {
    "messaging_product": "whatsapp",
    "metadata": METADATA,
    "messages": [
        {
            "from": "16505551234",
            "id": "wamid.QyNUEHBgLMTY0NjcwNDM1OTUVAgARGBI1Rj3NEYxMzAzMzQ5MkEA",
            "timestamp": "1738796547",
            "type": "image",
            "image": {"caption": "Black Prince echeveria", "mime_type": "image/jpeg", "id": "24230790383178626"},
        }
    ],
}


def test_the_history_of_metas_example_is_imported_with_its_times_directions_and_statuses(
    client, t, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, DOCS_HISTORY, "history")
        deliver(client, DOCS_HISTORY, "history")  # re-delivered: the same import
    deliver(client, MEDIA_CONTENT, "history")  # Meta sends the media's content afterwards

    rows = list(t.Message.objects.order_by("timestamp", "id"))
    assert [(m.direction, m.status, m.customer.phone) for m in rows] == [
        ("outbound", "read", PHONE),
        ("outbound", "read", PHONE),
        ("inbound", None, PHONE),
        ("outbound", "delivered", "+12125557890"),
    ]
    assert rows[0].timestamp == dt.datetime.fromtimestamp(1739230955, tz=dt.UTC)
    assert (rows[1].wa_type, rows[1].caption) == ("image", "Black Prince echeveria")
    assert all(m.is_read for m in rows) and HistoryImport.objects.get().state == "done"


def test_a_declined_history_is_noted(client, t):
    from whatsapp.models import WebhookEvent

    declined = {
        "messaging_product": "whatsapp",
        "metadata": METADATA,
        "history": [
            {
                "errors": [
                    {
                        "code": 2593109,
                        "title": "History sync is turned off by the business from the WhatsApp Business App",
                        "message": "History sync is turned off by the business from the WhatsApp Business App",
                        "error_data": {"details": "History sharing is turned off by the business"},
                    }
                ]
            }
        ],
    }
    deliver(client, declined, "history")
    assert "history not shared: History sync is turned off" in WebhookEvent.objects.get().summary


THREADS, PER_THREAD, CHUNKS = 500, 100, 10  # 50,000 messages in 10 chunks of 5,000


def big_chunk(order):
    base = 1_700_000_000
    threads = []
    for n in range(THREADS // CHUNKS):
        thread = (order - 1) * (THREADS // CHUNKS) + n
        number = f"1650555{thread:04d}"
        threads.append(
            {
                "id": number,
                "messages": [
                    {
                        "from": DISPLAY_PHONE_NUMBER if k % 2 else number,
                        "id": f"wamid.history.{thread}.{k}",
                        "timestamp": str(base + thread * 1000 + k),
                        "type": "text",
                        "text": {"body": f"message {k} of thread {thread}"},
                        "history_context": {"status": "READ"},
                    }
                    for k in range(PER_THREAD)
                ],
            }
        )
    return history_chunk(1, order, order * 10, threads)


@pytest.mark.postgres
def test_fifty_thousand_messages_in_chunks_interrupted_and_resumed_are_stored_once(
    client, t, agent, monkeypatch, django_capture_on_commit_callbacks
):
    store = coexistence._store_batch
    calls = {"n": 0}

    def failing_third_batch(tables, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise ConnectionError("the worker was stopped")
        store(tables, rows)

    started = time.monotonic()
    monkeypatch.setattr(coexistence, "_store_batch", failing_third_batch)
    # Out of order: the last chunk first, then the others; the first import breaks in its third batch.
    orders = [CHUNKS, *range(1, CHUNKS)]
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, big_chunk(orders[0]), "history")
    interrupted = HistoryImport.objects.get()
    assert (interrupted.state, interrupted.imported) == ("failed", 2 * coexistence.BATCH_SIZE)
    assert "the worker was stopped" in interrupted.error
    monkeypatch.setattr(coexistence, "_store_batch", store)
    for order in orders[1:]:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(client, big_chunk(order), "history")
    stopped = coexistence.history_progress(agent)
    assert (stopped.done, stopped.failed, stopped.imported) == (False, 1, 49_000)

    with django_capture_on_commit_callbacks(execute=True):
        assert coexistence.resume_history_imports() == 1  # the periodic upkeep takes it up again
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, big_chunk(3), "history")  # a chunk delivered twice
    elapsed = time.monotonic() - started

    assert t.Message.objects.count() == THREADS * PER_THREAD
    assert t.Customer.objects.count() == THREADS
    assert t.Message.objects.filter(direction="outbound").count() == THREADS * PER_THREAD // 2
    progress = coexistence.history_progress(agent)
    assert (progress.done, progress.imported, progress.total) == (True, 50_000, 50_000)
    newest = t.Customer.objects.get(phone="+16505550499")
    assert newest.last_message_at == dt.datetime.fromtimestamp(1_700_000_000 + 499 * 1000 + 99, tz=dt.UTC)
    print(f"50,000 history messages imported in {elapsed:.1f} s")


def test_the_inbox_shows_the_history_import_progress(client, connect_number, seller, agent_a):
    connect_number(agent=agent_a)
    deliver(type(client)(), history_chunk(0, 1, 40, []), "history")
    page = client.get(reverse("inbox")).content.decode()
    assert "WhatsApp Business app" in page and "40%" in page


def state_sync(action, contact):
    item = {"type": "contact", "contact": contact, "action": action, "metadata": {"timestamp": "1739321024"}}
    return {"messaging_product": "whatsapp", "metadata": METADATA, "state_sync": [item]}


def test_the_business_apps_contacts_become_or_name_customers(client, t):
    # webhooks/reference/smb_app_state_sync
    pablo = {"full_name": "Pablo Morales", "first_name": "Pablo", "phone_number": "16505551234"}
    deliver(client, state_sync("add", pablo), "smb_app_state_sync")
    deliver(client, state_sync("add", pablo), "smb_app_state_sync")
    assert list(t.Customer.objects.values_list("name", "phone")) == [("Pablo Morales", PHONE)]

    t.Customer.objects.create(name="+12125557890", phone="+12125557890")
    deliver(client, state_sync("add", {"full_name": "Ana Lima", "phone_number": "12125557890"}), "smb_app_state_sync")
    t.Customer.objects.filter(phone=PHONE).update(name="Pablo (wholesale)")
    deliver(client, state_sync("add", {**pablo, "full_name": "P. Morales"}), "smb_app_state_sync")
    deliver(client, state_sync("remove", {"phone_number": "16505551234"}), "smb_app_state_sync")

    assert dict(t.Customer.objects.values_list("phone", "name")) == {
        PHONE: "Pablo (wholesale)",
        "+12125557890": "Ana Lima",
    }
