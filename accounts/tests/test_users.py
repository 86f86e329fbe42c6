"""The users table of the contract, and the commands and admin pages that manage users."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from accounts.models import Role, User


@pytest.mark.postgres
def test_the_users_table_matches_the_contract(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns "
            "WHERE table_name = 'users'"
        )
        columns = {name: rest for name, *rest in cursor.fetchall()}
    assert columns["id"][0] == "uuid" and "gen_random_uuid" in columns["id"][2]
    assert columns["email"][:2] == ["character varying", "NO"]
    assert columns["name"][:2] == ["character varying", "NO"]
    assert columns["role"][:2] == ["character varying", "NO"]
    assert columns["created_at"][0] == "timestamp with time zone"


@pytest.mark.postgres
def test_a_user_inserted_by_sql_gets_its_uuid_from_the_database(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO users (name, email, role, password, is_active) "
            "VALUES ('By SQL', 'sql@example.com', 'agent', '', true) RETURNING id, created_at"
        )
        user_id, created_at = cursor.fetchone()
    assert User.objects.get(pk=user_id).email == "sql@example.com" and created_at


def test_the_role_is_checked_by_the_database(db):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=User.objects.create_user("x@example.com", "X", "pw").pk).update(role="boss")


def test_create_user_command(db, capsys):
    call_command("create_user", email="Ana@Example.com", name="Ana", role="agent", password="a-long-passphrase")
    user = User.objects.get(email="ana@example.com")
    assert user.role == Role.AGENT and user.check_password("a-long-passphrase")
    assert "created agent ana@example.com" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, message",
    [
        ({"email": "not-an-email", "name": "X", "role": "agent", "password": "pw-long-enough"}, "email"),
        ({"email": "dup@example.com", "name": "X", "role": "agent", "password": "pw-long-enough"}, "already exists"),
        ({"email": "new@example.com", "name": " ", "role": "agent", "password": "pw-long-enough"}, "name"),
    ],
)
def test_create_user_command_refuses_bad_input(db, options, message):
    User.objects.create_user("dup@example.com", "Dup", "pw")
    with pytest.raises(CommandError, match=message):
        call_command("create_user", **options)


def test_create_user_command_refuses_an_unknown_role(db):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("create_user", "--email=a@example.com", "--name=A", "--role=boss", "--password=x")


def test_an_admin_creates_agent_users_but_not_admins(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("admin:accounts_user_add")).content.decode()
    assert 'value="agent"' in page and 'value="super_admin"' not in page

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "name": "New",
            "role": "super_admin",
            "password1": "x-long-pass-1",
            "password2": "x-long-pass-1",
        },
    )
    assert response.status_code == 200 and not User.objects.filter(email="new@example.com").exists()

    response = client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "new@example.com",
            "name": "New",
            "role": "agent",
            "password1": "x-long-pass-1",
            "password2": "x-long-pass-1",
        },
    )
    assert response.status_code == 302
    assert User.objects.get(email="new@example.com").role == Role.AGENT


def test_an_admin_cannot_change_another_admin(client, make_user, admin_user):
    other = make_user(role=Role.ADMIN)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:accounts_user_change", args=[other.pk]),
        {"email": other.email, "name": "Renamed", "role": "agent", "is_active": "on"},
    )
    assert response.status_code == 403
    assert User.objects.get(pk=other.pk).name == other.name


def test_a_super_admin_can_promote_a_user(client, make_user, super_admin):
    user = make_user()
    client.force_login(super_admin)
    response = client.post(
        reverse("admin:accounts_user_change", args=[user.pk]),
        {"email": user.email, "name": user.name, "role": "admin", "is_active": "on"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).role == Role.ADMIN
