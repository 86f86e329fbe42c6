"""Logging in with an email, landing where the role belongs, and changing the password."""

import pytest
from django.urls import reverse

from accounts.models import Role, User

PASSWORD = "correct-horse-battery"


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_the_login_page_asks_for_email_and_password(client):
    page = client.get(reverse("login")).content.decode()
    assert '<label for="id_username">Email</label>' in page
    assert '<label for="id_password">Password</label>' in page


def test_an_agent_lands_on_the_dashboard_home(client, make_agent):
    agent = make_agent(name="Rosa's Bakery")
    response = log_in(client, agent.user.email)
    assert response.status_code == 302
    home = client.get(response.url, follow=True)
    assert home.redirect_chain[-1][0] == reverse("home")
    assert "Rosa&#x27;s Bakery" in home.content.decode()


def test_email_is_case_insensitive_at_login(client, make_agent):
    agent = make_agent()
    response = log_in(client, agent.user.email.upper())
    assert response.status_code == 302


def test_an_admin_lands_on_the_admin(client, admin_user):
    response = log_in(client, admin_user.email)
    assert client.get(response.url).url == reverse("admin:index")


def test_a_wrong_password_is_refused_with_a_message(client, make_user):
    user = make_user()
    response = log_in(client, user.email, "wrong")
    assert response.status_code == 200
    assert "Please enter a correct email and password" in response.content.decode()


def test_an_agent_user_without_an_agent_gets_a_clear_page(client, make_user):
    user = make_user()
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 403
    assert "No agent yet" in response.content.decode()


def test_pages_need_a_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_an_agent_user_cannot_use_the_admin(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_logout_ends_the_session(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(client, make_agent):
    from django.test import Client

    agent = make_agent()
    other_device = Client()
    other_device.force_login(agent.user)
    client.force_login(agent.user)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert other_device.get(reverse("home")).status_code == 302
    assert User.objects.get(pk=agent.user.pk).check_password("a-new-long-passphrase")


def test_password_change_refuses_a_weak_password(client, make_agent):
    agent = make_agent()
    client.force_login(agent.user)
    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert "too short" in response.content.decode()


@pytest.mark.parametrize(
    "role, staff, superuser", [(Role.AGENT, False, False), (Role.ADMIN, True, False), (Role.SUPER_ADMIN, True, True)]
)
def test_roles_decide_admin_access(make_user, role, staff, superuser):
    user = make_user(role=role)
    assert (user.is_staff, user.is_superuser) == (staff, superuser)
    assert user.has_perm("agents.add_agent") == staff
    assert user.has_perm("sessions.view_session") == superuser
    assert user.has_module_perms("agents") == staff


def test_a_deactivated_admin_loses_admin_access(make_user):
    user = make_user(role=Role.SUPER_ADMIN)
    user.is_active = False
    assert not user.is_staff and not user.has_perm("agents.add_agent")
