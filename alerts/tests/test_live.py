"""The live-update questions every open page asks: the cheap check (a 204 from one statement while nothing
changed, before any session or user is read) and the logged-in one that names the new customer messages (as
notifications) and renews the check's ticket; each only ever about the asking agent."""

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse

from alerts import live
from alerts.models import AlertSettings
from crm.tests.fixtures import add_inbound


def ask(seller, since=""):
    return seller.client.get(reverse("live_changes"), {"since": since})


def check(client, ticket, since):
    return client.get(reverse("live_check"), {"ticket": ticket, "since": since})


def test_a_page_without_a_token_gets_the_agents_state_a_ticket_and_no_messages(seller, maria):
    response = ask(seller)

    assert response.status_code == 200
    newest = seller.tables.Message.objects.latest("id").pk
    answer = response.json()
    assert {key: answer[key] for key in ("token", "unread", "messages")} == {
        "token": f"{newest}.1",
        "unread": 1,
        "messages": [],
    }
    assert signing.loads(answer["ticket"], salt=live.TICKET_SALT)[0] == seller.agent.pk
    assert "no-store" in response["Cache-Control"]


def test_the_check_answers_nothing_changed_from_one_statement_without_a_session(
    seller, maria, django_assert_num_queries
):
    answer = ask(seller).json()

    with django_assert_num_queries(1) as queries:
        response = check(Client(), answer["ticket"], answer["token"])  # no cookie: the ticket says whose

    assert (response.status_code, response.content) == (204, b"")
    assert seller.agent.agent_prefix in queries[0]["sql"]
    assert response["Cache-Control"] == "no-store"


def test_the_check_says_changed_and_nothing_more(seller, maria):
    answer = ask(seller).json()
    add_inbound(seller.tables, maria, text="Can I pay on delivery?")

    response = check(Client(), answer["ticket"], answer["token"])

    assert (response.status_code, response.json()) == (200, {"changed": True})


@pytest.mark.parametrize("ticket", ["", "forged", "x" * 100_000])
def test_a_ticket_we_did_not_sign_is_refused(seller, maria, ticket):
    token = ask(seller).json()["token"]

    response = check(Client(), ticket, token)

    assert (response.status_code, response.json()) == (403, {"error": "This page's live-update ticket has expired."})


def test_an_expired_ticket_is_refused(seller, maria, monkeypatch):
    answer = ask(seller).json()
    monkeypatch.setattr(live, "TICKET_MAX_AGE", -1)

    assert check(Client(), answer["ticket"], answer["token"]).status_code == 403


def test_another_agents_ticket_never_comes_from_this_session(seller, seller_b, maria):
    ticket = ask(seller).json()["ticket"]
    theirs = ask(seller_b).json()

    assert signing.loads(ticket, salt=live.TICKET_SALT)[0] == seller.agent.pk
    assert signing.loads(theirs["ticket"], salt=live.TICKET_SALT)[0] == seller_b.agent.pk


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
    assert check(Client(), answer["ticket"], answer["token"]).status_code == 204


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
    answer = ask(seller).json()
    theirs = seller_b.tables.Customer.objects.create(name="Bea Zebra", phone="+15559990003")
    for _ in range(3):
        add_inbound(seller_b.tables, theirs, text="B-SECRET-MESSAGE")

    assert check(Client(), answer["ticket"], answer["token"]).status_code == 204
    assert ask(seller, answer["token"]).json()["messages"] == []


@pytest.mark.parametrize("token", ["x", "12", "12.x", "1" * 40 + ".1", "-1.0", "².1"])
def test_a_token_this_page_was_not_given_is_refused_with_a_sentence(seller, maria, token):
    ticket = ask(seller).json()["ticket"]
    error = {"error": "This live-update token is not one this page was given: reload the page."}

    for response in (ask(seller, token), check(Client(), ticket, token)):
        assert (response.status_code, response.json()) == (400, error)


def test_asking_needs_a_login(client):
    response = client.get(reverse("live_changes"))

    assert response.status_code == 302
