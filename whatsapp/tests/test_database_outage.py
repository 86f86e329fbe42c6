"""PostgreSQL stopped and started again while Meta posts deliveries: nothing answered 200 is lost, nothing doubles.

The app runs as in production (gunicorn, inline processing off, the intake worker beside it) on a PostgreSQL
cluster of the test's own, made with initdb in a temporary directory on a free port, which the test stops and
starts while threads post signed deliveries. The machine's shared cluster is never touched.
"""

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.conf import settings

from whatsapp import signatures

pytestmark = pytest.mark.postgres

PORTS = range(8180, 8200)
DEMO_PHONE_NUMBER_ID = "100000000000001"  # load_demo's number
SENDERS = ["16505551234", "5511987654321", "447911123456", "4915123456789"]


def postgres_binaries():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda path: int(path.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port(taken=()):
    for port in PORTS:
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


class PrivateCluster:
    """A PostgreSQL cluster in a temporary directory, run as the `postgres` user when the tests run as root."""

    def __init__(self, binaries, directory, port):
        self.binaries, self.directory, self.port = binaries, directory, port
        self.data = directory / "data"
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def run(self, program, *arguments):
        subprocess.run([*self.as_owner, str(self.binaries / program), *arguments], check=True, capture_output=True)

    def create(self):
        if self.as_owner:
            shutil.chown(self.directory, "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        self.start()
        self.run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "crm")

    def start(self):
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "postgres.log")
        self.run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self, mode="fast"):
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    @property
    def url(self):
        return f"postgres://postgres@127.0.0.1:{self.port}/crm"


@pytest.fixture
def private_cluster():
    binaries = postgres_binaries()
    if binaries is None or not (binaries / "pg_ctl").exists():
        pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed: no private cluster to stop")
    directory = Path(tempfile.mkdtemp(prefix="crm-outage-"))
    cluster = PrivateCluster(binaries, directory, free_port())
    try:
        cluster.create()
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")  # it was not running
        shutil.rmtree(directory, ignore_errors=True)


def app_environment(cluster):
    """Production settings (inline processing off, persistent connections) on the private cluster."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings",
        "DEBUG": "false",
        "DATABASE_URL": cluster.url,
        "CONN_MAX_AGE": "60",
        "SECRET_KEY": settings.SECRET_KEY,
        "WHATSAPP_APP_SECRET": settings.WHATSAPP_APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": settings.WHATSAPP_VERIFY_TOKEN,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "TASKS_BACKEND": "immediate",
        "SECURE_SSL_REDIRECT": "false",
        "WHATSAPP_PROCESS_INLINE": "false",
    }


def manage(environment, *arguments):
    subprocess.run(
        [sys.executable, "manage.py", *arguments],
        env=environment,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
    )


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Meta:
    """Threads posting signed deliveries, one new message each, and what each was answered."""

    def __init__(self, url, threads=3):
        self.url, self.threads = url, threads
        self.outcomes = {}  # wamid -> [answers, in order]
        self.bodies = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.counter = iter(range(10**9))

    def delivery(self):
        n = next(self.counter)
        wamid = f"wamid.outage.{n}"
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550100001", "phone_number_id": DEMO_PHONE_NUMBER_ID},
            "contacts": [{"profile": {"name": f"Customer {n % len(SENDERS)}"}, "wa_id": SENDERS[n % len(SENDERS)]}],
            "messages": [
                {
                    "from": SENDERS[n % len(SENDERS)],
                    "id": wamid,
                    "timestamp": str(int(time.time())),
                    "type": "text",
                    "text": {"body": f"Message {n}"},
                }
            ],
        }
        body = json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [{"id": "200000000000001", "changes": [{"field": "messages", "value": value}]}],
            }
        )
        return wamid, body.encode()

    def post(self, session, wamid, body):
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": signatures.sign(body, settings.WHATSAPP_APP_SECRET),
        }
        try:
            answer = session.post(self.url, data=body, headers=headers, timeout=20).status_code
        except requests.RequestException as error:
            answer = type(error).__name__
        with self.lock:
            self.outcomes.setdefault(wamid, []).append(answer)
            self.bodies[wamid] = body
        return answer

    def keep_posting(self):
        session = requests.Session()
        while not self.stopping.is_set():
            with self.lock:
                wamid, body = self.delivery()
            self.post(session, wamid, body)

    def start(self):
        self.workers = [threading.Thread(target=self.keep_posting, daemon=True) for _ in range(self.threads)]
        for worker in self.workers:
            worker.start()

    def stop(self):
        self.stopping.set()
        for worker in self.workers:
            worker.join(timeout=30)

    def count(self, answer):
        with self.lock:
            return sum(1 for answers in self.outcomes.values() if answers[-1] == answer)

    def failed_count(self):
        with self.lock:
            return sum(1 for answers in self.outcomes.values() if answers[-1] != 200)


def stored_wamids(cluster):
    with psycopg.connect(cluster.url.replace("postgres://", "postgresql://")) as connection:
        [prefix] = connection.execute("SELECT agent_prefix FROM agents").fetchone()
        assert prefix.startswith("agt_") and prefix[4:].isdigit()
        rows = connection.execute(f"SELECT wamid FROM {prefix}_messages WHERE wamid LIKE 'wamid.outage.%%'").fetchall()
        pending = connection.execute("SELECT count(*) FROM whatsapp_webhook_events WHERE state <> 'processed'")
        return [wamid for (wamid,) in rows], pending.fetchone()[0]


def test_deliveries_during_a_database_outage_are_stored_once_or_refused_with_a_5xx(private_cluster):
    cluster = private_cluster
    environment = app_environment(cluster)
    manage(environment, "migrate", "--verbosity", "0")
    manage(environment, "load_demo")
    port = free_port(taken={cluster.port})
    logs = cluster.directory / "app.log"
    with open(logs, "w") as log:
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "crm.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--threads",
                "2",
                "--timeout",
                "30",
            ],
            env=environment,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        intake_worker = subprocess.Popen(
            [sys.executable, "manage.py", "process_webhook_events", "--idle-sleep", "0.05"],
            env=environment,
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    meta = Meta(f"http://127.0.0.1:{port}/whatsapp/webhook/")
    try:
        wait_for(lambda: serving(meta.url), 60, "gunicorn")
        meta.start()
        outages = 0
        for mode in ("fast", "immediate"):
            accepted = meta.count(200)
            wait_for(lambda: meta.count(200) >= accepted + 30, 30, "deliveries stored before the outage")
            cluster.stop(mode)
            outages += 1
            refused = meta.failed_count()
            wait_for(lambda: meta.failed_count() >= refused + 10, 30, "deliveries refused while the database is down")
            cluster.start()
        accepted = meta.count(200)
        wait_for(lambda: meta.count(200) >= accepted + 30, 30, "deliveries stored after the restart")
        meta.stop()

        sent = len(meta.outcomes)
        answers = [answers[-1] for answers in meta.outcomes.values()]
        refused = [wamid for wamid, answers in meta.outcomes.items() if answers[-1] != 200]
        assert {answer for answer in answers if answer != 200} <= {503}, sorted(set(map(str, answers)))
        assert intake_worker.poll() is None, "the intake worker died with the database"
        # Everything answered 200 is stored, once, when the worker has caught up. A delivery whose commit
        # reached the disk as the server died was answered 503 yet stored: Meta's redelivery then changes nothing.
        wait_for(lambda: stored_wamids(cluster)[1] == 0, 30, "the intake worker to process every event")
        stored, _ = stored_wamids(cluster)
        answered_200 = {wamid for wamid, answers in meta.outcomes.items() if answers[-1] == 200}
        assert len(stored) == len(set(stored)) and answered_200 <= set(stored) <= set(meta.outcomes)
        stored_despite_503 = len(stored) - len(answered_200)

        # Meta delivers the refused ones again: then every message is there, once.
        session = requests.Session()
        for wamid in refused:
            assert meta.post(session, wamid, meta.bodies[wamid]) == 200
        wait_for(lambda: stored_wamids(cluster)[1] == 0, 30, "the intake worker to process the redeliveries")
        stored, _ = stored_wamids(cluster)
        assert len(stored) == len(set(stored)) == sent
        print(
            f"\ndatabase outage: {outages} stops of PostgreSQL (fast, then immediate); {sent} deliveries "
            f"sent, {len(answered_200)} answered 200 and stored once, {len(refused)} answered 503 "
            f"({stored_despite_503} of them stored all the same); after Meta's redelivery of the 503s, {len(stored)} "
            f"stored, each once"
        )
    except BaseException:
        print("The app's log ends with:\n" + logs.read_text()[-5000:])
        raise
    finally:
        meta.stopping.set()
        for process in (web, intake_worker):
            process.send_signal(signal.SIGTERM)
        for process in (web, intake_worker):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def serving(url):
    try:
        return requests.get(url, timeout=5).status_code == 403  # the handshake without a token: refused
    except requests.RequestException:  # not listening yet, or a worker still loading the app
        return False
