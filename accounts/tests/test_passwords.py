"""Every way of setting a password checks it against the validators; a changed password ends the
user's other sessions (Django's session auth hash), wherever it was changed."""

import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User
from accounts.tests.test_login import PASSWORD
from audit.models import AuditEvent

WEAK = ["123", "password", "12345678901"]
STRONG = "a-new-long-passphrase"


def logged_in_elsewhere(user):
    other_device = Client()
    other_device.force_login(user)
    return other_device


@pytest.mark.parametrize("weak", WEAK)
def test_the_admin_refuses_to_create_a_user_with_a_weak_password(client, admin_user, weak):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "new@example.com", "name": "New", "role": "agent", "password1": weak, "password2": weak},
    )
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_admin_refuses_a_password_too_like_the_email(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "rosalind@example.com",
            "name": "Rosalind",
            "role": "agent",
            "password1": "rosalind@example",
            "password2": "rosalind@example",
        },
    )
    assert "too similar" in response.content.decode()


@pytest.mark.parametrize("weak", WEAK)
def test_the_admin_refuses_to_set_a_weak_password(client, admin_user, make_user, weak):
    user = make_user()
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:auth_user_password_change", args=[user.pk]),
        {"password1": weak, "password2": weak, "usable_password": "true"},
    )
    assert response.status_code == 200
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_password_set_in_the_admin_logs_the_user_out_everywhere(client, admin_user, make_agent):
    agent = make_agent()
    their_browser = logged_in_elsewhere(agent.user)
    assert their_browser.get(reverse("home")).status_code == 200
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[agent.user.pk]),
        {"password1": STRONG, "password2": STRONG, "usable_password": "true"},
    )

    assert response.status_code == 302
    assert User.objects.get(pk=agent.user.pk).check_password(STRONG)
    assert their_browser.get(reverse("home")).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    event = AuditEvent.objects.get(action="password.changed")
    assert (event.actor, event.target_id, event.details["by"]) == (admin_user, str(agent.user.pk), "admin")


def test_the_admins_own_password_change_is_the_audited_one(client, admin_user):
    other_device = logged_in_elsewhere(admin_user)
    client.force_login(admin_user)
    redirect = client.get(reverse("admin:password_change"))
    assert redirect.status_code == 302 and redirect.url == reverse("password_change")

    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": STRONG, "new_password2": STRONG}
    )

    assert response.status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200
    assert other_device.get(reverse("admin:index")).status_code == 302
    assert AuditEvent.objects.filter(action="password.changed", actor=admin_user).count() == 1


def test_a_refused_password_change_is_not_audited(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    client.post(reverse("password_change"), {"old_password": "wrong", "new_password1": STRONG, "new_password2": STRONG})
    assert not AuditEvent.objects.filter(action="password.changed").exists()


def test_create_user_warns_about_a_weak_password_it_is_given(db, capsys):
    call_command("create_user", email="a@example.com", name="A", role="agent", password="short")
    assert "warning: --password is weak: This password is too short" in capsys.readouterr().err
    assert User.objects.get().check_password("short")


def test_create_user_warns_about_a_password_like_the_email(db, capsys):
    call_command("create_user", email="margaret@example.com", name="M", role="agent", password="margaret@example")
    assert "too similar" in capsys.readouterr().err


def test_create_user_refuses_an_empty_password(db):
    with pytest.raises(CommandError, match="--password must not be empty"):
        call_command("create_user", email="a@example.com", name="A", role="agent", password="")
    assert not User.objects.exists()


def test_createsuperuser_cannot_skip_the_validators(db):
    os.environ["DJANGO_SUPERUSER_PASSWORD"] = "12345"
    try:
        with pytest.raises(CommandError, match="too short"):
            call_command("createsuperuser", "--noinput", email="boss@example.com", name="Boss")
    finally:
        del os.environ["DJANGO_SUPERUSER_PASSWORD"]
    assert not User.objects.exists()


def test_createsuperuser_creates_a_super_admin_with_a_strong_password(db):
    os.environ["DJANGO_SUPERUSER_PASSWORD"] = STRONG
    try:
        call_command("createsuperuser", "--noinput", email="boss@example.com", name="Boss", verbosity=0)
    finally:
        del os.environ["DJANGO_SUPERUSER_PASSWORD"]
    assert User.objects.get(email="boss@example.com").role == Role.SUPER_ADMIN


def test_production_keeps_the_password_validators():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.contrib.auth.password_validation import "
            "get_default_password_validators as v; print(sorted(type(x).__name__ for x in v()))",
        ],
        env={
            "DJANGO_SETTINGS_MODULE": "crm.settings",
            "PATH": "/usr/bin:/bin",
            "SECRET_KEY": "s" * 60,
            "WHATSAPP_APP_SECRET": "a",
            "WHATSAPP_VERIFY_TOKEN": "v",
            "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
        },
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(
        sorted(
            [
                "CommonPasswordValidator",
                "MinimumLengthValidator",
                "NumericPasswordValidator",
                "UserAttributeSimilarityValidator",
            ]
        )
    )
