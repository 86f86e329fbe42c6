"""`rotate_api_keys`: every stored token re-encrypted under the first key, idempotent, all or nothing."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from audit.models import AuditEvent
from whatsapp import encryption
from whatsapp.models import WhatsAppConfiguration

OLD_KEY, NEW_KEY, LOST_KEY = (Fernet.generate_key().decode() for _ in range(3))


def configuration_with_token(make_user, token, number):
    configuration = WhatsAppConfiguration(
        user=make_user(),
        whatsapp_number=number,
        webhook_url="https://crm.example.com/whatsapp/webhook/",
        phone_number_id=number.lstrip("+"),
    )
    configuration.set_access_token(token)
    configuration.save()
    return configuration


def rotate():
    out = io.StringIO()
    call_command("rotate_api_keys", stdout=out)
    return out.getvalue()


def stored_api_key(configuration):
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key, updated_at FROM whatsapp_configuration WHERE id = %s", [configuration.pk])
        return cursor.fetchone()


def test_tokens_under_an_old_key_move_to_the_new_one(settings, make_user):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    first = configuration_with_token(make_user, "EAAG-token-one-1111", "+14155550101")
    second = configuration_with_token(make_user, "EAAG-token-two-2222", "+14155550102")
    updated_before = stored_api_key(first)[1]

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = rotate()

    assert "2 token(s) re-encrypted under the first key, 0 already under it" in out
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert WhatsAppConfiguration.objects.get(pk=first.pk).access_token() == "EAAG-token-one-1111"
    assert WhatsAppConfiguration.objects.get(pk=second.pk).access_token() == "EAAG-token-two-2222"
    assert stored_api_key(first)[1] == updated_before  # not a configuration change
    event = AuditEvent.objects.get(action="whatsapp.keys_rotated")
    assert event.details == {"rotated": 2, "already_current": 0, "encrypted_from_clear": 0}


def test_running_it_again_changes_nothing(settings, make_user):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    configuration = configuration_with_token(make_user, "EAAG-token-one-1111", "+14155550101")
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    rotate()
    after_first_run = stored_api_key(configuration)[0]

    out = rotate()

    assert "0 token(s) re-encrypted under the first key, 1 already under it" in out
    assert stored_api_key(configuration)[0] == after_first_run


def test_a_token_stored_in_clear_by_another_program_gets_encrypted(settings, make_user):
    configuration = configuration_with_token(make_user, "EAAG-token-one-1111", "+14155550101")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE whatsapp_configuration SET api_key = 'EAAG-written-in-clear' WHERE id = %s", [configuration.pk]
        )

    out = rotate()

    assert "1 stored in clear now encrypted" in out
    stored = stored_api_key(configuration)[0]
    assert encryption.is_encrypted(stored) and "EAAG-written-in-clear" not in stored
    assert WhatsAppConfiguration.objects.get().access_token() == "EAAG-written-in-clear"


def test_a_token_no_key_decrypts_stops_everything_and_is_named(settings, make_user):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    readable = configuration_with_token(make_user, "EAAG-token-one-1111", "+14155550101")
    settings.FIELD_ENCRYPTION_KEYS = [LOST_KEY]
    unreadable = configuration_with_token(make_user, "EAAG-token-two-2222", "+14155550102")
    before = stored_api_key(readable)[0]

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    with pytest.raises(
        CommandError, match=rf"configuration\(s\) {unreadable.pk} \(\+14155550102\).*Nothing was changed"
    ):
        rotate()

    assert stored_api_key(readable)[0] == before
    assert not AuditEvent.objects.filter(action="whatsapp.keys_rotated").exists()


def test_configurations_without_a_token_are_left_alone(make_user):
    WhatsAppConfiguration.objects.create(
        user=make_user(), whatsapp_number="+14155550101", webhook_url="https://x.example/", phone_number_id="1"
    )
    assert "0 configuration(s) with a token" in rotate()
