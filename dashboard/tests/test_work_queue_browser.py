"""The work queue in real Chromium, as a seller uses it at 1366 px and on a 390 px phone: mark done with the
keyboard (never while typing), snooze, label, note; the phone's menu, composer and long names.

PostgreSQL only: the live server answers the page's polls on several threads at once. Screenshots go to
$SCREENSHOTS (default /tmp/crm-screenshots) to be looked at.
"""

import os
import re
from pathlib import Path

import pytest
from django.urls import reverse

from agents import conversations, labels
from crm.tests.browser import chromium_page, csp_violations, log_in
from crm.tests.fixtures import PASSWORD, add_inbound

pytestmark = [pytest.mark.browser, pytest.mark.postgres]

SHOTS = Path(os.environ.get("SCREENSHOTS", "/tmp/crm-screenshots"))
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorff" * 6  # 210 characters, no space


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


@pytest.fixture
def shop(live_shop):
    t = live_shop.tables
    people = {}
    for minutes, name, phone in ((30, "Maria Silva", "+5511987654321"), (20, "John Carter", "+14155550123")):
        people[name] = t.Customer.objects.create(name=name, phone=phone)
        add_inbound(t, people[name], ago=conversations.dt.timedelta(minutes=minutes), text=f"Hello from {name}")
    people["long"] = t.Customer.objects.create(name=LONG_NAME, phone="+442079460000")
    add_inbound(t, people["long"], ago=conversations.dt.timedelta(minutes=10), text="*Bold* question _here_?")
    return live_shop, people


def test_the_seller_works_the_queue_with_keys_snooze_labels_and_notes(live_server, shop):
    from playwright.sync_api import expect

    live_shop, people = shop
    labels.save_label(live_shop.agent, name="Pending payment", colour="orange")
    with chromium_page() as page:
        page.set_viewport_size({"width": 1366, "height": 800})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.goto(live_server.url + reverse("inbox") + "?show=needs_reply")
        filters = page.get_by_role("navigation", name="Show conversations", exact=True)
        expect(filters.get_by_role("link", name=re.compile("Needs reply"))).to_contain_text("3")

        # j opens the first conversation, j again the next; typing "e" in the composer marks nothing done.
        page.keyboard.press("j")
        expect(page.get_by_role("heading", level=1)).to_have_text(LONG_NAME)
        page.keyboard.press("j")
        expect(page.get_by_role("heading", name="John Carter")).to_be_visible()
        composer = page.get_by_role("textbox", name="Message")
        composer.fill("e")
        composer.press("e")
        expect(composer).to_have_value("ee")
        expect(page.get_by_role("button", name="Mark done")).to_be_visible()

        # "?" shows the help; e (outside a field) marks done, and the conversation leaves Needs reply.
        composer.fill("")
        page.get_by_role("heading", name="John Carter").click()
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        page.keyboard.press("Escape")
        page.keyboard.press("e")
        expect(page.get_by_role("button", name="Reopen")).to_be_visible()
        expect(page.get_by_text("The conversation with John Carter is done")).to_be_visible()
        expect(filters.get_by_role("link", name=re.compile("Needs reply"))).to_contain_text("2")

        # Snooze Maria until tomorrow.
        page.get_by_role("link", name=re.compile("Maria Silva")).click()
        page.get_by_text("Snooze", exact=True).click()
        page.get_by_role("button", name="Until tomorrow 9:00").click()
        expect(page.get_by_text(re.compile("Snoozed until .* 09:00"))).to_have_count(2)  # message and state

        # Label and note beside the thread.
        aside = page.get_by_role("complementary", name="Labels & notes")
        aside.get_by_label("Pending payment").check()
        aside.get_by_role("button", name="Save labels").click()
        expect(page.locator(".thread-state").get_by_text("Pending payment")).to_be_visible()
        aside = page.get_by_role("complementary", name="Labels & notes")
        aside.get_by_label("Private note", exact=True).fill("Pays by bank transfer on Fridays")
        aside.get_by_role("button", name="Add note").click()
        note = page.get_by_role("complementary", name="Labels & notes").get_by_role("listitem")
        expect(note).to_contain_text("Pays by bank transfer on Fridays")
        expect(note).to_contain_text(live_shop.user.name)
        shot(page, "conversation-1366")

        # The label filters the inbox, with the queue filter chosen: Maria is snoozed, not waiting.
        page.get_by_role("navigation", name="Show conversations with a label").get_by_role(
            "link", name=re.compile("Pending payment")
        ).click()
        expect(page.get_by_text("No conversations here with the label “Pending payment”.")).to_be_visible()
        filters.get_by_role("link", name=re.compile("Snoozed")).click()
        expect(page.locator(".row-name")).to_have_text(["Maria Silva"])
        shot(page, "inbox-label-1366")

        # A new label on the Labels page, put on every customer at once from the customers list.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Labels").click()
        page.get_by_label("Name").fill("VIP")
        page.get_by_label("Purple").check()
        page.get_by_role("button", name="Save label").click()
        expect(page.get_by_text("The label “VIP” was saved.")).to_be_visible()
        shot(page, "labels-1366")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
        page.get_by_label("Tick every customer on this page").check()
        page.get_by_label("Label the ticked customers").select_option(label="VIP")
        page.get_by_role("button", name="Add label").click()
        expect(page.get_by_text("“VIP” added to 3 customers.")).to_be_visible()
        expect(page.get_by_role("table").locator(".chip", has_text="VIP")).to_have_count(3)
        shot(page, "customers-1366")
        assert csp_violations(page) == []


def test_on_a_phone_everything_is_reachable_and_nothing_widens_the_page(live_server, shop):
    from playwright.sync_api import expect

    live_shop, people = shop
    with chromium_page() as page:
        page.set_viewport_size({"width": 390, "height": 844})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)

        def fits():
            return page.evaluate("document.documentElement.scrollWidth") <= 390

        menu = page.get_by_role("button", name="Menu")
        expect(page.get_by_role("link", name="Quick replies")).to_be_hidden()
        menu.click()
        for name in ("Inbox", "Customers", "Quick replies", "Labels", "Customer sandbox", "Change password"):
            expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
        shot(page, "menu-390")
        assert fits()

        page.get_by_role("link", name="Customer sandbox").click()
        expect(page.get_by_role("link", name="Customer sandbox")).to_be_hidden()  # the menu closed with the page
        page.get_by_role("button", name="Menu").click()
        expect(page.get_by_role("link", name="Customer sandbox")).to_have_attribute("aria-current", "page")
        expect(page.locator(".current-agent")).to_have_text("Shop A")

        page.goto(live_server.url + reverse("customer_list"))
        shot(page, "customers-390")
        lines = page.get_by_role("cell", name="+1 415-555-0123").evaluate(
            "cell => { const range = document.createRange(); range.selectNodeContents(cell);"
            " return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size; }"
        )
        assert lines == 1, "the phone number wraps"
        assert fits()

        for url in (
            reverse("customer_detail", args=[people["long"].pk]),
            reverse("conversation", args=[people["long"].pk]),
        ):
            page.goto(live_server.url + url)
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.scrollWidth > e.clientWidth + 1 && e.clientWidth)"
                ".slice(0, 8).map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '>' + e.clientWidth)"
            )
            assert fits(), f"{url} is wider than the phone: {wide}"
        expect(page.locator("strong").filter(has_text="Bold")).to_be_visible()
        shot(page, "conversation-390")

        # The new-order panel leaves the composer reachable.
        page.get_by_role("link", name="New order").click()
        expect(page.get_by_role("heading", name=re.compile("New order"))).to_be_visible()
        expect(page.get_by_role("textbox", name="Message")).to_be_in_viewport()
        expect(page.get_by_role("button", name="Send", exact=True)).to_be_in_viewport()
        shot(page, "order-panel-390")
        assert fits()
        assert csp_violations(page) == []


def _at_end(page, element_id):
    """Wait until the scrolled box is at its end (its images loaded, if any), or time out."""
    page.wait_for_function(
        "id => { const box = document.getElementById(id);"
        " const images = [...box.querySelectorAll('img')].every(image => image.complete && image.naturalHeight);"
        " return images && box.scrollHeight - box.scrollTop - box.clientHeight < 4; }",
        arg=element_id,
    )


def test_a_conversation_with_an_image_opens_at_its_last_message(live_server, shop):
    import io

    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from PIL import Image
    from playwright.sync_api import expect

    live_shop, people = shop
    t, maria = live_shop.tables, people["Maria Silva"]
    picture = io.BytesIO()
    Image.new("RGB", (600, 900), "teal").save(picture, "PNG")
    stored = default_storage.save("whatsapp/test/tall.png", ContentFile(picture.getvalue()))
    for n in range(20):
        add_inbound(t, maria, ago=conversations.dt.timedelta(minutes=9 - n * 0.1), text=f"line {n}")
    image = t.Message.objects.create(
        customer=maria,
        message="Image",
        direction="inbound",
        media_type="image",
        wa_type="image",
        media_url=stored,
        media_mime_type="image/png",
        timestamp=conversations.timezone.now() - conversations.dt.timedelta(minutes=2),
    )
    conversations.note_new_message(t, image)
    add_inbound(t, maria, ago=conversations.dt.timedelta(minutes=1), text="The very last message")

    with chromium_page() as page:
        page.set_viewport_size({"width": 1366, "height": 800})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.goto(live_server.url + reverse("conversation", args=[maria.pk]))
        _at_end(page, "thread-scroll")
        expect(page.get_by_role("log", name="Chat history").get_by_text("The very last message")).to_be_in_viewport()
    default_storage.delete(stored)


def test_the_sandbox_chat_shows_its_newest_message_after_each_send(live_server, live_shop, fake_graph):
    from playwright.sync_api import expect

    from crm.tests.fixtures import PHONE_NUMBER_ID

    for n in range(15):
        fake_graph.customer_sends(PHONE_NUMBER_ID, "14155550123", name="John Carter", text=f"Earlier message {n}")
    assert fake_graph.wait_for_webhooks()
    with chromium_page() as page:
        page.set_viewport_size({"width": 1366, "height": 800})
        log_in(page, live_server.url, live_shop.user.email, PASSWORD)
        page.get_by_role("link", name="Customer sandbox").click()
        expect(page.get_by_role("link", name="Customer sandbox")).to_have_attribute("aria-current", "page")
        expect(page.locator(".current-agent")).to_have_text("Shop A")
        page.get_by_label("Your phone number").fill("+1 415 555 0123")
        page.get_by_label("Your name").fill("John Carter")
        page.get_by_role("button", name="Open the chat").click()
        for text in ("First new one", "Second new one"):
            page.get_by_label("Your message").fill(text)
            page.get_by_role("button", name="Send as John Carter").click()
            expect(page.get_by_role("list", name="Conversation")).to_contain_text(text)
            _at_end(page, "chat")
            expect(page.get_by_role("list", name="Conversation").get_by_text(text)).to_be_in_viewport()
        shot(page, "sandbox-1366")
