"""The webhook's HTTP contract: handshake, signatures, limits, bad input, durable storage."""

import json

import pytest
from django.db import connection
from django.test import override_settings

from whatsapp import signatures
from whatsapp.models import WebhookEvent
from whatsapp.views import webhook

from . import payloads
from .payloads import post

pytestmark = pytest.mark.django_db


def test_handshake_echoes_the_challenge_when_the_verify_token_matches(client):
    response = client.get(
        "/whatsapp/webhook/",
        {"hub.mode": "subscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158201444"},
    )
    assert response.status_code == 200
    assert response.content == b"1158201444"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong-token", "hub.challenge": "1158201444"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "test-verify-token", "hub.challenge": "1158201444"},
        {"hub.mode": "subscribe", "hub.challenge": "1158201444"},
        {},
    ],
)
def test_handshake_with_a_wrong_token_or_mode_is_forbidden(client, params):
    response = client.get("/whatsapp/webhook/", params)
    assert response.status_code == 403
    assert b"1158201444" not in response.content


def test_a_signed_notification_is_stored_and_answered_200(client, t):
    response = post(client, payloads.notification(payloads.value([payloads.text()])))

    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert json.loads(event.body)["entry"][0]["id"] == payloads.BUSINESS_ACCOUNT_ID
    assert event.phone_number_id == payloads.PHONE_NUMBER_ID
    assert event.state == WebhookEvent.State.PROCESSED
    assert t.Message.objects.get().message == "Does it come in another color?"


def test_the_body_is_stored_byte_for_byte(client, agent):
    body = (
        b'{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",'
        b'"value":{"metadata":{"phone_number_id":"106540352242922"},"statuses":[]}}]}],  "extra" : "\\u00e9"}'
    )
    assert post(client, body).status_code == 200
    assert WebhookEvent.objects.get().body == body.decode()


@pytest.mark.parametrize(
    "signature",
    [
        "",  # no header at all
        "sha256=" + "0" * 64,  # well formed, wrong
        "sha1=abcdef",  # the old header's algorithm
        "sha256=zz",  # malformed
    ],
)
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_stored(client, t, signature):
    response = post(client, payloads.notification(payloads.value([payloads.text()])), signature=signature)
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()
    assert not t.Message.objects.exists()


def test_a_body_signed_with_another_secret_is_refused(client, agent):
    response = post(client, payloads.notification(payloads.value([payloads.text()])), secret="another-app-secret")
    assert response.status_code == 403
    assert not WebhookEvent.objects.exists()


def test_the_signature_covers_the_exact_bytes(client, agent):
    body = payloads.encode(payloads.notification(payloads.value([payloads.text()])))
    signature = signatures.sign(body, "test-app-secret")
    tampered = body.replace(b"another color", b"another price")
    assert post(client, tampered, signature=signature).status_code == 403
    assert post(client, body, signature=signature.upper().replace("SHA256=", "sha256=")).status_code == 200


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"{not json", b"not JSON"),
        (b"\xff\xfe\x00", b"not JSON"),
        (b"", b"not JSON"),
        (b'{"a": NaN}', b"not JSON"),
        (b'{"a": 1e999}', b"not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, b"not JSON"),
        (b'["whatsapp_business_account"]', b"not a WhatsApp notification"),
        (b'{"object": "page", "entry": []}', b"not a WhatsApp notification"),
        (b'{"object": "whatsapp_business_account"}', b"entry"),
        (b'{"object": "whatsapp_business_account", "entry": []}', b"entry"),
        (b'{"object": "whatsapp_business_account", "entry": [{"id": "1"}]}', b"changes"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {}}]}]}', b"field"),
        (b'{"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages"}]}]}', b"value"),
    ],
)
def test_a_signed_body_that_is_not_a_whatsapp_notification_is_a_bad_request(client, body, reason, caplog):
    response = post(client, body)
    assert response.status_code == 400
    assert reason in response.content
    assert not WebhookEvent.objects.exists()
    assert "webhook refused" in caplog.text


@override_settings(WHATSAPP_WEBHOOK_MAX_BODY_BYTES=1000)
def test_a_body_over_the_limit_is_refused_unread_with_413(client, agent):
    body = payloads.encode(payloads.notification(payloads.value([payloads.text("x" * 2000)])))
    response = post(client, body)
    assert response.status_code == 413
    assert not WebhookEvent.objects.exists()


def test_a_signed_three_megabyte_notification_is_accepted(client, t):
    # Meta documents payloads of up to 3 MB; Django's own upload limit (2.5 MB) would refuse it.
    long_text = "a" * (3 * 1024 * 1024 - 1000)
    body = payloads.encode(payloads.notification(payloads.value([payloads.text(long_text)])))
    assert 3 * 1024 * 1024 - 1000 < len(body) <= 3 * 1024 * 1024

    response = post(client, body)

    assert response.status_code == 200
    assert len(WebhookEvent.objects.get().body) == len(body)
    assert t.Message.objects.get().message == long_text


def test_other_methods_are_not_allowed(client):
    assert client.put("/whatsapp/webhook/").status_code == 405
    assert client.delete("/whatsapp/webhook/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_when_the_database_cannot_store_the_event_the_answer_is_503_so_meta_retries(client, caplog):
    # PostgreSQL: the server is unreachable. SQLite (the test database lives in memory and cannot be
    # closed): the database refuses every write.
    saved = dict(connection.settings_dict)
    if connection.vendor == "postgresql":
        connection.close()
        connection.settings_dict.update(HOST="127.0.0.1", PORT="1")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA query_only = ON")
    try:
        response = post(client, payloads.notification(payloads.value([payloads.text()])))
    finally:
        if connection.vendor == "postgresql":
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
        else:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA query_only = OFF")

    assert response.status_code == 503
    assert "could not be stored" in caplog.text
    assert not WebhookEvent.objects.exists()


class UnreadableBody:
    """A request body that must never be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


@pytest.mark.parametrize(
    "headers, status",
    [
        ({"CONTENT_LENGTH": "1000"}, 403),  # no signature
        ({"HTTP_X_HUB_SIGNATURE_256": "not-a-signature", "CONTENT_LENGTH": "1000"}, 403),
        ({"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "a" * 64, "CONTENT_LENGTH": str(50 * 1024 * 1024)}, 413),
        ({"HTTP_X_HUB_SIGNATURE_256": "sha256=" + "a" * 64, "CONTENT_LENGTH": "lots"}, 413),
    ],
)
def test_unsigned_or_oversized_requests_are_refused_without_reading_the_body(rf, headers, status):
    request = rf.post(
        "/whatsapp/webhook/", data=b"", content_type="application/json", **{"wsgi.input": UnreadableBody(), **headers}
    )
    assert webhook(request).status_code == status
    assert not WebhookEvent.objects.exists()


@override_settings(WHATSAPP_APP_SECRET="")
def test_without_an_app_secret_nothing_is_accepted(client, agent):
    body = payloads.encode(payloads.notification(payloads.value([payloads.text()])))
    assert post(client, body, signature=signatures.sign(body, "")).status_code == 403
    assert not WebhookEvent.objects.exists()
