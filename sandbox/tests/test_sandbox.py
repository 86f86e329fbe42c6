"""The customer sandbox page, against the fake Graph API over real HTTP (the app's webhook stood in for)."""

import hashlib
import hmac
import json
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents import tables
from whatsapp import send
from whatsapp.configuration import save_configuration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def sandbox_on(settings):
    settings.WHATSAPP_SANDBOX = True


def chat_params(configuration, phone="+14155550123", name="John Carter"):
    return {"number": configuration.pk, "phone": phone, "name": name}


def webhooks(receiver):
    return [json.loads(body) for _, body in receiver.received]


@pytest.mark.parametrize(
    "name, args",
    [
        ("page", []),
        ("chat", []),
        ("send", []),
        ("failures", []),
        ("media", [123]),
    ],
)
def test_every_sandbox_page_is_a_404_unless_settings_turn_it_on(client, admin_user, name, args):
    client.force_login(admin_user)
    assert client.get(reverse(f"sandbox:{name}", args=args)).status_code == 404
    assert "Customer sandbox" not in client.get(reverse("home")).content.decode()


def test_the_sandbox_needs_a_login(client, sandbox_on):
    response = client.get(reverse("sandbox:page"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_a_seller_plays_customers_of_their_own_number_only(client, sandbox_on, connected_shop, make_user, fake_graph):
    agent = connected_shop.agent
    save_configuration(user=make_user(), whatsapp_number="+15550100099", phone_number_id="9009", access_token="x")
    customer = tables.for_agent(agent).Customer.objects.create(name="Maria Silva", phone="+5511987654321")

    page = client.get(reverse("sandbox:page")).content.decode()

    assert "+15550100001" in page and "+15550100099" not in page
    assert "Maria Silva (+5511987654321)" in page
    assert f"phone={customer.phone.replace('+', '%2B')}" in page
    assert 'href="/sandbox/"' in client.get(reverse("home")).content.decode()


def test_an_admin_plays_customers_of_every_number(client, sandbox_on, connected_shop, admin_user, make_user):
    save_configuration(user=make_user(), whatsapp_number="+15550100099", phone_number_id="9009", access_token="x")
    client.force_login(admin_user)

    page = client.get(reverse("sandbox:page")).content.decode()

    assert "+15550100001" in page and "+15550100099" in page


def test_a_user_without_a_number_is_told_so(client, sandbox_on, make_user, fake_graph):
    client.force_login(make_user())
    assert "No active WhatsApp number" in client.get(reverse("sandbox:page")).content.decode()


def test_a_customer_message_reaches_the_apps_webhook_signed_as_meta_sends_it(
    client, sandbox_on, connected_shop, fake_graph, webhook_receiver, settings
):
    configuration = connected_shop.configuration

    response = client.post(
        reverse("sandbox:send"),
        {**chat_params(configuration), "text": "Open on Sunday?"},
        HTTP_HOST=webhook_receiver.host,
    )
    assert response.status_code == 302
    assert fake_graph.wait_for_webhooks()

    [(headers, body)] = webhook_receiver.received
    signature = hmac.new(settings.WHATSAPP_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Hub-Signature-256"] == f"sha256={signature}"
    value = json.loads(body)["entry"][0]["changes"][0]["value"]
    assert value["metadata"] == {"display_phone_number": "15550100001", "phone_number_id": "1001"}
    assert value["contacts"] == [{"profile": {"name": "John Carter"}, "wa_id": "14155550123"}]
    assert value["messages"][0]["text"] == {"body": "Open on Sunday?"}
    page = client.get(response.url, HTTP_HOST=webhook_receiver.host).content.decode()
    assert "Open on Sunday?" in page and "John Carter (+14155550123) writing to +15550100001" in page


def test_a_customer_image_is_sent_with_its_caption_and_shown_in_the_chat(
    client, sandbox_on, connected_shop, fake_graph, webhook_receiver
):
    configuration = connected_shop.configuration

    client.post(
        reverse("sandbox:send"),
        {**chat_params(configuration), "text": "This one", "image": SimpleUploadedFile("mug.png", PNG, "image/png")},
        HTTP_HOST=webhook_receiver.host,
    )
    fake_graph.wait_for_webhooks()

    message = webhooks(webhook_receiver)[0]["entry"][0]["changes"][0]["value"]["messages"][0]
    assert message["type"] == "image" and message["image"]["caption"] == "This one"
    media_url = reverse("sandbox:media", args=[message["image"]["id"]])
    chat = client.get(reverse("sandbox:chat"), chat_params(configuration)).content.decode()
    assert f'src="{media_url}"' in chat
    image = client.get(media_url)
    assert image.content == PNG and image["Content-Type"] == "image/png"


@pytest.mark.parametrize(
    "data, error",
    [
        ({"text": ""}, "Type a message or attach an image."),
        ({"text": "x", "image": SimpleUploadedFile("a.gif", b"GIF89a", "image/gif")}, "Only JPEG and PNG images"),
    ],
)
def test_a_bad_customer_message_is_refused_with_the_reason(client, sandbox_on, connected_shop, fake_graph, data, error):
    configuration = connected_shop.configuration

    response = client.post(reverse("sandbox:send"), {**chat_params(configuration), **data})

    assert response.status_code == 200 and error in response.content.decode()
    assert fake_graph.conversation("1001", "14155550123") == []


def test_a_message_needs_a_valid_customer(client, sandbox_on, connected_shop, fake_graph):
    configuration = connected_shop.configuration

    response = client.post(
        reverse("sandbox:send"), {**chat_params(configuration, phone="12"), "text": "hi"}, follow=True
    )

    assert "Choose a business number and your phone number first." in response.content.decode()


def test_the_shops_reply_shows_as_the_customer_sees_it_and_turns_read_while_the_chat_is_open(
    client, sandbox_on, connected_shop, fake_graph, webhook_receiver, django_capture_on_commit_callbacks
):
    agent, configuration = connected_shop.agent, connected_shop.configuration
    params = chat_params(configuration)
    client.post(reverse("sandbox:send"), {**params, "text": "Hi!"}, HTTP_HOST=webhook_receiver.host)
    agent_tables = tables.for_agent(agent)
    # What the intake makes of the webhook (the webhook itself is another module's).
    customer = agent_tables.Customer.objects.create(name="John Carter", phone="+14155550123")
    agent_tables.Message.objects.create(customer=customer, message="Hi!", direction="inbound")

    with django_capture_on_commit_callbacks(execute=True):
        send.send_text(agent, customer, "Hello John!", sent_by=agent.user, idempotency_key="reply")
    fake_graph.wait_for_webhooks()
    chat = client.get(reverse("sandbox:chat"), params, HTTP_HOST=webhook_receiver.host).content.decode()
    fake_graph.wait_for_webhooks()

    assert "Hello John!" in chat and "The shop:" in chat
    wamid = agent_tables.Message.objects.get(idempotency_key="reply").wamid
    statuses = [
        status["status"]
        for payload in webhooks(webhook_receiver)
        for status in payload["entry"][0]["changes"][0]["value"].get("statuses", [])
        if status["id"] == wamid
    ]
    assert statuses == ["sent", "delivered", "read"]


def test_meta_can_be_made_to_fail_the_next_sends_and_answer_normally_again(
    client, sandbox_on, connected_shop, fake_graph, settings
):
    configuration = connected_shop.configuration
    settings.WHATSAPP_GRAPH_MAX_ATTEMPTS = 3

    response = client.post(
        reverse("sandbox:failures"), {**chat_params(configuration), "failure": "500", "messages": 2}, follow=True
    )

    page = response.content.decode()
    assert "The next 2 messages the shop sends: Server error (HTTP 500)" in page
    assert "6 failing answers waiting" in page
    assert all(failure.sends_only and failure.error == "500" for failure in fake_graph.failures)

    client.post(reverse("sandbox:failures"), {"failure": "131047", "messages": 1})
    assert len(fake_graph.failures) == 7
    client.post(reverse("sandbox:failures"), {"failure": "500-once", "messages": 1})
    assert len(fake_graph.failures) == 8
    client.post(reverse("sandbox:failures"), {"failure": "131026-later", "messages": 1})
    assert fake_graph.failures[-1].later and len(fake_graph.failures) == 9

    response = client.post(reverse("sandbox:failures"), {"clear": "1"}, follow=True)
    assert "Meta answers normally again." in response.content.decode() and fake_graph.failures == []

    response = client.post(reverse("sandbox:failures"), {"failure": "418", "messages": 1}, follow=True)
    assert "Choose what Meta answers" in response.content.decode()


def test_the_sandbox_says_how_to_start_the_fake_graph_api_when_it_is_not_running(
    client, sandbox_on, connected_shop, settings
):
    configuration = connected_shop.configuration
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        settings.WHATSAPP_GRAPH_URL = f"http://127.0.0.1:{unused.getsockname()[1]}"

    page = client.get(reverse("sandbox:page"), chat_params(configuration)).content.decode()
    assert "Start it with `python manage.py run_fake_graph`" in page
    assert client.get(reverse("sandbox:chat"), chat_params(configuration)).status_code == 502
    response = client.post(reverse("sandbox:send"), {**chat_params(configuration), "text": "hi"}, follow=True)
    assert "is not answering" in response.content.decode()
    response = client.post(reverse("sandbox:failures"), {"failure": "500", "messages": 1}, follow=True)
    assert "is not answering" in response.content.decode()


def test_the_chat_alone_needs_a_customer_and_unknown_media_is_a_404(client, sandbox_on, connected_shop, fake_graph):
    assert client.get(reverse("sandbox:chat")).status_code == 404
    assert client.get(reverse("sandbox:media", args=[404])).status_code == 404


def test_the_shops_reply_buttons_show_and_a_tap_reaches_the_webhook_as_a_button_reply(
    client, sandbox_on, connected_shop, fake_graph, webhook_receiver, django_capture_on_commit_callbacks
):
    agent, configuration = connected_shop.agent, connected_shop.configuration
    params = chat_params(configuration)
    agent_tables = tables.for_agent(agent)
    customer = agent_tables.Customer.objects.create(name="John Carter", phone="+14155550123")
    agent_tables.Message.objects.create(customer=customer, message="Hi!", direction="inbound")
    with django_capture_on_commit_callbacks(execute=True):
        sent = send.send_buttons(
            agent,
            customer,
            "Order #3: 2 mugs",
            [("order-3-confirm", "Confirm"), ("order-3-change", "Change")],
            sent_by=agent.user,
            idempotency_key="summary",
        )
    sent.refresh_from_db()

    chat = client.get(reverse("sandbox:chat"), params, HTTP_HOST=webhook_receiver.host).content.decode()
    assert "Order #3: 2 mugs" in chat
    assert '<button type="submit" name="button" value="order-3-confirm">Confirm</button>' in chat
    fake_graph.wait_for_webhooks()
    webhook_receiver.received.clear()

    response = client.post(
        reverse("sandbox:tap"),
        {**params, "wamid": sent.wamid, "button": "order-3-confirm"},
        HTTP_HOST=webhook_receiver.host,
    )
    assert response.status_code == 302 and "phone=%2B14155550123" in response.url
    assert fake_graph.wait_for_webhooks()
    [tapped] = [
        m
        for payload in webhooks(webhook_receiver)
        for m in payload["entry"][0]["changes"][0]["value"].get("messages", [])
    ]
    assert tapped["interactive"]["button_reply"] == {"id": "order-3-confirm", "title": "Confirm"}
    assert tapped["context"]["id"] == sent.wamid

    response = client.post(
        reverse("sandbox:tap"),
        {**params, "wamid": sent.wamid, "button": "no-such-button"},
        follow=True,
        HTTP_HOST=webhook_receiver.host,
    )
    assert "has no button" in response.content.decode()
    response = client.post(reverse("sandbox:tap"), {**params, "wamid": ""}, follow=True)
    assert "Choose a business number, your phone number and a button first." in response.content.decode()


def test_the_polled_chat_answers_204_while_nothing_changed(client, sandbox_on, connected_shop, fake_graph):
    configuration = connected_shop.configuration
    params = chat_params(configuration)
    chat = client.get(reverse("sandbox:chat"), params)
    token = chat.context["chat_token"]

    assert client.get(reverse("sandbox:chat"), {**params, "v": token}).status_code == 204
    fake_graph.customer_sends("1001", "14155550123", text="Anything new?")
    assert client.get(reverse("sandbox:chat"), {**params, "v": token}).status_code == 200


def test_the_sandbox_cart_refuses_a_bad_quantity_and_an_unknown_product(client, connected_shop, fake_graph, settings):
    from orders import catalog_sync

    settings.WHATSAPP_SANDBOX = True
    catalog_sync.set_catalog_id(connected_shop.agent, "1700000000000001")
    who = {"number": connected_shop.configuration.pk, "phone": "+14155550123", "name": "John Carter"}
    response = connected_shop.client.post(
        reverse("sandbox:cart_add"), {**who, "product": "vase-blue", "quantity": "100"}, follow=True
    )
    assert "a quantity from 1 to 99" in response.content.decode()
    connected_shop.client.post(reverse("sandbox:cart_add"), {**who, "product": "not-in-catalog", "quantity": "1"})
    connected_shop.client.post(reverse("sandbox:cart_add"), {**who, "product": "vase-blue", "quantity": "2"})
    response = connected_shop.client.post(reverse("sandbox:cart_send"), who, follow=True)
    assert "Your cart was sent to the shop." in response.content.decode()
    assert fake_graph.wait_for_webhooks()
    orders = [d["payload"]["entry"][0]["changes"][0]["value"]["messages"][0]["order"] for d in fake_graph.deliveries]
    assert orders[-1]["product_items"] == [
        {"product_retailer_id": "vase-blue", "quantity": 2, "item_price": 25.5, "currency": "USD"}
    ]
