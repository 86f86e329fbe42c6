"""Fixtures shared by every app's tests, and the guard that keeps tests off the internet."""

import ipaddress
import socket

import pytest

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_local(address):
    if not isinstance(address, tuple):
        return True  # a Unix socket
    host = address[0]
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OutboundConnectionBlocked(OSError):
    pass


def _guarded_connect(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"tests may not reach {address!r}: only this machine")
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if not _is_local(address):
        raise OutboundConnectionBlocked(f"tests may not reach {address!r}: only this machine")
    return _real_connect_ex(self, address)


def pytest_configure(config):
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex


def pytest_collection_modifyitems(config, items):
    from django.db import connection

    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


@pytest.fixture
def make_user(db):
    from accounts.models import Role, User

    counter = iter(range(1, 10_000))

    def make(role=Role.AGENT, email=None, name=None, password="correct-horse-battery"):
        n = next(counter)
        return User.objects.create_user(
            email=email or f"{role}{n}@example.com", name=name or f"{role.title()} {n}", password=password, role=role
        )

    return make


@pytest.fixture
def make_agent(make_user, request):
    from accounts.models import Role
    from agents.models import Agent
    from agents.provisioning import create_agent

    created = []

    def make(user=None, name="", created_by=None, database="default"):
        """An agent with its tables; `database="shard2"` puts them on the test shard (PostgreSQL only)."""
        user = user or make_user()
        agent = create_agent(
            created_by=created_by or make_user(role=Role.ADMIN), user=user, name=name, database=database
        )
        created.append(agent.pk)
        return agent

    yield make
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        # A transactional test commits: its agents' tables would outlive the flush (and their foreign
        # keys stop it from truncating `agents`), so delete the agents, which drops their tables.
        for agent in Agent.objects.filter(pk__in=created):
            agent.delete()


@pytest.fixture
def admin_user(make_user):
    from accounts.models import Role

    return make_user(role=Role.ADMIN)


@pytest.fixture
def super_admin(make_user):
    from accounts.models import Role

    return make_user(role=Role.SUPER_ADMIN)
