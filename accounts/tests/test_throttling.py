"""Login throttling: the 6th wrong password within 5 minutes locks the account, right password included."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from accounts.tests.test_login import PASSWORD, log_in

WRONG = "not-the-password"
LOCKED = "Too many failed logins for this account"


def fail(client, email, times):
    return [log_in(client, email, WRONG) for _ in range(times)]


def test_five_wrong_passwords_are_answered_normally(client, make_user):
    user = make_user()
    for response in fail(client, user.email, 5):
        assert response.status_code == 200
        assert "Please enter a correct email and password" in response.content.decode()


def test_the_sixth_wrong_password_locks_the_account_and_even_the_right_one_is_refused(client, make_user):
    user = make_user()
    fail(client, user.email, 5)

    sixth = log_in(client, user.email, WRONG)
    assert sixth.status_code == 429 and LOCKED in sixth.content.decode()

    right = log_in(client, user.email, PASSWORD)
    assert right.status_code == 429 and LOCKED in right.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


def test_the_lockout_page_says_for_how_long(client, make_user):
    user = make_user()
    page = fail(client, user.email, 6)[-1].content.decode()
    assert "locked for 5 minutes" in page and "Try again in 5 minutes" in page
    assert '<label for="id_username">Email</label>' in page


def test_a_right_password_before_the_limit_logs_in_and_starts_the_count_again(client, make_user):
    user = make_user()
    fail(client, user.email, 5)
    assert log_in(client, user.email).status_code == 302
    client.post(reverse("logout"))
    fail(client, user.email, 5)
    assert log_in(client, user.email).status_code == 302


def test_the_count_is_per_account_in_any_spelling_of_its_email(client, make_user):
    user, other = make_user(), make_user()
    fail(client, user.email.upper(), 3)
    fail(client, "  " + user.email.title(), 3)
    assert log_in(client, user.email).status_code == 429
    assert log_in(client, other.email).status_code == 302


def test_the_lock_does_not_depend_on_the_address_or_browser(client, make_user):
    user = make_user()
    for n in range(6):
        client.post(
            reverse("login"),
            {"username": user.email, "password": WRONG},
            REMOTE_ADDR=f"203.0.113.{n}",
            HTTP_USER_AGENT=f"agent {n}",
        )
    assert log_in(client, user.email).status_code == 429


def test_the_lock_ends_five_minutes_after_the_last_failure(client, make_user):
    user = make_user()
    fail(client, user.email, 6)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=5, seconds=1))
    assert log_in(client, user.email).status_code == 302


def test_failures_older_than_five_minutes_no_longer_count(client, make_user):
    user = make_user()
    fail(client, user.email, 5)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=5, seconds=1))
    response = log_in(client, user.email, WRONG)
    assert response.status_code == 200 and LOCKED not in response.content.decode()


def test_attempts_during_the_lock_do_not_extend_it(client, make_user):
    user = make_user()
    fail(client, user.email, 6)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=4))
    fail(client, user.email, 3)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=5, seconds=1))
    assert log_in(client, user.email).status_code == 302


def test_an_admin_can_unlock_an_account_from_the_command_line(client, make_user):
    user = make_user()
    fail(client, user.email, 6)
    call_command("axes_reset_username", user.email)
    assert log_in(client, user.email).status_code == 302


def test_the_admin_login_page_is_the_throttled_login(client):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302 and response.url == reverse("login") + "?next=/admin/"


def test_the_stored_attempts_hold_no_password(client, make_user):
    user = make_user()
    log_in(client, user.email, "a-secret-guess-123")
    assert AccessAttempt.objects.count() == 1
    assert "a-secret-guess-123" not in AccessAttempt.objects.get().post_data


SUBPROCESS_FAILURES = """
import django
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
codes = [client.post("/accounts/login/", {"username": EMAIL, "password": PASSWORD}).status_code for _ in range(TIMES)]
print(" ".join(map(str, codes)))
"""


def log_in_from_another_process(email, password, times):
    """Log in attempts made by a separate Python process against the same (test) database."""
    settings_dict = connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    script = SUBPROCESS_FAILURES.replace("EMAIL", repr(email)).replace("PASSWORD", repr(password))
    result = subprocess.run(
        [sys.executable, "-c", script.replace("TIMES", str(times))],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crm.test_settings", "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [int(code) for code in result.stdout.split()]


@pytest.mark.postgres
def test_failures_in_different_processes_add_up(client, make_user, transactional_db):
    user = make_user()
    assert log_in_from_another_process(user.email, WRONG, 3) == [200, 200, 200]
    fail(client, user.email, 2)
    assert log_in_from_another_process(user.email, WRONG, 1) == [429]
    assert log_in(client, user.email).status_code == 429
    assert log_in_from_another_process(user.email, PASSWORD, 1) == [429]


# Spellings that Django's login form folds (NFKC) into the same address: each must hit the same lock.
LOOK_ALIKES = {
    "fullwidth": lambda email: email.replace(email[0], chr(ord(email[0]) - ord("a") + 0xFF41), 1),
    "circled": lambda email: email.replace(email[0], chr(ord(email[0]) - ord("a") + 0x24D0), 1),
    "fullwidth capital": lambda email: email.replace(email[0], chr(ord(email[0]) - ord("a") + 0xFF21), 1),
    "mathematical bold": lambda email: email.replace(email[0], chr(ord(email[0]) - ord("a") + 0x1D41A), 1),
    "fullwidth at sign": lambda email: email.replace("@", "\uff20"),
    "no-break space around": lambda email: "\u00a0" + email.upper() + "\u3000",
}


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_a_look_alike_spelling_cannot_log_in_to_a_locked_account(client, make_user, spelling):
    user = make_user(email="carla@example.com")
    look_alike = LOOK_ALIKES[spelling](user.email)
    assert look_alike != user.email
    fail(client, user.email, 6)

    response = log_in(client, look_alike, PASSWORD)
    assert response.status_code == 429 and LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_look_alike_guesses_count_against_the_same_account(client, make_user, spelling):
    user = make_user(email="carla@example.com")
    fail(client, LOOK_ALIKES[spelling](user.email), 6)
    assert log_in(client, user.email).status_code == 429


def test_a_look_alike_spelling_logs_in_to_an_account_that_is_not_locked(client, make_user):
    user = make_user(email="carla@example.com")
    assert log_in(client, LOOK_ALIKES["fullwidth"](user.email)).status_code == 302


def test_the_lock_key_is_the_normalised_email_whichever_key_axes_passes(rf):
    from accounts.throttling import attempted_email

    request = rf.post("/accounts/login/", {"username": "\uff43arla@EXAMPLE.com"})
    assert attempted_email(request, {"email": "\u24d2arla@example.com"}) == "carla@example.com"
    assert attempted_email(request, {"username": "CARLA@example.com"}) == "carla@example.com"
    # Neither key: the posted form value, folded the same way.
    assert attempted_email(request, {}) == "carla@example.com"
    assert attempted_email(request, None) == "carla@example.com"
    assert attempted_email(rf.get("/accounts/login/"), None) is None
