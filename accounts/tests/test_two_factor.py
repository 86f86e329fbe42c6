"""Two-factor login for admins: setting it up, the code step at login, recovery codes, turning it off, resets."""

import re
import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from accounts.models import Role
from accounts.tests.authenticator import code_from_manual_key, next_code
from accounts.tests.test_login import PASSWORD, log_in
from audit.models import AuditEvent


def set_up_two_factor(client, user):
    """Turn two-factor login on through the pages, as the user would; returns the recovery codes."""
    client.force_login(user)
    client.post(reverse("two_factor_start"))
    page = client.get(reverse("two_factor")).content.decode()
    manual_key = re.search(r'<code class="manual-key">([A-Z2-7 ]+)</code>', page).group(1)
    response = client.post(reverse("two_factor_confirm"), {"code": code_from_manual_key(manual_key)})
    assert response.status_code == 200, response.content.decode()
    client.post(reverse("logout"))
    return re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())


def log_in_with_code(client, user):
    log_in(client, user.email)
    assert client.post(reverse("login_verify"), {"code": next_code(user)}).status_code == 302


@pytest.fixture
def admin_with_two_factor(client, admin_user):
    codes = set_up_two_factor(client, admin_user)
    return admin_user, codes


def test_setting_up_shows_a_qr_code_drawn_on_the_server(client, admin_user):
    client.force_login(admin_user)
    assert "Set up two-factor login" in client.get(reverse("two_factor")).content.decode()

    assert client.post(reverse("two_factor_start")).status_code == 302
    page = client.get(reverse("two_factor")).content.decode()

    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group()
    assert "<path" in svg and "QR code to scan" in svg
    assert "<script" not in svg and "<img" not in page and "otpauth://" not in page
    assert re.search(r'<code class="manual-key">[A-Z2-7]{4}( [A-Z2-7]{1,4})+</code>', page)
    assert not two_factor.is_enabled(admin_user)


def test_a_wrong_code_does_not_turn_it_on(client, admin_user):
    client.force_login(admin_user)
    client.post(reverse("two_factor_start"))
    response = client.post(reverse("two_factor_confirm"), {"code": "000000"})
    assert response.status_code == 400 and "That code is not right" in response.content.decode()
    assert not two_factor.is_enabled(admin_user)


def test_the_right_code_turns_it_on_and_shows_ten_recovery_codes_once(client, admin_user):
    codes = set_up_two_factor(client, admin_user)
    assert two_factor.is_enabled(admin_user)
    assert len(codes) == 10 and len(set(codes)) == 10
    log_in_with_code(client, admin_user)
    page = client.get(reverse("two_factor")).content.decode()
    assert "Two-factor login is on" in page and "Recovery codes left: 10" in page
    assert not any(code in page for code in codes)


def test_agents_cannot_use_two_factor_login(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    assert client.get(reverse("two_factor")).status_code == 403
    assert client.post(reverse("two_factor_start")).status_code == 403
    assert not TOTPDevice.objects.exists()


def test_an_agent_still_logs_in_with_the_password_alone(client, make_agent):
    agent = make_agent()
    response = log_in(client, agent.user.email)
    assert response.status_code == 302 and response.url == reverse("after_login")


def test_login_asks_for_the_code_after_the_password(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    response = client.post(
        reverse("login") + "?next=/admin/", {"username": admin.email, "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302 and response.url == reverse("login_verify")
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302

    page = client.get(reverse("login_verify")).content.decode()
    assert '<label for="id_code">Code</label>' in page

    response = client.post(reverse("login_verify"), {"code": next_code(admin)})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_wrong_code_does_not_log_in(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    log_in(client, admin.email)
    response = client.post(reverse("login_verify"), {"code": "123456"})
    assert response.status_code == 200 and "That code is not right" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_code_cannot_be_used_twice(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    code = next_code(admin)
    log_in(client, admin.email)
    assert client.post(reverse("login_verify"), {"code": code}).status_code == 302
    client.post(reverse("logout"))
    log_in(client, admin.email)
    response = client.post(reverse("login_verify"), {"code": code})
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(client, admin_with_two_factor):
    admin, codes = admin_with_two_factor
    log_in(client, admin.email)
    assert client.post(reverse("login_verify"), {"code": codes[0].upper()}).status_code == 302
    assert StaticToken.objects.count() == 9
    client.post(reverse("logout"))

    log_in(client, admin.email)
    assert client.post(reverse("login_verify"), {"code": codes[0]}).status_code == 200
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="two_factor.recovery_code_used", details__codes_left=9).exists()


def test_the_code_step_without_a_password_step_goes_back_to_login(client):
    response = client.get(reverse("login_verify"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("login")
    assert "Enter your email and password again" in response.content.decode()


def test_the_code_step_expires_after_five_minutes(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    log_in(client, admin.email)
    session = client.session
    session[two_factor.PENDING_LOGIN_SESSION_KEY]["started"] = time.time() - 301
    session.save()
    response = client.post(reverse("login_verify"), {"code": next_code(admin)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_wrong_codes_count_towards_the_lock_with_wrong_passwords(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    for _ in range(3):
        log_in(client, admin.email, "wrong-password")
    log_in(client, admin.email)
    client.post(reverse("login_verify"), {"code": "111111"})
    client.post(reverse("login_verify"), {"code": "222222"})
    sixth = client.post(reverse("login_verify"), {"code": "333333"})
    assert sixth.status_code == 429

    assert log_in(client, admin.email).status_code == 429
    response = client.post(reverse("login_verify"), {"code": next_code(admin)})
    assert response.status_code == 302 and response.url == reverse("login")
    assert "_auth_user_id" not in client.session


def test_a_session_that_skipped_the_code_is_logged_out(client, admin_with_two_factor):
    admin, _ = admin_with_two_factor
    client.force_login(admin)  # as if logged in some other way, or before two-factor was turned on
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert "_auth_user_id" not in client.session


def test_new_recovery_codes_replace_the_old_ones(client, admin_with_two_factor):
    admin, old_codes = admin_with_two_factor
    log_in_with_code(client, admin)

    refused = client.post(reverse("two_factor_recovery_codes"), {"code": old_codes[0]}, follow=True)
    assert "no new recovery codes were made" in refused.content.decode()

    response = client.post(reverse("two_factor_recovery_codes"), {"code": next_code(admin)})
    new_codes = re.findall(r"<li><code>([a-z2-7]+)</code></li>", response.content.decode())
    assert len(new_codes) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new_codes)


def test_turning_it_off_needs_a_code(client, admin_with_two_factor):
    admin, codes = admin_with_two_factor
    log_in_with_code(client, admin)

    client.post(reverse("two_factor_disable"), {"code": "000000"})
    assert two_factor.is_enabled(admin)

    response = client.post(reverse("two_factor_disable"), {"code": codes[1]}, follow=True)
    assert "Two-factor login is off" in response.content.decode()
    assert not two_factor.is_enabled(admin) and not StaticToken.objects.exists()
    client.post(reverse("logout"))
    assert log_in(client, admin.email).url == reverse("after_login")


def test_a_super_admin_resets_it_from_the_admin(client, admin_with_two_factor, super_admin):
    admin, _ = admin_with_two_factor
    client.force_login(super_admin)
    response = client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "reset_two_factor", "_selected_action": [admin.pk]},
    )
    assert response.status_code == 302
    assert not two_factor.is_enabled(admin)
    event = AuditEvent.objects.get(action="two_factor.reset")
    assert event.actor == super_admin and event.target_id == str(admin.pk)


def test_an_admin_cannot_reset_anyone(client, make_user):
    other_admin = make_user(role=Role.ADMIN)
    set_up_two_factor(client, other_admin)
    client.force_login(make_user(role=Role.ADMIN))
    page = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "reset_two_factor" not in page
    client.post(
        reverse("admin:accounts_user_changelist"), {"action": "reset_two_factor", "_selected_action": [other_admin.pk]}
    )
    assert two_factor.is_enabled(other_admin)


def test_the_command_line_resets_it_for_a_lone_super_admin(client, super_admin, capsys):
    set_up_two_factor(client, super_admin)
    call_command("reset_two_factor", user=super_admin.email)
    assert not two_factor.is_enabled(super_admin)
    assert "reset for" in capsys.readouterr().out
    assert AuditEvent.objects.filter(action="two_factor.reset", actor=None).exists()


def test_the_admin_shows_whether_it_is_on_but_never_the_secrets(client, admin_with_two_factor, super_admin):
    admin, codes = admin_with_two_factor
    client.force_login(super_admin)
    page = client.get(reverse("admin:accounts_user_change", args=[admin.pk])).content.decode()
    assert "Two-factor login" in page and ">on<" in page
    device = TOTPDevice.objects.get(user=admin)
    assert device.key not in page and not any(code in page for code in codes)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
