"""The Content Security Policy in Chromium: our pages and Django's admin work under it with no violation."""

import pytest
from django.urls import reverse

from accounts.models import Role
from accounts.tests.test_login import PASSWORD
from crm.tests.browser import chromium_page, csp_violations, drop_agent_tables_after_test, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def committed_data(transactional_db):
    yield
    drop_agent_tables_after_test()


def visit(page, url):
    response = page.goto(url)
    assert response.status == 200, url
    assert "script-src 'self'" in response.headers["content-security-policy"]
    return response


def test_the_seller_pages_run_under_the_policy(live_server, committed_data, make_agent):
    agent = make_agent(name="Rosa's Bakery")
    with chromium_page() as page:
        visit(page, live_server.url + reverse("login"))
        assert csp_violations(page) == []
        log_in(page, live_server.url, agent.user.email, PASSWORD)
        assert page.get_by_text("Rosa's Bakery").first.is_visible()
        # htmx is loaded and configured not to inject its own <style>.
        assert page.evaluate("typeof htmx === 'object' && htmx.config.includeIndicatorStyles === false")
        assert csp_violations(page) == []
        visit(page, live_server.url + reverse("password_change"))
        assert csp_violations(page) == []


def test_the_admin_runs_under_the_policy(live_server, committed_data, make_user, make_agent):
    admin = make_user(role=Role.SUPER_ADMIN)
    agent = make_agent()
    with chromium_page() as page:
        log_in(page, live_server.url, admin.email, PASSWORD)
        pages = [
            reverse("admin:index"),
            reverse("admin:accounts_user_changelist"),
            reverse("admin:accounts_user_add"),
            reverse("admin:accounts_user_change", args=[agent.user.pk]),
            reverse("admin:auth_user_password_change", args=[agent.user.pk]),
            reverse("admin:agents_agent_changelist"),
            reverse("admin:whatsapp_whatsappconfiguration_add"),
            reverse("admin:audit_auditevent_changelist"),
        ]
        for url in pages:
            visit(page, live_server.url + url)
            assert csp_violations(page) == [], url

        # Scripts of the admin really run: "select all" ticks every row, the autocomplete asks the server.
        visit(page, live_server.url + reverse("admin:accounts_user_changelist"))
        page.locator("#action-toggle").check()
        assert page.locator("input.action-select:checked").count() == page.locator("input.action-select").count() > 1
        visit(page, live_server.url + reverse("admin:agents_agent_add"))
        page.locator(".select2-selection").first.click()
        page.locator(".select2-search__field").fill(agent.user.email[:6])
        page.locator(".select2-results__option", has_text=agent.user.email).wait_for()
        assert csp_violations(page) == []


def test_the_two_factor_setup_page_draws_its_qr_code_under_the_policy(live_server, transactional_db, make_user):
    admin = make_user(role=Role.ADMIN)
    with chromium_page() as page:
        log_in(page, live_server.url, admin.email, PASSWORD)
        visit(page, live_server.url + reverse("two_factor"))
        page.get_by_role("button", name="Set up two-factor login").click()
        qr_code = page.get_by_role("img", name="QR code to scan with your authenticator app")
        assert qr_code.bounding_box()["width"] >= 150
        assert csp_violations(page) == []
