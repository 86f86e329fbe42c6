"""Web Push: a browser subscribes and unsubscribes through the dashboard, a customer's message is pushed by the
worker to a local push service stand-in that verifies the VAPID JWT and decrypts the payload, nothing of the
message's text is pushed unless the seller turns it on, and a subscription the push service forgot is deleted."""

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult
from py_vapid import Vapid

from alerts import push
from alerts.models import AlertSettings, PushSubscription
from whatsapp.tests import payloads

from .push_service import PushService, b64url

SUBJECT = "mailto:ops@example.com"


@pytest.fixture
def push_service():
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def push_on(settings):
    """Web Push configured as production configures it (keys from generate_vapid_keys), with the local
    stand-in reachable over plain http."""
    settings.WEBPUSH_VAPID_PUBLIC_KEY, settings.WEBPUSH_VAPID_PRIVATE_KEY = push.generate_vapid_keys()
    settings.WEBPUSH_SUBJECT = SUBJECT
    settings.WEBPUSH_ALLOW_HTTP_ENDPOINTS = True
    return settings.WEBPUSH_VAPID_PUBLIC_KEY


@pytest.fixture
def shop(connect_number_of, seller):
    """The seller with a WhatsApp number that Meta's example payloads (whatsapp.tests.payloads) write to."""
    connect_number_of(seller)
    return seller


@pytest.fixture
def connect_number_of():
    from whatsapp.configuration import save_configuration

    def connect(seller):
        save_configuration(
            user=seller.user,
            whatsapp_number="+" + payloads.DISPLAY_PHONE_NUMBER,
            phone_number_id=payloads.PHONE_NUMBER_ID,
            business_account_id=payloads.BUSINESS_ACCOUNT_ID,
            access_token="test-token",
        )

    return connect


def subscribe(seller, browser):
    return seller.client.post(reverse("push_subscribe"), browser.subscription)


@pytest.fixture
def customer_writes(django_capture_on_commit_callbacks):
    """Meta posts a customer's text message to the webhook, signed; what waits for the commit then runs."""

    def write(text="Is the blue mug still available?"):
        body = payloads.notification(payloads.value(messages=[payloads.text(text)], contacts=[payloads.contact()]))
        with django_capture_on_commit_callbacks(execute=True):
            assert payloads.post(Client(), body).status_code == 200

    return write


def test_a_browser_subscribes_and_unsubscribes(seller, push_on, push_service):
    browser = push_service.new_browser()

    response = subscribe(seller, browser)

    assert response.status_code == 201
    [row] = PushSubscription.objects.all()
    assert (row.agent, row.user, row.endpoint, row.p256dh) == (
        seller.agent,
        seller.user,
        browser.endpoint,
        browser.p256dh,
    )
    assert subscribe(seller, browser).status_code == 201  # subscribing again replaces, never doubles
    assert PushSubscription.objects.count() == 1

    response = seller.client.post(reverse("push_unsubscribe"), {"endpoint": browser.endpoint})

    assert (response.status_code, response.json()) == (200, {"unsubscribed": True})
    assert not PushSubscription.objects.exists()


def test_subscribing_needs_the_csrf_token(seller, push_on, push_service):
    client = Client(enforce_csrf_checks=True)
    client.force_login(seller.user)

    response = client.post(reverse("push_subscribe"), push_service.new_browser().subscription)

    assert response.status_code == 403
    assert not PushSubscription.objects.exists()


def test_another_users_or_agents_subscription_cannot_be_deleted(
    seller, seller_b, second_agent_of_a, push_on, push_service
):
    theirs = push_service.new_browser("B's phone")
    assert subscribe(seller_b, theirs).status_code == 201
    other_agent = push.subscribe(
        second_agent_of_a, seller.user, **push_service.new_browser("A's other shop").subscription
    )

    for endpoint in (theirs.endpoint, other_agent.endpoint):
        response = seller.client.post(reverse("push_unsubscribe"), {"endpoint": endpoint})
        assert response.status_code == 404
        assert response.json() == {"error": "This browser was not subscribed."}
    assert PushSubscription.objects.count() == 2


@pytest.mark.parametrize(
    "change, error",
    [
        ({"endpoint": "ftp://push.example.com/x"}, "This is not a push service's address"),
        ({"endpoint": "https://user:secret@push.example.com/x"}, "This is not a push service's address"),
        ({"p256dh": "AAAA"}, "The browser's public key is not one a browser makes."),
        ({"auth": "not base64 at all!"}, "The browser's authentication secret is not one a browser makes."),
        ({"auth": ""}, "This field is required."),
    ],
)
def test_a_subscription_a_browser_would_not_make_is_refused_with_a_sentence(
    seller, push_on, push_service, change, error
):
    response = seller.client.post(reverse("push_subscribe"), {**push_service.new_browser().subscription, **change})

    assert response.status_code == 400
    assert error in response.json()["error"]
    assert not PushSubscription.objects.exists()


def test_push_endpoints_must_be_https_in_production(seller, push_on, push_service, settings):
    settings.WEBPUSH_ALLOW_HTTP_ENDPOINTS = False

    response = subscribe(seller, push_service.new_browser())

    assert response.status_code == 400
    assert "it must start with https://" in response.json()["error"]


def test_push_is_off_without_vapid_keys(seller, push_service, settings):
    assert settings.WEBPUSH_VAPID_PRIVATE_KEY == ""

    response = subscribe(seller, push_service.new_browser())

    assert (response.status_code, response.json()["error"]) == (
        409,
        "Push notifications are not set up on this server.",
    )
    assert b"Not set up on this server" in seller.client.get(reverse("alert_settings")).content


def test_a_customer_message_is_pushed_encrypted_without_its_text(shop, push_on, push_service, client, customer_writes):
    browser = push_service.new_browser()
    subscribe(shop, browser)

    customer_writes()

    [pushed] = push_service.wait_for(browser)
    customer = shop.tables.Customer.objects.get()
    assert pushed.payload == {
        "title": "New message from Sheena",
        "body": "Open the conversation to read it.",
        "url": reverse("conversation", args=[customer.pk]),
        "tag": f"conversation-{customer.pk}",
    }
    assert "blue mug" not in repr(pushed.payload)
    assert pushed.vapid_public_key == push_on
    assert pushed.claims["sub"] == SUBJECT
    assert (pushed.headers["urgency"], pushed.headers["topic"]) == ("high", f"c{customer.pk}")
    assert push_service.refused == []
    assert PushSubscription.objects.get().last_pushed_at is not None


def test_the_message_text_is_pushed_once_the_seller_turns_it_on(shop, push_on, push_service, customer_writes):
    browser = push_service.new_browser()
    subscribe(shop, browser)
    response = shop.client.post(reverse("alert_settings"), {"show_message_text": "on"})
    assert response.status_code == 302
    assert AlertSettings.objects.get().show_message_text is True

    customer_writes()

    [pushed] = push_service.wait_for(browser)
    assert pushed.payload["body"] == "Is the blue mug still available?"


def test_the_push_waits_for_the_worker_not_the_webhook(shop, push_on, push_service, settings, customer_writes):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    browser = push_service.new_browser()
    subscribe(shop, browser)

    customer_writes()

    [task] = DBTaskResult.objects.filter(task_path="alerts.tasks.push_new_message")
    message = shop.tables.Message.objects.get()
    assert task.args_kwargs == {"args": [shop.agent.pk, message.pk], "kwargs": {}}
    assert browser.received == []


def test_no_push_is_queued_for_an_agent_without_subscriptions(shop, push_on, settings, customer_writes):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

    customer_writes()

    assert not DBTaskResult.objects.filter(task_path="alerts.tasks.push_new_message").exists()


def test_a_subscription_the_push_service_forgot_is_deleted(shop, push_on, push_service, customer_writes):
    gone, kept = push_service.new_browser("old laptop"), push_service.new_browser("phone")
    subscribe(shop, gone)
    subscribe(shop, kept)
    gone.gone = True

    customer_writes()

    push_service.wait_for(kept)
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [kept.endpoint]


def test_a_message_read_before_the_worker_ran_is_not_pushed(shop, push_on, push_service, settings, customer_writes):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    browser = push_service.new_browser()
    subscribe(shop, browser)
    customer_writes()
    message = shop.tables.Message.objects.get()
    shop.tables.Message.objects.filter(pk=message.pk).update(is_read=True)

    assert push.push_new_message(shop.agent.pk, message.pk) == "already read"
    assert browser.received == []


def test_generate_vapid_keys_prints_a_pair_the_settings_take(capsys):
    call_command("generate_vapid_keys")

    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    private = Vapid.from_string(lines["WEBPUSH_VAPID_PRIVATE_KEY"]).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert lines["WEBPUSH_VAPID_PUBLIC_KEY"] == b64url(private)
