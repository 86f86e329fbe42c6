"""The live-update question every open page asks: a cheap 204 while nothing changed, the new customer
messages (as notifications) when something did, and only the asking agent's."""

import pytest
from django.urls import reverse

from alerts.models import AlertSettings
from crm.tests.fixtures import add_inbound


def ask(seller, since=""):
    return seller.client.get(reverse("live_changes"), {"since": since})


def test_a_page_without_a_token_gets_the_agents_state_and_no_messages(seller, maria):
    response = ask(seller)

    assert response.status_code == 200
    newest = seller.tables.Message.objects.latest("id").pk
    assert response.json() == {"token": f"{newest}.1", "unread": 1, "messages": [], "inbox_url": reverse("inbox")}
    assert "no-store" in response["Cache-Control"]


def test_nothing_changed_is_a_204_from_one_query_of_the_agents_tables(seller, maria, django_assert_num_queries):
    token = ask(seller).json()["token"]

    ask(seller, token)  # the session and the user, now warm as on a page that asks every 700 ms
    with django_assert_num_queries(4) as queries:
        response = ask(seller, token)

    assert (response.status_code, response.content) == (204, b"")
    agent_table_reads = [query["sql"] for query in queries if seller.agent.agent_prefix in query["sql"]]
    assert len(agent_table_reads) == 1, agent_table_reads


def test_a_new_customer_message_comes_with_its_notification_without_its_text(seller, maria):
    token = ask(seller).json()["token"]
    message = add_inbound(seller.tables, maria, text="Can I pay on delivery?")

    answer = ask(seller, token).json()

    assert answer["token"] == f"{message.pk}.1"
    assert answer["messages"] == [
        {
            "id": message.pk,
            "title": "New message from Maria",
            "body": "Open the conversation to read it.",
            "url": reverse("conversation", args=[maria.pk]),
            "tag": f"conversation-{maria.pk}",
        }
    ]
    assert ask(seller, answer["token"]).status_code == 204


def test_the_text_comes_when_the_seller_turned_it_on(seller, maria):
    AlertSettings.objects.create(agent=seller.agent, user=seller.user, show_message_text=True)
    token = ask(seller).json()["token"]
    add_inbound(seller.tables, maria, text="Can I pay on delivery?")

    [message] = ask(seller, token).json()["messages"]

    assert message["body"] == "Can I pay on delivery?"


def test_reading_a_conversation_elsewhere_changes_the_unread_count(seller, maria):
    token = ask(seller).json()["token"]
    seller.client.get(reverse("conversation", args=[maria.pk]))

    answer = ask(seller, token).json()

    assert (answer["unread"], answer["messages"]) == (0, [])


def test_another_agents_messages_change_nothing(seller, seller_b, maria):
    token = ask(seller).json()["token"]
    theirs = seller_b.tables.Customer.objects.create(name="Bea Zebra", phone="+15559990003")
    for _ in range(3):
        add_inbound(seller_b.tables, theirs, text="B-SECRET-MESSAGE")

    assert ask(seller, token).status_code == 204


@pytest.mark.parametrize("token", ["x", "12", "12.x", "1" * 40 + ".1", "-1.0", "².1"])
def test_a_token_this_page_was_not_given_is_refused_with_a_sentence(seller, maria, token):
    response = ask(seller, token)

    assert response.status_code == 400
    assert response.json() == {"error": "This live-update token is not one this page was given: reload the page."}


def test_asking_needs_a_login(client):
    response = client.get(reverse("live_changes"))

    assert response.status_code == 302
