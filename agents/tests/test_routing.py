"""Each agent's requests can go to the same web process: the route cookie names the agent (hashed), and
deploy/nginx.conf sends a cookie's requests to one of several web processes (docs/operations.md)."""

import shutil
import subprocess
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from agents.access import ROUTE_COOKIE, route_key
from crm.tests.processes import child_env
from crm.tests.test_production import ROOT, free_port


def test_a_page_of_an_agent_sets_its_route_cookie_once(seller, seller_b):
    first = seller.client.get("/")
    assert first.status_code == 200
    cookie = first.cookies[ROUTE_COOKIE]
    assert cookie.value == route_key(seller.agent.id) and cookie["httponly"] and cookie["samesite"] == "Lax"

    assert ROUTE_COOKIE not in seller.client.get("/").cookies  # the browser has it: not sent again
    assert seller_b.client.get("/").cookies[ROUTE_COOKIE].value == route_key(seller_b.agent.id)


def test_route_keys_are_stable_and_spread():
    assert route_key(7) == route_key(7)
    assert len({route_key(agent_id) for agent_id in range(1, 1001)}) > 800


def test_a_logged_out_page_sets_no_route_cookie(client):
    assert ROUTE_COOKIE not in client.get("/accounts/login/").cookies


class _Named(BaseHTTPRequestHandler):
    def do_GET(self):
        body = self.server.name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def _backend(name):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Named)
    server.name = name
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _answer(port, cookie=None):
    request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Cookie": cookie} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


def test_the_shipped_nginx_config_sends_each_agents_requests_to_one_web_process(tmp_path):
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed here (on Debian: apt-get install nginx-light; .ci/run installs it)")
    backends = [_backend("first"), _backend("second")]
    port = free_port()
    upstreams = ",".join(f"127.0.0.1:{backend.server_port}" for backend in backends)
    nginx = subprocess.Popen(
        [str(ROOT / "scripts" / "run-nginx"), f"127.0.0.1:{port}", upstreams, str(tmp_path)],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _answer(port)
                break
            except OSError:
                assert time.monotonic() < deadline and nginx.poll() is None, "nginx did not start"
                time.sleep(0.05)
        chosen = {}
        for agent_id in range(1, 41):
            cookie = f"sessionid=abc; {ROUTE_COOKIE}={route_key(agent_id)}"
            answers = {_answer(port, cookie) for _ in range(5)}
            assert len(answers) == 1, agent_id  # every request of an agent: the same process
            chosen[agent_id] = answers.pop()
        assert set(chosen.values()) == {"first", "second"}  # and the agents spread over both
        # Without the cookie (the webhook, the login page): round robin over both.
        assert set(Counter(_answer(port) for _ in range(10))) == {"first", "second"}
    finally:
        nginx.terminate()
        nginx.wait(timeout=10)
        for backend in backends:
            backend.shutdown()
