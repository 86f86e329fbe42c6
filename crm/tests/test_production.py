"""The production shape: probes, JSON logs, and gunicorn serving compressed hashed static files."""

import json
import logging
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from crm.jsonlog import JSONFormatter
from crm.tests.processes import child_env

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "WHATSAPP_APP_SECRET": "app-secret-from-meta",
    "WHATSAPP_VERIFY_TOKEN": "verify-token",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
}


def test_healthz_answers_any_host_without_touching_a_database(client):
    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db(databases=["default", "shard2"])
def test_readyz_reports_every_configured_database(client):
    response = client.get("/readyz", HTTP_HOST="10.1.2.3")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "databases": {"default": "ok", "shard2": "ok"}}


def test_json_log_lines_carry_the_message_extra_fields_and_the_exception():
    logger = logging.getLogger("crm.tests.jsonlog")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "intake of %s failed",
            ("wamid.1",),
            sys.exc_info(),
            extra={"agent_id": 7},
        )
    line = JSONFormatter().format(record)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["level"] == "ERROR" and entry["logger"] == "crm.tests.jsonlog"
    assert entry["message"] == "intake of wamid.1 failed" and entry["agent_id"] == 7
    assert "ValueError: boom" in entry["exception"] and entry["time"].endswith("+00:00")


def test_logs_are_text_unless_json_is_asked_for():
    assert settings.LOG_FORMAT == "text"
    assert "()" not in settings.LOGGING["formatters"]["default"]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def production_server(tmp_path):
    """gunicorn with the shipped config, DEBUG off, JSON logs, on a free local port."""
    port = free_port()
    log = open(tmp_path / "server.log", "w+")
    env = child_env(
        **{
            **PRODUCTION_ENV,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "STATIC_ROOT": str(tmp_path / "static"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "WEB_THREADS": "2",
            "LOG_FORMAT": "json",
            # Plain http on localhost: the https redirect is the TLS proxy's business here.
            "SECURE_SSL_REDIRECT": "false",
            # A second agent database that is down: /readyz must say so.
            "AGENT_DATABASES": "default,offline",
            "NEW_AGENT_DATABASES": "default",
            "DATABASE_URL_OFFLINE": f"postgres://postgres@127.0.0.1:{free_port()}/crm",
        }
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "crm/gunicorn.py", "crm.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=1)
            break
        except requests.ConnectionError:
            if server.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                pytest.fail(f"gunicorn did not start:\n{log.read()}")
            time.sleep(0.2)
    yield base, tmp_path, log
    server.terminate()
    server.wait(timeout=30)
    log.close()


def test_the_production_server_serves_hashed_compressed_static_files_probes_and_json_logs(production_server):
    base, tmp_path, log = production_server

    # collectstatic ran as the server started: the manifest maps each file to its hashed name.
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed_css = manifest["css/app.css"]
    assert hashed_css != "css/app.css"
    login_page = requests.get(f"{base}/accounts/login/", timeout=5).text
    assert f"/static/{hashed_css}" in login_page

    css = requests.get(f"{base}/static/{hashed_css}", headers={"Accept-Encoding": "gzip"}, timeout=5)
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
    assert "immutable" in css.headers["Cache-Control"]

    assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 503
    assert ready.json() == {
        "status": "unavailable",
        "databases": {"default": "ok", "offline": "unreachable (OperationalError)"},
    }

    time.sleep(0.3)  # let the access log reach the file
    log.seek(0)
    entries = [json.loads(line) for line in log.read().splitlines() if line.strip()]
    access = [entry for entry in entries if entry["logger"] == "gunicorn.access"]
    assert {"path": "/readyz", "status": "503", "method": "GET"}.items() <= next(
        entry for entry in access if entry["path"] == "/readyz"
    ).items()
