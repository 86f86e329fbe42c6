"""Slow clients against the shipped web process: gunicorn with crm/gunicorn.py, real sockets."""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm.tests.processes import child_env
from crm.tests.slow_clients import SlowClients, time_page
from crm.tests.test_production import PRODUCTION_ENV, ROOT, free_port

READ_TIMEOUT = 3
# Every page must answer within this, however loaded the (2-CPU, shared) machine: it answers in
# milliseconds when nothing slows it, and not at all while slow clients hold every thread.
PAGE_BOUND_SECONDS = 5
PAGES = ("/healthz", "/accounts/login/")


def serve(tmp_path, *arguments):
    """Start the shipped web process with its default shape on 2 CPUs (2 workers x 4 threads); its port."""
    port = free_port()
    env = child_env(
        **PRODUCTION_ENV,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        ALLOWED_HOSTS="127.0.0.1",
        HOST="127.0.0.1",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        WEB_THREADS="4",
        WEB_READ_TIMEOUT=str(READ_TIMEOUT),
        SECURE_SSL_REDIRECT="false",
    )
    # The login form checks its password against the users table.
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    command = [sys.executable, "-m", "gunicorn", "--config", "crm/gunicorn.py", "crm.wsgi", *arguments]
    return port, start(command, port, env, tmp_path / "server.log")


def start(command, port, env, log):
    with open(log, "w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time_page(port, "/healthz", timeout=2)[0] != 200:
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{command[0]} did not start:\n{log.read_text()}")
        time.sleep(0.2)
    return process


def stop(*processes):
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port, process = serve(tmp_path_factory.mktemp("slow_clients"))
    yield port
    stop(process)


def wait_for(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def assert_pages_answer(port, rounds=20):
    for _ in range(rounds):
        for path in PAGES:
            status, seconds = time_page(port, path, timeout=PAGE_BOUND_SECONDS)
            assert status == 200 and seconds < PAGE_BOUND_SECONDS, f"GET {path}: {status} after {seconds:.1f} s"


def test_pages_keep_answering_while_50_slow_clients_hold_connections(server):
    with SlowClients(server, 50) as slow_clients:
        assert slow_clients.ready.wait(30), "the slow clients could not all connect"
        assert_pages_answer(server)
        # Each slow client is cut off, and comes back at once: the pages answered while 50 were open.
        assert wait_for(lambda: slow_clients.answers["408"] >= 50, READ_TIMEOUT * 10)
    assert set(slow_clients.answers) == {"408"}


def test_a_request_that_has_not_arrived_in_time_is_answered_408_and_closed(server):
    with SlowClients(server, 3) as slow_clients:  # one of each kind
        assert wait_for(lambda: slow_clients.answers["408"] >= 3, READ_TIMEOUT * 10)
    assert slow_clients.opened >= 6  # each closed after its 408, and opened again


def raw_exchange(port, *pieces, pause=0.3):
    """Send `pieces` on one connection, `pause` seconds apart; everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for n, piece in enumerate(pieces):
            if n:
                time.sleep(pause)  # the client is slow, within the time allowed
            sock.sendall(piece)
        answer = b""
        while data := sock.recv(65536):
            answer += data
    return answer


def test_requests_arriving_in_pieces_or_pipelined_are_served_as_before(server):
    token = "b" * 32
    body = f"csrfmiddlewaretoken={token}&username=nobody%40example.com&password=wrong".encode()
    head = (
        "POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\nReferer: http://127.0.0.1/accounts/login/\r\n"
        f"Cookie: csrftoken={token}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()

    answer = raw_exchange(server, head[:20], head[20:], body[:10], body[10:])
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b"Please enter a correct email" in answer  # the form was read whole: the password was checked

    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answer = raw_exchange(server, get + get + get.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
    assert answer.count(b"HTTP/1.1 200 ") == 3

    assert raw_exchange(server, head.replace(b"Content-Length", b"Transfer-Encoding: chunked\r\nX-Was")).startswith(
        b"HTTP/1.1 411 "
    )


def test_the_shipped_nginx_config_alone_keeps_pages_answering_through_50_slow_clients(tmp_path):
    """deploy/nginx.conf in front of gunicorn's plain gthread worker, which slow clients stall on its own."""
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed here (on Debian: apt-get install nginx-light; .ci/run installs it)")
    app_port, app = serve(tmp_path, "--worker-class", "gthread")
    port = free_port()
    (tmp_path / "nginx").mkdir()
    run_nginx = [
        str(ROOT / "scripts" / "run-nginx"),
        f"127.0.0.1:{port}",
        f"127.0.0.1:{app_port}",
        str(tmp_path / "nginx"),
    ]
    nginx = start(run_nginx, port, child_env(), tmp_path / "nginx.log")
    try:
        with SlowClients(port, 50) as slow_clients:
            assert slow_clients.ready.wait(30), "the slow clients could not all connect"
            assert_pages_answer(port)
    finally:
        stop(nginx, app)
