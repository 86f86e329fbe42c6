"""A user's WhatsApp configuration: one per user, token encrypted at rest and never shown again."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from whatsapp import encryption
from whatsapp.models import WhatsAppConfiguration

TOKEN = "EAAGm0PX4ZCpsBAKsecret-token-value-9f8e"


def configure(owner, **options):
    arguments = {"user": owner.email, "whatsapp_number": "+14155550100", "phone_number_id": "1234567890", **options}
    out = io.StringIO()
    call_command("configure_whatsapp", stdout=out, **arguments)
    return out.getvalue()


@pytest.fixture
def stdin_token(monkeypatch):
    def feed(token):
        monkeypatch.setattr("sys.stdin", io.StringIO(token))

    return feed


def test_configure_whatsapp_reads_the_token_from_stdin_and_encrypts_it(make_user, stdin_token):
    user = make_user()
    stdin_token(TOKEN + "\n")
    out = configure(user)

    configuration = WhatsAppConfiguration.objects.get(user=user)
    assert configuration.access_token() == TOKEN
    assert configuration.whatsapp_number == "+14155550100"
    assert configuration.webhook_url == "http://127.0.0.1:8000/whatsapp/webhook/"
    assert TOKEN not in out and "••••9f8e" in out
    with connection.cursor() as cursor:
        cursor.execute("SELECT api_key FROM whatsapp_configuration WHERE id = %s", [configuration.pk])
        stored = cursor.fetchone()[0]
    assert TOKEN not in stored and encryption.is_encrypted(stored)


def test_configure_whatsapp_updates_the_one_configuration_and_can_keep_the_token(make_user, stdin_token):
    user = make_user()
    stdin_token(TOKEN)
    configure(user)
    stdin_token("")
    configure(user, whatsapp_number="14155550199", business_account_id="555")

    configuration = WhatsAppConfiguration.objects.get(user=user)
    assert (configuration.whatsapp_number, configuration.business_account_id) == ("+14155550199", "555")
    assert configuration.access_token() == TOKEN


@pytest.mark.parametrize(
    "options, token, message",
    [
        ({"whatsapp_number": "+1555"}, TOKEN, "not a possible phone number"),
        ({"whatsapp_number": "call me"}, TOKEN, "not a phone number"),
        ({"phone_number_id": " "}, TOKEN, "phone number id is required"),
        ({}, "", "access token is required"),
        ({"user": "nobody@example.com"}, TOKEN, "no user"),
    ],
)
def test_configure_whatsapp_refuses_bad_input(make_user, stdin_token, options, token, message):
    user = make_user()
    stdin_token(token)
    with pytest.raises(CommandError, match=message):
        configure(user, **options)
    assert not WhatsAppConfiguration.objects.exists()


def test_one_phone_number_id_belongs_to_one_active_configuration(make_user, stdin_token):
    stdin_token(TOKEN)
    configure(make_user())
    stdin_token(TOKEN)
    with pytest.raises(CommandError, match="already used by another active configuration"):
        configure(make_user())


def test_updated_at_moves_on_every_change(make_user, stdin_token):
    user = make_user()
    stdin_token(TOKEN)
    configure(user)
    first = WhatsAppConfiguration.objects.get(user=user).updated_at
    stdin_token("")
    configure(user, whatsapp_number="+14155550111")
    assert WhatsAppConfiguration.objects.get(user=user).updated_at > first


def test_the_token_never_appears_in_the_admin(client, admin_user, make_agent, stdin_token):
    agent = make_agent()
    stdin_token(TOKEN)
    configure(agent.user)
    configuration = WhatsAppConfiguration.objects.get()
    client.force_login(admin_user)

    pages = [
        reverse("admin:whatsapp_whatsappconfiguration_changelist"),
        reverse("admin:whatsapp_whatsappconfiguration_change", args=[configuration.pk]),
        reverse("admin:whatsapp_whatsappconfiguration_history", args=[configuration.pk]),
        reverse("admin:accounts_user_change", args=[agent.user.pk]),
        reverse("admin:agents_agent_changelist"),
        reverse("home"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        assert TOKEN not in page and configuration.api_key not in page, url
    assert "••••9f8e" in client.get(pages[1]).content.decode()


def test_the_admin_replaces_the_token_only_when_a_new_one_is_typed(client, admin_user, make_agent, stdin_token):
    agent = make_agent()
    stdin_token(TOKEN)
    configure(agent.user)
    configuration = WhatsAppConfiguration.objects.get()
    client.force_login(admin_user)
    url = reverse("admin:whatsapp_whatsappconfiguration_change", args=[configuration.pk])
    form = {
        "user": agent.user.pk,
        "agent": "",
        "whatsapp_number": "+14155550100",
        "phone_number_id": "1234567890",
        "business_account_id": "",
        "webhook_url": "https://crm.example.com/whatsapp/webhook/",
        "is_active": "on",
    }

    assert client.post(url, {**form, "new_access_token": ""}).status_code == 302
    assert WhatsAppConfiguration.objects.get().access_token() == TOKEN

    response = client.post(url, {**form, "new_access_token": "EAAG-another-token-1234567"})
    assert response.status_code == 302
    assert WhatsAppConfiguration.objects.get().access_token() == "EAAG-another-token-1234567"
    assert "EAAG-another-token-1234567" not in client.get(url).content.decode()


def test_the_admin_refuses_an_agent_of_another_user(client, admin_user, make_agent, stdin_token):
    mine, theirs = make_agent(), make_agent()
    stdin_token(TOKEN)
    configure(mine.user)
    configuration = WhatsAppConfiguration.objects.get()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:whatsapp_whatsappconfiguration_change", args=[configuration.pk]),
        {
            "user": mine.user.pk,
            "agent": theirs.pk,
            "whatsapp_number": "+14155550100",
            "phone_number_id": "1234567890",
            "webhook_url": "https://x.example/",
            "is_active": "on",
        },
    )
    assert response.status_code == 200 and "does not belong to the selected user" in response.content.decode()
    assert WhatsAppConfiguration.objects.get().agent is None


def test_a_token_encrypted_under_an_old_key_still_decrypts_and_rotates(settings):
    from cryptography.fernet import Fernet

    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [old_key]
    stored = encryption.encrypt(TOKEN)
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert encryption.decrypt(stored) == TOKEN
    rotated = encryption.rotate(stored)
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert encryption.decrypt(rotated) == TOKEN
    with pytest.raises(encryption.DecryptionError):
        encryption.decrypt(stored)


def test_the_masked_key_never_gives_away_a_short_token(make_user):
    configuration = WhatsAppConfiguration(user=make_user())
    assert configuration.masked_api_key == "not set"
    configuration.set_access_token("short")
    assert configuration.masked_api_key == "••••"
