"""Another agent's customer, message or quick reply id in a URL gives 404, never data (the attack, tried)."""

import pytest
from django.urls import reverse

from agents.models import QuickReply

from .factories import customer, message


@pytest.fixture
def victim(seller_b):
    """Agent B with a customer whose id agent A does not have (A has none)."""
    secret = customer(seller_b.tables, "Secret Customer", phone="+15550009999")
    message(
        seller_b.tables,
        secret,
        "secret message text",
        wamid="wamid.SECRET",
        media_url="agents/secret.jpg",
        media_type="image",
    )
    reply = QuickReply.objects.create(agent=seller_b.agent, shortcut="secret", text="secret snippet")
    return seller_b, secret, reply


def test_agent_a_asking_for_agent_bs_message_media_gets_404(seller, victim):
    b, secret, _ = victim
    secret_message = b.tables.Message.objects.get(customer=secret)
    response = seller.client.get(reverse("message_media", args=[secret_message.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize(
    "name, method",
    [
        ("conversation", "get"),
        ("conversation_older", "get"),
        ("conversation_tail", "get"),
        ("customer_detail", "get"),
        ("customer_avatar", "get"),
        ("customer_details", "post"),
        ("customer_picture", "post"),
    ],
)
def test_agent_a_asking_for_agent_bs_customer_gets_404(seller, victim, name, method):
    b, secret, _ = victim
    url = reverse(name, args=[secret.pk])
    response = getattr(seller.client, method)(url, {"before": "x", "name": "Hacked", "remove": "1"})
    assert response.status_code == 404
    assert b"Secret Customer" not in response.content and b"secret message" not in response.content
    secret.refresh_from_db()
    assert secret.name == "Secret Customer"


@pytest.mark.parametrize(
    "name, method", [("quick_reply_edit", "get"), ("quick_reply_edit", "post"), ("quick_reply_delete", "post")]
)
def test_agent_a_asking_for_agent_bs_quick_reply_gets_404(seller, victim, name, method):
    _, _, reply = victim
    response = getattr(seller.client, method)(reverse(name, args=[reply.pk]), {"shortcut": "x", "text": "y"})
    assert response.status_code == 404 and b"secret snippet" not in response.content
    reply.refresh_from_db()
    assert reply.text == "secret snippet"


def test_agent_a_lists_never_show_agent_bs_rows(seller, victim):
    for url, params in [
        ("home", {}),
        ("inbox", {}),
        ("inbox", {"q": "secret"}),
        ("inbox_rows", {}),
        ("customer_list", {"q": "Secret"}),
        ("order_list", {}),
        ("quick_replies", {}),
    ]:
        body = seller.client.get(reverse(url), params).content
        for leak in (b"Secret Customer", b"secret message text", b"secret snippet", b"0009999"):
            assert leak not in body, (url, leak)
    export = b"".join(seller.client.get(reverse("customer_export")).streaming_content)
    assert b"Secret" not in export


def test_pages_need_a_login(client, victim):
    _, secret, _ = victim
    for url in (reverse("inbox"), reverse("conversation", args=[secret.pk]), reverse("customer_export")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
