"""The whole loop with no Meta account: a sandbox customer writes, the app's real webhook (a live server)
receives it signed, the agent answers, the reply reaches the customer's phone and its ticks come back."""

import re
import time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agents import tables
from whatsapp import send


def wait_until(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_sandbox_round_trip_customer_message_in_agent_reply_out(client, live_shop, live_server, fake_graph):
    agent, configuration = live_shop.agent, live_shop.configuration
    host = live_server.url.removeprefix("http://")
    chat = {"number": configuration.pk, "phone": "+14155550123", "name": "John Carter"}
    agent_tables = tables.for_agent(agent)

    # The customer writes from the sandbox; the fake posts it, signed, to the app's own webhook.
    response = client.post(reverse("sandbox:send"), {**chat, "text": "Is the blue mug in stock?"}, HTTP_HOST=host)
    assert response.status_code == 302
    assert fake_graph.wait_for_webhooks()
    assert fake_graph.deliveries[0]["status"] == 200
    customer = agent_tables.Customer.objects.get(phone="+14155550123")
    assert customer.name == "John Carter"
    inbound = agent_tables.Message.objects.get(customer=customer, direction="inbound")
    assert inbound.message == "Is the blue mug in stock?" and not inbound.is_read

    # The agent opens the conversation (a read receipt: blue ticks on the customer's phone) and answers.
    send.read_conversation(agent, customer)
    reply = send.send_text(agent, customer, "Yes! 12 left, $8 each.", sent_by=agent.user, idempotency_key="r1")
    reply.refresh_from_db()
    assert reply.status in ("sent", "delivered") and reply.wamid

    # The customer's phone shows the reply; having the chat open turns it read, and Meta says so.
    fake_graph.wait_for_webhooks()
    page = client.get(reverse("sandbox:chat"), chat, HTTP_HOST=host).content.decode()
    assert "Yes! 12 left, $8 each." in page
    [customer_bubble] = re.findall(r'<li class="bubble mine">.*?</li>', page, re.S)
    assert "Is the blue mug in stock?" in customer_bubble and "Read" in customer_bubble  # blue ticks
    assert fake_graph.wait_for_webhooks()
    assert wait_until(lambda: agent_tables.Message.objects.get(pk=reply.pk).status == "read")
    assert [d["status"] for d in fake_graph.deliveries] == [200] * len(fake_graph.deliveries)


def test_a_sandbox_image_reaches_the_inbox(client, live_shop, live_server, fake_graph):
    agent, configuration = live_shop.agent, live_shop.configuration
    host = live_server.url.removeprefix("http://")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
    client.post(
        reverse("sandbox:send"),
        {
            "number": configuration.pk,
            "phone": "+14155550123",
            "name": "John",
            "text": "This one?",
            "image": SimpleUploadedFile("mug.png", png, "image/png"),
        },
        HTTP_HOST=host,
    )
    assert fake_graph.wait_for_webhooks()

    message = tables.for_agent(agent).Message.objects.get(direction="inbound")
    assert message.media_type == "image" and message.media_id and message.caption == "This one?"


def test_a_send_meta_reports_failed_later_shows_the_reason_and_resends(client, live_shop, live_server, fake_graph):
    agent, configuration = live_shop.agent, live_shop.configuration
    host = live_server.url.removeprefix("http://")
    chat = {"number": configuration.pk, "phone": "+14155550123", "name": "John Carter"}
    client.post(reverse("sandbox:send"), {**chat, "text": "Hi"}, HTTP_HOST=host)
    assert fake_graph.wait_for_webhooks()
    agent_tables = tables.for_agent(agent)
    customer = agent_tables.Customer.objects.get(phone="+14155550123")
    client.post(reverse("sandbox:failures"), {**chat, "failure": "131026-later", "messages": 1})

    message = send.send_text(agent, customer, "Your order is ready", sent_by=agent.user, idempotency_key="o1")
    assert fake_graph.wait_for_webhooks()

    message.refresh_from_db()
    assert (message.status, message.error_code) == ("failed", 131026)
    assert send.failure_reason(message).startswith("Message Undeliverable: Unable to deliver message.")
    first_wamid = message.wamid

    send.resend(agent, message, sent_by=agent.user)
    assert fake_graph.wait_for_webhooks()
    message.refresh_from_db()
    assert message.status == "delivered" and message.wamid != first_wamid and message.error_code is None
