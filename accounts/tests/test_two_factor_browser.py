"""The two-factor journey in Chromium: an admin turns it on, logs out, and logs in with a code."""

import re
import time

import pytest
from django.urls import reverse

from accounts import two_factor
from accounts.tests.authenticator import code_from_manual_key, next_code
from accounts.tests.test_login import PASSWORD
from crm.tests.browser import chromium_page, csp_violations

pytestmark = pytest.mark.browser


def enter_password(page, base_url, email):
    page.goto(base_url + reverse("login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_admin_turns_on_two_factor_login_and_logs_in_with_a_code(live_server, transactional_db, admin_user):
    with chromium_page() as page:
        enter_password(page, live_server.url, admin_user.email)
        page.get_by_role("heading", name="Site administration").wait_for()

        page.get_by_role("link", name="Two-factor login").click()
        page.get_by_role("button", name="Set up two-factor login").click()
        manual_key = page.locator("code.manual-key").inner_text()
        page.get_by_label("Code").fill(code_from_manual_key(manual_key))
        page.get_by_role("button", name="Turn on two-factor login").click()

        page.get_by_role("heading", name="Your recovery codes").wait_for()
        codes = page.get_by_role("list", name="Recovery codes").get_by_role("listitem").all_inner_texts()
        assert len(codes) == 10 and all(re.fullmatch(r"[a-z2-7]{8}", code) for code in codes)
        assert two_factor.is_enabled(admin_user)

        page.goto(live_server.url + reverse("admin:index"))
        page.get_by_role("button", name="Log out").click()
        page.wait_for_load_state()

        enter_password(page, live_server.url, admin_user.email)
        page.get_by_role("heading", name="Two-factor login").wait_for()
        assert page.url == live_server.url + reverse("login_verify")
        page.goto(live_server.url + reverse("admin:index"))
        assert page.url.startswith(live_server.url + reverse("login"))  # not logged in yet

        enter_password(page, live_server.url, admin_user.email)
        page.get_by_label("Code").fill("000000")
        page.get_by_role("button", name="Verify").click()
        page.get_by_role("alert").filter(has_text="That code is not right").wait_for()

        time.sleep(1.1)  # django-otp makes a device wait a second after a wrong code
        page.get_by_label("Code").fill(next_code(admin_user))
        page.get_by_role("button", name="Verify").click()
        page.get_by_role("heading", name="Site administration").wait_for()
        assert csp_violations(page) == []


def test_an_agent_logs_in_without_a_code(live_server, transactional_db, make_user):
    agent_user = make_user()
    with chromium_page() as page:
        enter_password(page, live_server.url, agent_user.email)
        page.get_by_role("heading", name="No agent yet").wait_for()
