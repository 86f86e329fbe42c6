"""Opting out of marketing: stop and start words and buttons through the real webhook, the shop's own switch,
and no marketing template ever queued for a customer who opted out."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agents.customer_data import erase_customer
from crm import rls
from crm.tests.fixtures import MARIA_WA_ID as MARIA
from crm.tests.fixtures import PHONE_NUMBER_ID
from outreach import consent
from outreach.models import DEFAULT_OPT_IN_REPLY, DEFAULT_OPT_OUT_REPLY, MarketingPreference, OutreachSettings
from whatsapp.models import MessageTemplate, WebhookEvent
from whatsapp.send import SendError, send_template, send_text
from whatsapp.tests.payloads import message, notification, post, status, text, value


@pytest.fixture
def deliver(deliver_from_maria):
    return deliver_from_maria


def preference_of(shop, customer):
    return MarketingPreference.objects.filter(agent=shop.agent, customer_id=customer.pk).first()


def texts_sent(fake_graph):
    return [sent["text"]["body"] for sent in fake_graph.sent_messages(PHONE_NUMBER_ID) if sent["type"] == "text"]


@pytest.mark.parametrize("written", ["STOP", "stop", "Stop!", " stop 🛑 ", "ＳＴＯＰ", "Darme de baja", "unsubscribe."])
def test_a_customer_who_writes_a_stop_word_is_opted_out_and_told(connected_shop, maria, fake_graph, deliver, written):
    deliver(text(written, from_=MARIA, wamid="wamid.STOP1"))

    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source, found.detail) == (True, "keyword", written.strip())
    assert texts_sent(fake_graph) == [DEFAULT_OPT_OUT_REPLY]


def test_a_stop_word_inside_a_sentence_changes_nothing(connected_shop, maria, fake_graph, deliver):
    deliver(text("Can you stop by the shop tomorrow?", from_=MARIA, wamid="wamid.SENTENCE"))
    assert preference_of(connected_shop, maria) is None and texts_sent(fake_graph) == []


def test_a_re_delivered_stop_is_applied_and_answered_once(connected_shop, maria, fake_graph, deliver):
    stop = text("STOP", from_=MARIA, wamid="wamid.STOP2")
    deliver(stop)
    deliver(stop)
    deliver(text("stop", from_=MARIA, wamid="wamid.STOP3"))  # already out: nothing more to say

    assert texts_sent(fake_graph) == [DEFAULT_OPT_OUT_REPLY]
    assert MarketingPreference.objects.filter(agent=connected_shop.agent).count() == 1


def test_tapping_a_templates_stop_promotions_button_opts_out(connected_shop, maria, fake_graph, deliver):
    deliver(message("button", {"payload": "Stop promotions", "text": "Stop promotions"}, from_=MARIA, wamid="w.B"))
    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source, found.detail) == (True, "button", "Stop promotions")


def test_a_start_word_takes_an_opted_out_customer_back_and_means_nothing_otherwise(
    connected_shop, maria, fake_graph, deliver
):
    deliver(text("START", from_=MARIA, wamid="wamid.EARLY-START"))
    assert preference_of(connected_shop, maria) is None

    deliver(text("STOP", from_=MARIA, wamid="wamid.STOP4"))
    deliver(text("Start", from_=MARIA, wamid="wamid.START"))

    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source, found.detail) == (False, "keyword", "Start")
    assert texts_sent(fake_graph) == [DEFAULT_OPT_OUT_REPLY, DEFAULT_OPT_IN_REPLY]


def test_the_shops_own_words_and_no_reply(connected_shop, maria, fake_graph, deliver):
    OutreachSettings.objects.create(
        agent=connected_shop.agent, stop_words="basta\nno quiero", start_words="sí", opt_out_reply=""
    )
    deliver(text("STOP", from_=MARIA, wamid="wamid.NOT-OURS"))
    assert preference_of(connected_shop, maria) is None
    deliver(text("No quiero!", from_=MARIA, wamid="wamid.OURS"))
    assert preference_of(connected_shop, maria).opted_out
    assert texts_sent(fake_graph) == []


def marketing_and_utility(shop):
    made = {}
    for category in ("MARKETING", "UTILITY"):
        made[category] = MessageTemplate.objects.create(
            configuration=shop.configuration,
            meta_id=category,
            name=f"{category.lower()}_news",
            language="en_US",
            status="APPROVED",
            category=category,
            components=[{"type": "BODY", "text": "New stock is in."}],
            synced_at=timezone.now(),
        )
    return made


def test_no_marketing_template_reaches_a_customer_who_opted_out(connected_shop, maria):
    templates = marketing_and_utility(connected_shop)
    consent.change(connected_shop.agent, maria.pk, opted_out=True, source="keyword", detail="STOP")

    with pytest.raises(SendError, match="Maria Silva opted out of marketing on .* cannot be sent") as refused:
        send_template(connected_shop.agent, maria, templates["MARKETING"], {}, sent_by=None, idempotency_key="m-1")
    assert refused.value.code == "opted_out"
    assert not connected_shop.tables.Message.objects.filter(wa_type="template").exists()

    sent = send_template(connected_shop.agent, maria, templates["UTILITY"], {}, sent_by=None, idempotency_key="u-1")
    assert sent.wa_type == "template"

    consent.change(connected_shop.agent, maria.pk, opted_out=False, source="keyword", detail="START")
    assert send_template(connected_shop.agent, maria, templates["MARKETING"], {}, sent_by=None, idempotency_key="m-2")


def test_the_seller_opts_a_customer_out_and_back_in_from_the_customer_page(connected_shop, maria):
    client = connected_shop.client
    page = reverse("customer_detail", args=[maria.pk])
    assert "Receives marketing." in client.get(page).content.decode()

    response = client.post(reverse("customer_marketing", args=[maria.pk]), {"marketing": "out"}, follow=True)
    assert "Maria Silva will not receive marketing messages." in response.content.decode()
    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source, found.changed_by) == (True, "seller", connected_shop.user)
    assert "Opted out" in client.get(page).content.decode()

    client.post(reverse("customer_marketing", args=[maria.pk]), {"marketing": "in"})
    assert not preference_of(connected_shop, maria).opted_out


def test_a_bad_choice_or_another_shops_customer_changes_nothing(connected_shop, maria, seller_b):
    bea = seller_b.tables.Customer.objects.create(name="Bea", phone="+15559990003")
    client = connected_shop.client
    assert client.post(reverse("customer_marketing", args=[maria.pk]), {"marketing": "maybe"}).status_code == 400
    assert client.post(reverse("customer_marketing", args=[bea.pk + 1000]), {"marketing": "out"}).status_code == 404
    assert not MarketingPreference.objects.exists()


def test_the_seller_sets_the_words_and_is_told_what_is_wrong(connected_shop):
    client = connected_shop.client
    url = reverse("outreach_settings")
    assert "Stop words" in client.get(url).content.decode()

    overlap = {
        "stop_words": "stop\nbasta",
        "start_words": "Basta!",
        "opt_out_reply": "",
        "opt_in_reply": "",
        "messages_per_second": "10",
        "daily_limit": "1000",
    }
    response = client.post(url, overlap)
    assert response.status_code == 400
    assert "“basta” cannot be both a stop word and a start word." in response.content.decode()
    too_many = {**overlap, "start_words": "\n".join(f"w{n}" for n in range(51))}
    assert "At most 50 words; this list has 51." in client.post(url, too_many).content.decode()

    assert "Between 1 and 80" in client.post(url, {**overlap, "messages_per_second": "81"}).content.decode()
    saved = {**overlap, "start_words": "Volver, Sí"}
    assert client.post(url, saved).status_code == 302
    assert consent.word_list(consent.settings_of(connected_shop.agent).start_words) == ["volver", "sí"]


def test_erasing_a_customer_forgets_their_preference(connected_shop, maria):
    consent.change(connected_shop.agent, maria.pk, opted_out=True, source="keyword", detail="STOP")
    erase_customer(connected_shop.agent, connected_shop.tables, maria, actor=connected_shop.user)
    assert not MarketingPreference.objects.exists()


@pytest.mark.postgres
def test_each_agent_sees_only_its_own_preferences(agent_a, agent_b):
    for agent in (agent_a, agent_b):
        MarketingPreference.objects.create(agent=agent, customer_id=1, opted_out=True, source="seller")
        OutreachSettings.objects.create(agent=agent)
    with rls.agent_scope(agent_a), connection.cursor() as cursor:
        for table in ("outreach_marketing_preferences", "outreach_settings"):
            cursor.execute(f"SELECT agent_id FROM {table}")
            assert cursor.fetchall() == [(agent_a.pk,)]


def preferences_webhook(*preferences):
    """Meta's user_preferences change, as its webhook reference shows it."""
    body = value(phone_number_id=PHONE_NUMBER_ID)
    body["contacts"] = [{"profile": {"name": "Maria Silva"}, "wa_id": MARIA}]
    body["user_preferences"] = [
        {"wa_id": MARIA, "detail": detail, "category": "marketing_messages", "value": choice, "timestamp": at}
        for choice, detail, at in preferences
    ]
    return notification(body, field="user_preferences")


def test_meta_telling_the_shop_a_customer_stopped_or_resumed_marketing(client, connected_shop, maria):
    stop = preferences_webhook(("stop", "User requested to stop marketing messages", 1767000000))
    assert post(client, stop).status_code == 200
    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source, found.detail) == (True, "meta", "User requested to stop marketing messages")

    resume = preferences_webhook(("resume", "User requested to resume marketing messages", 1767000600))
    post(client, resume)
    post(client, stop)  # an older notification replayed late changes nothing
    assert preference_of(connected_shop, maria).opted_out is False


def test_a_preference_for_someone_who_is_no_customer_is_noted_and_changes_nothing(client, connected_shop):
    post(client, preferences_webhook(("stop", "User requested to stop marketing messages", 1767000000)))
    assert not MarketingPreference.objects.exists()
    event = WebhookEvent.objects.get()
    assert event.state == "processed" and "who is no customer" in event.summary


def test_a_send_meta_refuses_with_131050_marks_the_customer_opted_out(
    client, connected_shop, maria, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = send_text(connected_shop.agent, maria, "New stock!", sent_by=None, idempotency_key="k-131050")
    sent.refresh_from_db()
    refused = status("failed", wamid=sent.wamid, timestamp="1767000000", recipient=MARIA)
    refused["errors"] = [
        {
            "code": 131050,
            "title": "Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.",
        }
    ]

    post(client, notification(value(statuses=[refused], phone_number_id=PHONE_NUMBER_ID)))

    found = preference_of(connected_shop, maria)
    assert (found.opted_out, found.source) == (True, "meta") and "131050" in found.detail
