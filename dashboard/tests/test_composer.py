"""The composer: text, attachments and templates reach the fake Graph API; the window rules what is offered."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from agents.tests.factories import customer, message
from crm.tests.fixtures import PHONE_NUMBER_ID
from whatsapp.message_templates import sync_templates

HTMX = {"HTTP_HX_REQUEST": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def synced_templates(connected_shop):
    """The connected shop's templates, fetched from the fake Graph API."""
    sync_templates(connected_shop.configuration)


def wrote(t, who, ago):
    return message(t, who, "Hi, is the blue mug in stock?", at=timezone.now() - ago)


def open_page(seller, who, **params):
    return seller.client.get(reverse("conversation", args=[who.pk]), params).content.decode()


def key_of(body):
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', body).group(1)


def test_an_open_window_offers_free_text_and_shows_the_time_left(connected_shop, synced_templates):
    ana = customer(connected_shop.tables, "Ana Lima")
    wrote(connected_shop.tables, ana, dt.timedelta(hours=1, minutes=30))

    body = open_page(connected_shop, ana)

    assert re.search(r"<strong data-window-closes=\"[^\"]+\">22 h 2\d min</strong> more", body)
    assert '<label for="compose-text" class="visually-hidden">Message</label>' in body
    assert 'data-first-name="Ana"' in body
    assert '<button type="submit" class="primary">Send</button>' in body
    assert "Send a template instead" in body


def test_sending_text_reaches_the_graph_api_and_shows_in_the_thread(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t, "Ana Lima", phone="+5511987654321")
    wrote(t, ana, dt.timedelta(minutes=5))
    key = key_of(open_page(connected_shop, ana))

    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(
            reverse("send_message", args=[ana.pk]), {"text": "Yes! 12 left.", "idempotency_key": key}, **HTMX
        )

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="thread-tail"' in body and "Yes! 12 left." in body
    assert 'id="composer" class="composer-panel" hx-swap-oob="true"' in body and key not in body  # a fresh form
    assert [m["text"]["body"] for m in fake_graph.sent_messages()] == ["Yes! 12 left."]
    sent = t.Message.objects.get(direction="outbound")
    assert (sent.status, sent.sent_by, sent.idempotency_key) == ("sent", connected_shop.user.pk, key)


def test_a_double_submitted_send_sends_once(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(minutes=5))
    form = {"text": "Once only", "idempotency_key": key_of(open_page(connected_shop, ana))}
    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(reverse("send_message", args=[ana.pk]), form, **HTMX)
        connected_shop.client.post(reverse("send_message", args=[ana.pk]), form, **HTMX)
    assert t.Message.objects.filter(direction="outbound").count() == 1
    assert len(fake_graph.sent_messages()) == 1


def test_an_attachment_is_sent_with_the_text_as_caption(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(minutes=5))
    upload = SimpleUploadedFile("mug.png", PNG, content_type="image/png")

    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(
            reverse("send_message", args=[ana.pk]),
            {
                "text": "This one?",
                "attachment": upload,
                "idempotency_key": key_of(open_page(connected_shop, ana)),
            },
            **HTMX,
        )

    [sent] = fake_graph.sent_messages()
    assert sent["type"] == "image" and sent["image"]["caption"] == "This one?"
    row = t.Message.objects.get(direction="outbound")
    assert reverse("message_media", args=[row.pk]) in response.content.decode()
    assert connected_shop.client.get(reverse("message_media", args=[row.pk]))["Content-Type"] == "image/png"


def test_a_refused_send_says_why_and_changes_nothing(connected_shop, synced_templates, fake_graph):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(minutes=5))
    key = key_of(open_page(connected_shop, ana))

    empty = connected_shop.client.post(
        reverse("send_message", args=[ana.pk]), {"text": "  ", "idempotency_key": key}, **HTMX
    )
    assert empty["HX-Reswap"] == "none" and "Type a message first." in empty.content.decode()
    bad_file = SimpleUploadedFile("virus.exe", b"MZ", content_type="application/octet-stream")
    refused = connected_shop.client.post(
        reverse("send_message", args=[ana.pk]), {"text": "x", "attachment": bad_file, "idempotency_key": key}, **HTMX
    )
    assert "WhatsApp cannot send .exe files" in refused.content.decode()
    assert 'value="x"' not in refused.content.decode() or "x</textarea>" in refused.content.decode()
    assert not t.Message.objects.filter(direction="outbound").exists()
    assert fake_graph.sent_messages() == []


def test_a_closed_window_forces_the_template_picker(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t, "Ana Lima")
    wrote(t, ana, dt.timedelta(hours=24, minutes=1))

    body = open_page(connected_shop, ana)
    assert "Free replies are closed." in body and "More than 24 hours have passed since Ana Lima last wrote" in body
    assert 'id="compose-text"' not in body
    assert '<label for="template-choice">Template</label>' in body
    assert "Welcome and congratulations!!" in body  # the first sendable template, previewed

    text = connected_shop.client.post(
        reverse("send_message", args=[ana.pk]), {"text": "hello?", "idempotency_key": key_of(body)}, **HTMX
    )
    assert "only allows an approved template" in text.content.decode()
    assert not t.Message.objects.filter(direction="outbound").exists()


def test_a_template_is_chosen_filled_in_and_sent(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    from whatsapp.models import MessageTemplate

    t = connected_shop.tables
    ana = customer(t, "Ana Lima")
    order_update = MessageTemplate.objects.get(name="order_update")

    form = connected_shop.client.get(reverse("template_form", args=[ana.pk]), {"template": order_update.pk}, **HTMX)
    body = form.content.decode()
    assert "Hi {{1}}, your order {{2}} is now {{3}}." in body
    labels = re.findall(r'<label for="template-var-\d">([^<]+)</label>', body)
    assert labels == ["Body variable {{1}}", "Body variable {{2}}", "Body variable {{3}}"]

    missing = connected_shop.client.post(
        reverse("send_template", args=[ana.pk]),
        {"template": order_update.pk, "var-body.1": "Ana", "idempotency_key": key_of(body)},
        **HTMX,
    )
    assert "Fill in the Body variable {{2}}." in missing.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        sent = connected_shop.client.post(
            reverse("send_template", args=[ana.pk]),
            {
                "template": order_update.pk,
                "var-body.1": "Ana",
                "var-body.2": "#1042",
                "var-body.3": "on its way",
                "idempotency_key": key_of(body),
            },
            **HTMX,
        )

    assert "Hi Ana, your order #1042 is now on its way." in sent.content.decode()
    [payload] = fake_graph.sent_messages()
    assert payload["type"] == "template" and payload["template"]["name"] == "order_update"
    assert (
        connected_shop.client.post(reverse("send_template", args=[ana.pk]), {"template": "999999"}, **HTMX).status_code
        == 200
    )


def test_a_failed_send_shows_the_reason_and_resends(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(minutes=5))
    key = key_of(open_page(connected_shop, ana))
    fake_graph.fail_next(error="131026")
    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(
            reverse("send_message", args=[ana.pk]), {"text": "Are you there?", "idempotency_key": key}, **HTMX
        )
    failed = t.Message.objects.get(direction="outbound")
    assert failed.status == "failed"

    body = open_page(connected_shop, ana)
    assert "Not sent." in body and "Message Undeliverable" in body and "error 131026" in body
    assert f'action="{reverse("resend_message", args=[failed.pk])}"' in body

    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(reverse("resend_message", args=[failed.pk]))
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.status == "sent" and len(fake_graph.sent_messages()) == 2


def test_without_htmx_sending_redirects_back_and_errors_are_flashed(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        ok = connected_shop.client.post(
            reverse("send_message", args=[ana.pk]), {"text": "plain form", "idempotency_key": "k-1"}
        )
    assert ok.status_code == 302 and ok["Location"] == reverse("conversation", args=[ana.pk])
    refused = connected_shop.client.post(
        reverse("send_message", args=[ana.pk]), {"text": "", "idempotency_key": "k-2"}, follow=True
    )
    assert "Type a message first." in refused.content.decode()


def test_the_tail_brings_the_free_composer_back_when_the_customer_writes_again(connected_shop, synced_templates):
    t = connected_shop.tables
    ana = customer(t)
    wrote(t, ana, dt.timedelta(hours=30))
    body = open_page(connected_shop, ana)
    poll = re.search(r'id="thread-tail"[^>]*hx-get="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert "open=0" in poll and connected_shop.client.get(poll).status_code == 204

    message(t, ana, "Hello again", at=timezone.now())
    answer = connected_shop.client.get(poll).content.decode()
    assert "Hello again" in answer and 'hx-swap-oob="true"' in answer and 'id="compose-text"' in answer


def test_opening_a_conversation_sends_a_read_receipt(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    ana = customer(t)
    last = message(t, ana, "read me", at=timezone.now(), wamid="wamid.READ-ME")
    with django_capture_on_commit_callbacks(execute=True):
        open_page(connected_shop, ana)
    assert fake_graph.read_receipts == [
        {"phone_number_id": PHONE_NUMBER_ID, "message_id": last.wamid, "typing_indicator": {"type": "text"}}
    ]


def test_without_templates_the_picker_offers_to_fetch_them(
    connected_shop, synced_templates, fake_graph, django_capture_on_commit_callbacks
):
    from whatsapp.models import MessageTemplate

    MessageTemplate.objects.all().delete()
    ana = customer(connected_shop.tables)
    body = open_page(connected_shop, ana)
    assert "no approved templates yet" in body
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(reverse("refresh_templates", args=[ana.pk]), follow=True)
    assert "Asking WhatsApp for your templates" in response.content.decode()
    assert MessageTemplate.objects.filter(name="hello_world").exists()


def test_templates_are_fetched_from_the_conversation_or_order_settings_and_back_there(
    connected_shop, fake_graph, django_capture_on_commit_callbacks
):
    ana = customer(connected_shop.tables)
    before = len(fake_graph.calls("/message_templates"))
    with django_capture_on_commit_callbacks(execute=True):
        from_conversation = connected_shop.client.post(reverse("refresh_templates", args=[ana.pk]))
        from_settings = connected_shop.client.post(reverse("order_refresh_templates"))
    assert from_conversation["Location"] == reverse("conversation", args=[ana.pk])
    assert from_settings["Location"] == reverse("order_settings")
    assert len(fake_graph.calls("/message_templates")) == before + 2


def test_an_agent_without_a_number_is_told_so_when_sending(seller):
    ana = customer(seller.tables)
    wrote(seller.tables, ana, dt.timedelta(minutes=1))
    response = seller.client.post(
        reverse("send_message", args=[ana.pk]), {"text": "hi", "idempotency_key": "k"}, **HTMX
    )
    assert "no active WhatsApp number connected" in response.content.decode()


def test_another_agents_customer_or_message_cannot_be_sent_to(connected_shop, synced_templates, seller_b):
    theirs = customer(seller_b.tables)
    failed = message(seller_b.tables, theirs, "x", direction="outbound", status="failed")
    for url in (
        reverse("send_message", args=[theirs.pk]),
        reverse("send_template", args=[theirs.pk]),
        reverse("resend_message", args=[failed.pk]),
        reverse("refresh_templates", args=[theirs.pk]),
    ):
        assert connected_shop.client.post(url, {"text": "hi", "idempotency_key": "k"}).status_code == 404
    assert connected_shop.client.get(reverse("template_form", args=[theirs.pk])).status_code == 404


def test_without_javascript_a_template_is_chosen_by_reloading_the_page(connected_shop, synced_templates):
    from whatsapp.models import MessageTemplate

    ana = customer(connected_shop.tables, "Ana")
    wrote(connected_shop.tables, ana, dt.timedelta(minutes=5))
    items_on_hold = MessageTemplate.objects.get(name="items_on_hold")

    chosen = connected_shop.client.get(reverse("template_form", args=[ana.pk]), {"template": items_on_hold.pk})
    assert chosen.status_code == 302
    body = connected_shop.client.get(chosen["Location"]).content.decode()
    assert '<details class="template-picker" open>' in body
    assert "Body variable {{first_name}}" in body and 'placeholder="e.g. Pablo"' in body
    assert (
        "Choose a template…" not in open_page(connected_shop, ana, template="not-a-number").split("template-picker")[0]
    )
