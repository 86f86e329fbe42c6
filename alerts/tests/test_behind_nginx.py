"""The live updates through the shipped proxy config (deploy/nginx.conf, which buffers whole answers): the
check is an ordinary short answer, so a page behind nginx hears of a new message as quickly as without it."""

import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from crm.tests.fixtures import PHONE_NUMBER_ID
from crm.tests.processes import child_env
from crm.tests.test_production import free_port

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def nginx_in_front(live_server, tmp_path):
    """deploy/nginx.conf in front of the live server; its base URL."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed here (on Debian: apt-get install nginx-light; .ci/run installs it)")
    port, upstream = free_port(), urlsplit(live_server.url).netloc
    (tmp_path / "nginx").mkdir()
    command = [str(ROOT / "scripts" / "run-nginx"), f"127.0.0.1:{port}", upstream, str(tmp_path / "nginx")]
    with open(tmp_path / "nginx.log", "w") as log:
        nginx = subprocess.Popen(command, env=child_env(), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(base + "/healthz", timeout=2)
            break
        except requests.ConnectionError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"nginx did not start:\n{(tmp_path / 'nginx.log').read_text()}")
            time.sleep(0.1)
    yield base
    nginx.terminate()
    nginx.wait(timeout=10)


def logged_in(seller):
    """An HTTP session with the seller's session cookie (the test client logged them in)."""
    session = requests.Session()
    session.headers["Cookie"] = f"sessionid={seller.client.cookies['sessionid'].value}"
    return session


def test_the_live_check_answers_through_the_buffering_proxy(nginx_in_front, live_shop, fake_graph):
    session = logged_in(live_shop)
    state = session.get(nginx_in_front + reverse("live_changes"), timeout=5).json()

    def check():
        started = time.monotonic()
        response = requests.get(
            nginx_in_front + reverse("live_check"), {"ticket": state["ticket"], "since": state["token"]}, timeout=5
        )
        return response.status_code, time.monotonic() - started

    status, seconds = check()
    assert status == 204 and seconds < 1

    fake_graph.customer_sends(PHONE_NUMBER_ID, "5511987654321", name="Maria Silva", text="Through the proxy?")
    assert fake_graph.wait_for_webhooks()

    assert check()[0] == 200
    answer = session.get(nginx_in_front + reverse("live_changes"), {"since": state["token"]}, timeout=5).json()
    assert [message["title"] for message in answer["messages"]] == ["New message from Maria"]
