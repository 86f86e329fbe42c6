"""The agent switcher: a user with several agents picks one; the session keeps it and every request checks it."""

from django.test import Client
from django.urls import reverse

from agents import tables
from agents.access import SESSION_KEY
from agents.tests.factories import customer, message


def test_a_user_with_several_agents_switches_between_them(make_user, make_agent):
    user = make_user()
    make_agent(user=user, name="Shop")
    bakery = make_agent(user=user, name="Bakery")
    message(tables.for_agent(bakery), customer(tables.for_agent(bakery), "Bread Lover"), "hi")
    client = Client()
    client.force_login(user)

    home = client.get(reverse("home")).content.decode()
    assert '<label for="agent-switcher" class="visually-hidden">Working as</label>' in home
    assert "<h1>Shop</h1>" in home

    response = client.post(reverse("switch_agent"), {"agent": bakery.pk, "section": "inbox"})
    assert response.status_code == 302 and response["Location"] == reverse("inbox")
    assert client.session[SESSION_KEY] == bakery.pk
    assert "Bread Lover" in client.get(reverse("inbox")).content.decode()


def test_someone_elses_agent_cannot_be_chosen(seller, agent_b):
    stranger = agent_b
    response = seller.client.post(reverse("switch_agent"), {"agent": stranger.pk})
    assert response.status_code == 403
    assert seller.client.session.get(SESSION_KEY) != stranger.pk
    assert seller.client.post(reverse("switch_agent"), {"agent": "x"}).status_code == 403
    assert seller.client.get(reverse("switch_agent")).status_code == 405


def test_an_agent_taken_away_from_the_user_is_dropped_from_the_session(make_user, make_agent):
    user = make_user()
    first, second = make_agent(user=user, name="First"), make_agent(user=user, name="Second")
    client = Client()
    client.force_login(user)
    client.post(reverse("switch_agent"), {"agent": second.pk})

    second.user = make_user()
    second.save()

    assert "<h1>First</h1>" in client.get(reverse("home")).content.decode()
    assert client.session[SESSION_KEY] == first.pk


def test_a_user_with_one_agent_sees_its_name_and_no_switcher(seller):
    body = seller.client.get(reverse("home")).content.decode()
    assert "agent-switcher" not in body and 'class="current-agent"' in body


def test_a_user_without_an_agent_is_told_so(make_user):
    client = Client()
    client.force_login(make_user())
    response = client.get(reverse("inbox"))
    assert response.status_code == 403 and "No agent yet" in response.content.decode()
