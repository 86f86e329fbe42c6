"""Start-up refuses insecure production settings; tests never leave this machine."""

import socket
import subprocess
import sys

import pytest

from crm.tests.processes import child_env

PRODUCTION_SECRETS = {
    "SECRET_KEY": "x" * 60,
    "WHATSAPP_APP_SECRET": "app-secret-from-meta",
    "WHATSAPP_VERIFY_TOKEN": "verify-token",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
}


def start(env):
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        env=child_env(DJANGO_SETTINGS_MODULE="crm.settings", **env),
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SECRETS))
def test_production_refuses_to_start_without_each_secret(missing):
    env = {name: value for name, value in PRODUCTION_SECRETS.items() if name != missing}
    result = start({"DEBUG": "false", **env})
    assert result.returncode != 0
    assert "Refusing to start with DEBUG off" in result.stderr and missing in result.stderr


def test_production_refuses_the_development_secret_key():
    result = start({**PRODUCTION_SECRETS, "SECRET_KEY": "development-only-secret-key-do-not-use-in-production"})
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr


def test_production_starts_with_every_secret_set():
    result = start(PRODUCTION_SECRETS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "started"


def test_an_unknown_task_backend_is_refused_at_start_up():
    result = start({"DEBUG": "true", "TASKS_BACKEND": "celery"})
    assert result.returncode != 0 and "TASKS_BACKEND must be one of database, immediate" in result.stderr


def test_the_sandbox_refuses_to_start_pointed_at_metas_graph_api():
    result = start({"DEBUG": "true", "WHATSAPP_SANDBOX": "true"})
    assert result.returncode != 0 and "WHATSAPP_SANDBOX needs WHATSAPP_GRAPH_URL pointed at the fake" in result.stderr
    assert (
        start({"DEBUG": "true", "WHATSAPP_SANDBOX": "true", "WHATSAPP_GRAPH_URL": "http://127.0.0.1:8010"}).returncode
        == 0
    )


def test_development_starts_with_no_secrets():
    assert start({"DEBUG": "true"}).returncode == 0


def test_tests_cannot_reach_the_internet():
    with pytest.raises(OSError, match="tests may not reach"):
        socket.create_connection(("192.0.2.1", 80), timeout=1)


def settings_of(env, expression):
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print(repr(({expression})))",
        ],
        env=child_env(DJANGO_SETTINGS_MODULE="crm.settings", DEBUG="true", **env),
        capture_output=True,
        text=True,
    )


def test_the_shard_map_reads_each_database_url_from_the_environment():
    result = settings_of(
        {
            "AGENT_DATABASES": "eu,us",
            "DATABASE_URL_EU": "postgres://crm@db-eu:5432/crm",
            "DATABASE_URL_US": "postgres://crm@db-us:5432/crm",
        },
        "settings.AGENT_DATABASES, settings.NEW_AGENT_DATABASES, settings.DATABASES['eu']['HOST'], "
        "settings.DATABASES['us']['CONN_MAX_AGE']",
    )
    assert result.returncode == 0, result.stderr
    # `default` always stays in the map (agents created there before keep working); new ones go to eu/us.
    assert result.stdout.strip() == "(['default', 'eu', 'us'], ['eu', 'us'], 'db-eu', 300)"


@pytest.mark.parametrize(
    "env, message",
    [
        ({"AGENT_DATABASES": "default,eu"}, "set DATABASE_URL_EU"),
        ({"AGENT_DATABASES": "default,EU-1"}, "'EU-1' is not a database alias"),
        ({"NEW_AGENT_DATABASES": "eu"}, "NEW_AGENT_DATABASES names 'eu', which AGENT_DATABASES does not list"),
    ],
)
def test_a_broken_shard_map_stops_start_up_with_a_clear_message(env, message):
    result = settings_of(env, "'started',")
    assert result.returncode != 0
    assert message in result.stderr


def test_each_database_of_the_shard_map_may_name_its_replica():
    result = settings_of(
        {
            "AGENT_DATABASES": "default,eu",
            "DATABASE_URL": "postgres://crm@db:5432/crm",
            "DATABASE_URL_EU": "postgres://crm@db-eu:5432/crm",
            "DATABASE_URL_REPLICA": "postgres://crm@db-replica:5432/crm",
            "DATABASE_URL_EU_REPLICA": "postgres://crm@db-eu-replica:5432/crm",
        },
        "settings.DATABASE_REPLICAS, settings.DATABASES['eu_replica']['HOST'], "
        "settings.DATABASES['default_replica']['TEST']['MIRROR'], settings.DATABASES['eu_replica']['CONN_MAX_AGE']",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "({'default': 'default_replica', 'eu': 'eu_replica'}, 'db-eu-replica', 'default', 300)"
    )


def test_transaction_pooling_turns_off_server_side_cursors_and_prepared_statements():
    pooled = "postgres://crm@127.0.0.1:6432/crm"
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; d = settings.DATABASES['default']; "
            "print(d['DISABLE_SERVER_SIDE_CURSORS'], d['OPTIONS']['prepare_threshold'])",
        ],
        env=child_env(
            DJANGO_SETTINGS_MODULE="crm.settings",
            DEBUG="true",
            DATABASE_URL=pooled,
            DATABASE_TRANSACTION_POOLING="true",
        ),
        capture_output=True,
        text=True,
    )
    assert probe.stdout.split() == ["True", "None"], probe.stderr
    refused = start(
        {"DEBUG": "true", "DATABASE_URL": pooled, "DATABASE_TRANSACTION_POOLING": "true", "DATABASE_ROLE": "crm"}
    )
    assert refused.returncode != 0 and "DATABASE_ROLE cannot work behind transaction pooling" in refused.stderr
