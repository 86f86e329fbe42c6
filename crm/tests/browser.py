"""Real Chromium (Debian's) driven by Playwright, for tests that need a browser, and the CSP
violations it reports."""

import os
from contextlib import contextmanager

from django.db import connections

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Runs before any page script: keeps every CSP violation the page reports.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " blocked " + (event.blockedURI || "inline"));
});
"""


# The longest any step waits for its condition (an element, a navigation, an expect).
WAIT_MS = 30_000


@contextmanager
def chromium_page():
    """A fresh browser page; `page.csp_violations` lists the CSP violations seen so far, from the
    console and from the securitypolicyviolation events of every document loaded."""
    from playwright.sync_api import expect, sync_playwright

    # Bounds on waiting for a condition, never a wait in themselves: generous, because a page on a machine
    # that runs two suites side by side may take seconds to load its scripts.
    expect.set_options(timeout=WAIT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(WAIT_MS)
            page.add_init_script(RECORD_CSP_VIOLATIONS)
            console_violations = []
            page.on(
                "console",
                lambda message: (
                    console_violations.append(message.text) if "Content Security Policy" in message.text else None
                ),
            )
            page.console_violations = console_violations
            yield page
        finally:
            browser.close()
            # Inside Playwright's sync API the test runs in another context (greenlet), where Django opened
            # database connections of its own: close them, or the test database cannot be dropped at the end.
            connections.close_all()


def csp_violations(page):
    """Violations reported on the current document, plus every console report so far."""
    return page.evaluate("window.__cspViolations || []") + page.console_violations


def drop_agent_tables_after_test():
    """For tests on committed data (live server): drop agents' tables before the database is flushed,
    which cannot truncate `agents` while agent tables reference it."""
    from agents.models import Agent
    from agents.provisioning import delete_agent

    for agent in Agent.objects.all():
        delete_agent(agent)


def log_in(page, base_url, email, password):
    """Log in through the login page, as a person would: by the fields' labels and the button's name."""
    from django.urls import reverse

    page.goto(base_url + reverse("login"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
