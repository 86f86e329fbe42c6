"""Replying to a message (quoted, sent with `context`) and reacting to one, checked at the fake Graph API;
a customer's reaction, delivered by webhook, drawn on the message it reacts to."""

import re

from django.urls import reverse

from crm.tests.fixtures import PHONE_NUMBER_ID
from whatsapp.tests import payloads


def thread_of(shop, customer):
    return shop.client.get(reverse("conversation", args=[customer.pk])).content.decode()


def test_a_reply_is_sent_with_the_quoted_messages_id_and_shows_the_quote(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    question = connected_shop.tables.Message.objects.get(wamid="wamid.from-maria")
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(
            reverse("send_message", args=[maria.pk]),
            {"text": "Yes, in blue", "idempotency_key": "k-1", "reply_to": str(question.pk)},
        )
    assert response.status_code == 302
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["context"] == {"message_id": "wamid.from-maria"}
    assert sent["type"] == "text" and sent["text"]["body"] == "Yes, in blue"
    page = thread_of(connected_shop, maria)
    quote = re.search(r'<blockquote class="quote">(.*?)</blockquote>', page, re.S).group(1)
    assert "Maria Silva" in quote and "Hi!" in quote


def test_a_reply_to_a_message_of_another_conversation_or_garbage_is_refused(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    t = connected_shop.tables
    other = t.Customer.objects.create(name="Other", phone="+5511900000000")
    theirs = t.Message.objects.create(customer=other, message="x", direction="inbound", wamid="wamid.other")
    for reply_to in (str(theirs.pk), "²", "9" * 40):
        response = connected_shop.client.post(
            reverse("send_message", args=[maria.pk]),
            {"text": "hello", "idempotency_key": f"k-{reply_to[:5]}", "reply_to": reply_to},
            follow=True,
        )
        assert "The message you reply to is not in this conversation" in response.content.decode()
    assert fake_graph.sent_messages() == []


def test_the_seller_reacts_to_a_customers_message_and_the_reaction_sits_on_it(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    question = connected_shop.tables.Message.objects.get(wamid="wamid.from-maria")
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(reverse("react_to_message", args=[question.pk]), {"emoji": "👍"})
    assert response.status_code == 302
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+5511987654321",
        "type": "reaction",
        "reaction": {"message_id": "wamid.from-maria", "emoji": "👍"},
    }
    page = thread_of(connected_shop, maria)
    assert "You reacted 👍" in page
    assert page.count('class="bubble ') == 1  # drawn on the message, not a bubble of its own

    refused = connected_shop.client.post(reverse("react_to_message", args=[question.pk]), {"emoji": "<b>"}, follow=True)
    assert "React with one of" in refused.content.decode()
    assert len(fake_graph.sent_messages()) == 1


def test_a_customers_reaction_from_the_webhook_shows_on_the_message_it_reacts_to(connected_shop, maria, client):
    t = connected_shop.tables
    ours = t.Message.objects.create(
        customer=maria, message="It comes in blue", direction="outbound", status="delivered", wamid="wamid.ours"
    )
    reaction = payloads.message(
        "reaction", {"message_id": ours.wamid, "emoji": "❤️"}, wamid="wamid.reaction", from_="5511987654321"
    )
    notification = payloads.notification(payloads.value(messages=[reaction], phone_number_id=PHONE_NUMBER_ID))
    assert payloads.post(client, notification).status_code == 200
    assert t.Message.objects.get(wamid="wamid.reaction").context_wamid == "wamid.ours"

    page = thread_of(connected_shop, maria)
    bubble = re.search(rf'<article class="bubble out[^"]*" id="m{ours.pk}".*?</article>', page, re.S).group(0)
    assert "Maria Silva reacted ❤️" in bubble
    maria.refresh_from_db()
    assert maria.awaiting_reply_since is None  # answered before; her reaction asks for nothing
