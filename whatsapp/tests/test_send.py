"""Sending text and media: queued row first, the task calls the fake Graph API, sent or failed, resend."""

import datetime as dt
import threading
import time

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.utils import timezone

from agents import tables
from crm.tests.fixtures import PHONE_NUMBER_ID, add_inbound
from whatsapp import delivery, send

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def send_text(shop, customer, text="Hello Maria!", key="key-1", **kwargs):
    return send.send_text(shop.agent, customer, text, sent_by=shop.user, idempotency_key=key, **kwargs)


def test_a_text_is_queued_first_then_sent_with_metas_message_id(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)
        queued = connected_shop.tables.Message.objects.get(pk=message.pk)
        assert (queued.status, queued.wamid, queued.direction) == ("queued", None, "outbound")
        assert fake_graph.calls("/messages") == []

    message.refresh_from_db()
    [call] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/messages")
    assert call.authorization == "Bearer shop-access-token"
    assert call.json == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5511987654321",
        "type": "text",
        "text": {"body": "Hello Maria!", "preview_url": False},
    }
    [on_the_phone] = fake_graph.conversation(PHONE_NUMBER_ID, "5511987654321")
    assert message.status == "sent" and message.wamid == on_the_phone["wamid"]
    assert message.payload == call.json and message.message == "Hello Maria!"
    assert message.sent_by == connected_shop.user.pk and message.is_read
    maria.refresh_from_db()
    assert maria.last_message_at == message.timestamp


def test_a_reply_quotes_the_message_it_answers(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria, reply_to_wamid="wamid.from-maria")

    assert fake_graph.sent_messages()[0]["context"] == {"message_id": "wamid.from-maria"}
    assert connected_shop.tables.Message.objects.get(pk=message.pk).context_wamid == "wamid.from-maria"


@pytest.mark.parametrize(
    "ago, is_open",
    [
        (dt.timedelta(hours=23, minutes=59), True),
        (dt.timedelta(hours=24, minutes=1), False),
    ],
)
def test_the_window_is_open_until_24_hours_after_the_last_inbound_message(connected_shop, maria, ago, is_open):
    now = timezone.now()
    connected_shop.tables.Message.objects.all().delete()
    last = add_inbound(connected_shop.tables, maria, ago=ago)
    connected_shop.tables.Message.objects.create(
        customer=maria, message="our reply", direction="outbound", timestamp=now
    )

    state = send.window(connected_shop.tables, maria, now=now)

    assert state.is_open is is_open
    assert state.last_inbound_at == last.timestamp
    assert state.closes_at == last.timestamp + dt.timedelta(hours=24)


def test_free_form_is_sent_at_23h59_and_refused_at_24h01(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    connected_shop.tables.Message.objects.all().delete()
    inbound = add_inbound(connected_shop.tables, maria, ago=dt.timedelta(hours=23, minutes=59))
    with django_capture_on_commit_callbacks(execute=True):
        assert send_text(connected_shop, maria, key="in-window").pk

    connected_shop.tables.Message.objects.filter(pk=inbound.pk).update(
        timestamp=timezone.now() - dt.timedelta(hours=24, minutes=1)
    )
    with pytest.raises(send.SendError, match="More than 24 hours") as refused:
        send_text(connected_shop, maria, key="out-of-window")

    assert refused.value.code == "window_closed"
    assert not connected_shop.tables.Message.objects.filter(idempotency_key="out-of-window").exists()
    assert len(fake_graph.sent_messages()) == 1


def test_a_customer_who_never_wrote_can_only_get_a_template(connected_shop, maria):
    stranger = connected_shop.tables.Customer.objects.create(name="New", phone="+14155550000")

    assert send.window(connected_shop.tables, stranger) == send.Window(False, None, None)
    with pytest.raises(send.SendError) as refused:
        send.send_text(connected_shop.agent, stranger, "hi", sent_by=connected_shop.user, idempotency_key="k")
    assert refused.value.code == "window_closed"


def test_a_double_submit_sends_once(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = send_text(connected_shop, maria, key="double-click")
    with django_capture_on_commit_callbacks(execute=True):
        second = send_text(connected_shop, maria, key="double-click")

    assert first.pk == second.pk
    assert connected_shop.tables.Message.objects.filter(idempotency_key="double-click").count() == 1
    assert len(fake_graph.sent_messages()) == 1


@pytest.mark.postgres
def test_two_simultaneous_submits_of_one_form_send_once(committed_db, connected_shop, maria, fake_graph):
    agent, agent_tables, customer = connected_shop.agent, connected_shop.tables, maria
    start = threading.Barrier(2)
    results, errors = [], []

    def submit():
        try:
            start.wait()
            results.append(send.send_text(agent, customer, "once", sent_by=None, idempotency_key="same-form").pk)
        except Exception as error:  # surfaced by the assertions below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [] and len(set(results)) == 1
    assert agent_tables.Message.objects.filter(idempotency_key="same-form").count() == 1
    assert len(fake_graph.sent_messages()) == 1


def test_an_idempotency_key_cannot_be_reused_for_another_customer(
    connected_shop, maria, django_capture_on_commit_callbacks
):
    other = connected_shop.tables.Customer.objects.create(name="Bo", phone="+14155550000")
    add_inbound(connected_shop.tables, other)
    with django_capture_on_commit_callbacks(execute=True):
        send_text(connected_shop, maria, key="k")

    with pytest.raises(send.SendError, match="already used"):
        send.send_text(connected_shop.agent, other, "hi", sent_by=None, idempotency_key="k")


@pytest.mark.parametrize("key", [None, "", "   ", "x" * 201])
def test_a_send_needs_an_idempotency_key(connected_shop, maria, key):
    with pytest.raises(send.SendError) as refused:
        send_text(connected_shop, maria, key=key)
    assert refused.value.code == "no_key"


@pytest.mark.parametrize("text, code", [("", "empty"), ("   \n ", "empty"), ("x" * 4097, "too_long")])
def test_bad_text_is_refused_and_nothing_is_written(connected_shop, maria, fake_graph, text, code):
    before = connected_shop.tables.Message.objects.count()

    with pytest.raises(send.SendError) as refused:
        send_text(connected_shop, maria, text=text)

    assert refused.value.code == code
    assert connected_shop.tables.Message.objects.count() == before and fake_graph.requests == []


def test_an_agent_cannot_send_to_another_agents_customer(connected_shop, maria, agent_b):
    other_tables = tables.for_agent(agent_b)
    their_customer = other_tables.Customer.objects.create(name="Theirs", phone="+14155550000")

    with pytest.raises(send.SendError, match="does not belong"):
        send.send_text(connected_shop.agent, their_customer, "hi", sent_by=None, idempotency_key="k")
    with pytest.raises(send.SendError, match="does not belong"):
        send.send_text(connected_shop.agent, None, "hi", sent_by=None, idempotency_key="k")


def test_an_agent_without_a_whatsapp_number_is_told_so(connected_shop, maria):
    connected_shop.configuration.is_active = False
    connected_shop.configuration.save()

    with pytest.raises(send.SendError, match="no active WhatsApp number") as refused:
        send_text(connected_shop, maria)
    assert refused.value.code == "no_configuration"


def test_a_failed_send_shows_metas_reason_and_can_be_resent(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    fake_graph.fail_next(1, "131026")
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert (message.status, message.error_code, message.error_title) == ("failed", 131026, "Message Undeliverable")
    assert send.failure_reason(message).startswith("Message Undeliverable: Unable to deliver message.")
    assert len(fake_graph.calls("/messages")) == 1  # undeliverable is not retried

    with django_capture_on_commit_callbacks(execute=True):
        resent = send.resend(connected_shop.agent, message, sent_by=connected_shop.user)
        assert resent.status == "queued" and resent.error_code is None

    resent.refresh_from_db()
    assert resent.pk == message.pk
    assert (resent.status, resent.error_code, resent.error_title, resent.error_detail) == ("sent", None, None, None)
    assert resent.wamid and send.failure_reason(resent) == ""
    assert len(fake_graph.sent_messages()) == 2


def test_a_second_click_on_resend_sends_once(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    fake_graph.fail_next(1, "131026")
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)
    message.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        send.resend(connected_shop.agent, message, sent_by=connected_shop.user)
        with pytest.raises(send.SendError, match="Only a message that failed"):
            send.resend(
                connected_shop.agent,
                connected_shop.tables.Message.objects.get(pk=message.pk),
                sent_by=connected_shop.user,
            )

    assert len(fake_graph.sent_messages()) == 2


def test_a_transient_failure_is_retried_inside_the_send(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    fake_graph.fail_next(2, "500")
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert message.status == "sent"
    assert len(fake_graph.calls("/messages")) == 3


@pytest.mark.parametrize("error, code, calls", [("190", 190, 1), ("131047", 131047, 1)])
def test_a_send_that_cannot_get_through_fails_with_metas_error(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks, error, code, calls
):
    fake_graph.fail_next(5, error)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", code)
    assert message.error_detail
    assert len(fake_graph.calls("/messages")) == calls


@pytest.mark.parametrize(
    "fault, reason",
    [
        ("500", "Something went wrong"),
        ("429", "Rate limit hit"),
        ("timeout", "Meta did not answer in time"),
        ("connect_timeout", "Could not connect to Meta in time"),
    ],
)
def test_a_send_failing_on_all_five_attempts_is_failed_with_the_reason_and_a_resend_sends_it_once(
    connected_shop, maria, fake_graph, settings, caplog, django_capture_on_commit_callbacks, fault, reason
):
    settings.WHATSAPP_GRAPH_CONNECT_TIMEOUT, settings.WHATSAPP_GRAPH_READ_TIMEOUT = 0.1, 0.1
    if fault == "connect_timeout":
        fake_graph.refuse_connections(1.0)
        door_opens = time.monotonic() + 1.0
    else:
        fake_graph.fail_next(5, fault, delay=0.3, sends_only=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert (message.status, message.error_title) == ("failed", reason)
    assert send.failure_reason(message).startswith(reason)
    assert sum("retrying in" in record.getMessage() for record in caplog.records) == 4  # five attempts
    assert fake_graph.accepted_messages() == []  # every failure was unambiguous: nothing reached the customer

    if fault == "connect_timeout":
        time.sleep(max(0.0, door_opens - time.monotonic()))
    with django_capture_on_commit_callbacks(execute=True):
        send.resend(connected_shop.agent, message, sent_by=connected_shop.user)
    message.refresh_from_db()
    assert message.status == "sent"
    [accepted] = fake_graph.accepted_messages()
    assert accepted["wamid"] == message.wamid


def test_a_send_through_a_500_a_429_and_a_timeout_is_sent_once(
    connected_shop, maria, fake_graph, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_GRAPH_READ_TIMEOUT = 0.1
    for fault in ("500", "429", "timeout"):
        fake_graph.fail_next(1, fault, delay=0.3, sends_only=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert message.status == "sent"
    assert len(fake_graph.calls("/messages")) == 4
    assert [entry["wamid"] for entry in fake_graph.accepted_messages()] == [message.wamid]


def test_a_timed_out_send_fails_with_a_reason(
    connected_shop, maria, fake_graph, settings, django_capture_on_commit_callbacks
):
    settings.WHATSAPP_GRAPH_READ_TIMEOUT = 0.1
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 1
    fake_graph.fail_next(1, "timeout", delay=0.3)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    message.refresh_from_db()
    assert message.status == "failed" and message.error_code is None
    assert send.failure_reason(message).startswith("Meta did not answer in time")


def test_resend_refuses_what_did_not_fail_and_free_form_outside_the_window(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)
    message.refresh_from_db()
    with pytest.raises(send.SendError, match="Only a message that failed"):
        send.resend(connected_shop.agent, message, sent_by=None)

    connected_shop.tables.Message.objects.filter(pk=message.pk).update(status="failed")
    connected_shop.tables.Message.objects.filter(direction="inbound").update(
        timestamp=timezone.now() - dt.timedelta(days=2)
    )
    with pytest.raises(send.SendError) as refused:
        send.resend(connected_shop.agent, connected_shop.tables.Message.objects.get(pk=message.pk), sent_by=None)
    assert refused.value.code == "window_closed"


def test_the_send_task_is_idempotent(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)

    assert delivery.deliver(connected_shop.agent.id, message.pk) == "not queued"
    assert delivery.deliver(connected_shop.agent.id, 999_999) == "not queued"
    assert delivery.deliver(999_999, message.pk) == "agent gone"
    assert len(fake_graph.sent_messages()) == 1


def test_a_send_held_by_a_live_worker_is_left_alone_until_its_lease_ends(connected_shop, maria, fake_graph):
    message = connected_shop.tables.Message.objects.create(
        customer=maria,
        message="queued",
        direction="outbound",
        status="queued",
        status_at=timezone.now(),
        payload=send._payload(maria, "text", {"body": "queued"}),
        wa_type="text",
    )
    assert delivery.deliver(connected_shop.agent.id, message.pk) == "not queued"

    connected_shop.tables.Message.objects.filter(pk=message.pk).update(status_at=timezone.now() - delivery.SEND_LEASE)
    assert delivery.deliver(connected_shop.agent.id, message.pk) == "sent"
    assert len(fake_graph.sent_messages()) == 1


def test_a_send_whose_number_was_disconnected_meanwhile_fails_with_the_reason(connected_shop, maria, fake_graph):
    message = connected_shop.tables.Message.objects.create(
        customer=maria,
        message="queued",
        direction="outbound",
        status="queued",
        payload=send._payload(maria, "text", {"body": "queued"}),
        wa_type="text",
    )
    connected_shop.configuration.delete()

    assert delivery.deliver(connected_shop.agent.id, message.pk) == "failed"
    message.refresh_from_db()
    assert message.error_title == "No WhatsApp number connected"


# Media.


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_an_image_is_uploaded_to_meta_and_sent_by_its_id(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_media(
            connected_shop.agent,
            maria,
            upload("mug.png", PNG),
            caption="The blue mug",
            sent_by=connected_shop.user,
            idempotency_key="img",
        )
        queued = connected_shop.tables.Message.objects.get(pk=message.pk)
        assert (queued.status, queued.media_type, queued.caption) == ("queued", "image", "The blue mug")

    message.refresh_from_db()
    [uploaded] = fake_graph.calls(f"/{PHONE_NUMBER_ID}/media")
    assert uploaded.file[1:] == ("image/png", PNG) and uploaded.form["type"] == "image/png"
    [sent] = fake_graph.sent_messages()
    assert sent["type"] == "image" and sent["image"] == {"caption": "The blue mug", "id": message.media_id}
    assert (message.status, message.media_mime_type, message.message) == ("sent", "image/png", "The blue mug")
    assert message.payload == sent
    with default_storage.open(message.media_url) as stored:
        assert stored.read() == PNG


def test_a_document_keeps_its_file_name_on_the_customers_phone(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_media(
            connected_shop.agent, maria, upload("Invoice 42.pdf", b"%PDF-1.7 ..."), sent_by=None, idempotency_key="doc"
        )

    [sent] = fake_graph.sent_messages()
    assert sent["document"]["filename"] == "Invoice_42.pdf"
    message.refresh_from_db()
    assert (message.media_type, message.message, message.caption) == ("document", "Invoice_42.pdf", None)


@pytest.mark.parametrize(
    "name, content, caption, code",
    [
        ("anim.gif", b"GIF89a", "", "unsupported_type"),
        ("noextension", b"data", "", "unsupported_type"),
        ("fake.jpg", PNG, "", "unsupported_type"),
        ("clip.mp4", b"not a video at all", "", "unsupported_type"),
        ("empty.png", b"", "", "empty_file"),
        ("voice.ogg", b"OggS" + b"\x00" * 20, "a caption", "caption_not_allowed"),
        ("mug.jpg", JPEG, "x" * 1025, "too_long"),
    ],
)
def test_media_outside_the_cloud_apis_types_is_refused(connected_shop, maria, fake_graph, name, content, caption, code):
    with pytest.raises(send.SendError) as refused:
        send.send_media(
            connected_shop.agent, maria, upload(name, content), caption=caption, sent_by=None, idempotency_key="m"
        )
    assert refused.value.code == code
    assert not connected_shop.tables.Message.objects.filter(idempotency_key="m").exists()


def test_media_above_the_cloud_apis_size_limit_is_refused(connected_shop, maria):
    too_big = upload("big.png", PNG + b"\x00" * (5 * 1024 * 1024))

    with pytest.raises(send.SendError, match="up to 5 MB") as refused:
        send.send_media(connected_shop.agent, maria, too_big, sent_by=None, idempotency_key="m")
    assert refused.value.code == "too_large"


def test_no_file_is_refused(connected_shop, maria):
    with pytest.raises(send.SendError) as refused:
        send.send_media(connected_shop.agent, maria, None, sent_by=None, idempotency_key="m")
    assert refused.value.code == "no_file"


@pytest.mark.parametrize(
    "name, content, media_type",
    [
        ("clip.mp4", b"\x00\x00\x00\x18ftypmp42", "video"),
        ("note.m4a", b"\x00\x00\x00\x18ftypM4A ", "audio"),
        ("song.mp3", b"ID3\x03", "audio"),
        ("sheet.xlsx", b"PK\x03\x04rest", "document"),
    ],
)
def test_each_media_kind_is_sent_as_its_whatsapp_type(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks, name, content, media_type
):
    with django_capture_on_commit_callbacks(execute=True):
        send.send_media(connected_shop.agent, maria, upload(name, content), sent_by=None, idempotency_key=name)

    [sent] = fake_graph.sent_messages()
    assert sent["type"] == media_type and sent[media_type]["id"]


def test_a_double_submitted_file_is_stored_and_sent_once(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = send.send_media(connected_shop.agent, maria, upload("mug.png", PNG), sent_by=None, idempotency_key="i")
        second = send.send_media(connected_shop.agent, maria, upload("mug.png", PNG), sent_by=None, idempotency_key="i")

    assert first.pk == second.pk
    assert len(fake_graph.calls("/media")) == 1 and len(fake_graph.sent_messages()) == 1
    _, files = default_storage.listdir(default_storage.path(first.media_url).rsplit("/", 2)[0])
    assert files == []


def test_a_failed_upload_shows_its_reason_and_the_resend_uploads_again(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    fake_graph.fail_next(5, "500", path="/media")
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_media(
            connected_shop.agent, maria, upload("mug.png", PNG), sent_by=None, idempotency_key="i"
        )
    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", 131000)

    with django_capture_on_commit_callbacks(execute=True):
        send.resend(connected_shop.agent, message, sent_by=None)

    message.refresh_from_db()
    assert message.status == "sent" and message.media_id
    assert len(fake_graph.calls("/media")) == 6


def test_a_stored_file_that_disappeared_fails_the_send_with_a_reason(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message = send.send_media(
            connected_shop.agent, maria, upload("mug.png", PNG), sent_by=None, idempotency_key="i"
        )
    default_storage.delete(message.media_url)
    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert (message.status, message.error_title) == ("failed", "The attached file could not be read")
