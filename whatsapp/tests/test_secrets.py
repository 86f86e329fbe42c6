"""Access tokens and the app's secrets stay out of error reports, debug pages and database dumps."""

import subprocess
import sys

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from whatsapp.configuration import save_configuration
from whatsapp.models import WhatsAppConfiguration

TOKEN = "EAAGm0PX4ZCpsBAKdump-me-if-you-can-31337"
# Reports quote source lines around each frame: the secrets are named here, never written inline below.
TYPED_PASSWORD = "a-typed-secret-password"
TYPED_CODE = "987654"


def error_report(request=None):
    """The text and HTML Django would show (DEBUG) or mail to admins for the exception being handled."""
    reporter = ExceptionReporter(request, *sys.exc_info())
    return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_an_error_while_saving_a_configuration_does_not_report_the_token(make_user):
    user = make_user()
    try:
        save_configuration(user=user, whatsapp_number="not a number", phone_number_id="1", access_token=TOKEN)
    except ValidationError:
        report = error_report()
    assert "save_configuration" in report and "access_token" in report
    assert TOKEN not in report


def test_an_error_while_decrypting_does_not_report_the_plaintext(make_user, settings):
    configuration = WhatsAppConfiguration(user=make_user())
    configuration.set_access_token(TOKEN)
    try:
        raise RuntimeError(len(configuration.access_token()))
    except RuntimeError:
        report = error_report()
    assert TOKEN not in report


def test_an_error_report_of_the_admins_token_form_hides_the_typed_token(client, admin_user, make_agent):
    agent = make_agent()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:whatsapp_whatsappconfiguration_add"),
        {
            "user": agent.user.pk,
            "whatsapp_number": "+14155550100",
            "phone_number_id": "1",
            "webhook_url": "https://crm.example.com/whatsapp/webhook/",
            "new_access_token": TOKEN,
        },
    )
    assert response.status_code == 302
    try:
        raise RuntimeError("something failed later in the request")
    except RuntimeError:
        report = error_report(response.wsgi_request)
    assert "new_access_token" in report and TOKEN not in report


def test_an_error_report_of_a_login_hides_the_password_and_the_code(client, make_user):
    user = make_user()
    response = client.post(reverse("login"), {"username": user.email, "password": TYPED_PASSWORD})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        assert TYPED_PASSWORD not in error_report(response.wsgi_request)
    response = client.post(reverse("login_verify"), {"code": TYPED_CODE})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        report = error_report(response.wsgi_request)
    assert "login_verify" in report and TYPED_CODE not in report


def test_the_debug_page_hides_every_secret_setting(settings):
    settings.SECRET_KEY_FALLBACKS = ["an-older-secret-key-still-accepted"]
    safe = SafeExceptionReporterFilter().get_safe_settings()
    for name in (
        "SECRET_KEY",
        "SECRET_KEY_FALLBACKS",
        "WHATSAPP_APP_SECRET",
        "WHATSAPP_VERIFY_TOKEN",
        "FIELD_ENCRYPTION_KEYS",
    ):
        assert str(safe[name]).strip("[]'").strip("*") == "", name
    rendered = str(safe)
    for secret in (
        settings.SECRET_KEY,
        settings.WHATSAPP_APP_SECRET,
        *settings.FIELD_ENCRYPTION_KEYS,
        "an-older-secret-key-still-accepted",
    ):
        assert secret not in rendered


@pytest.mark.postgres
def test_a_database_dump_holds_no_token_in_clear(make_user, transactional_db, client, admin_user):
    # No agent here: flushing a transactional test database cannot truncate tables that agent tables reference.
    owner = make_user()
    save_configuration(
        user=owner, whatsapp_number="+14155550100", phone_number_id="1", access_token=TOKEN, actor=admin_user
    )
    client.force_login(admin_user)
    configuration = WhatsAppConfiguration.objects.get()
    client.post(
        reverse("admin:whatsapp_whatsappconfiguration_change", args=[configuration.pk]),
        {
            "user": owner.pk,
            "whatsapp_number": "+14155550100",
            "phone_number_id": "1",
            "is_active": "on",
            "webhook_url": configuration.webhook_url,
            "new_access_token": TOKEN + "-replaced",
        },
    )
    settings_dict = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--no-owner",
            "-h",
            settings_dict["HOST"],
            "-p",
            str(settings_dict["PORT"]),
            "-U",
            settings_dict["USER"],
            settings_dict["NAME"],
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "COPY public.whatsapp_configuration" in dump and "fernet:" in dump
    assert "COPY public.audit_log" in dump and "whatsapp.access_token_changed" in dump
    assert TOKEN not in dump
