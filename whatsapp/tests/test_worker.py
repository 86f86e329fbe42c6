"""Background work on the database backend: tasks written with their rows, the real db_worker process
picking sends up after a restart, and sends abandoned by a killed worker taken up again."""

import datetime as dt
import os
import signal
import subprocess
import sys
import time

import pytest
from django.db import connection, transaction
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm.tests.fixtures import PHONE_NUMBER_ID
from whatsapp import delivery, send, tasks

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_tasks(settings):
    settings.TASKS = DATABASE_BACKEND


def send_text(shop, customer, key="key-1"):
    return send.send_text(shop.agent, customer, "Hello from the worker", sent_by=None, idempotency_key=key)


def test_a_send_task_is_written_in_the_same_transaction_as_its_message(
    connected_shop, maria, fake_graph, database_tasks
):
    message = send_text(connected_shop, maria)

    [result] = DBTaskResult.objects.all()
    assert result.task_path == "whatsapp.tasks.send_message"
    assert result.args_kwargs == {"args": [connected_shop.agent.id, message.pk], "kwargs": {}}
    assert result.status == TaskResultStatus.READY
    assert connected_shop.tables.Message.objects.get(pk=message.pk).status == "queued"
    assert fake_graph.requests == []

    with pytest.raises(RuntimeError), transaction.atomic():
        send_text(connected_shop, maria, key="rolled-back")
        raise RuntimeError("the request failed after queueing")
    assert DBTaskResult.objects.count() == 1
    assert not connected_shop.tables.Message.objects.filter(idempotency_key="rolled-back").exists()


def test_a_send_abandoned_by_a_killed_worker_is_enqueued_again_and_sent_once(
    connected_shop, maria, fake_graph, database_tasks
):
    message = send_text(connected_shop, maria)
    long_ago = timezone.now() - delivery.SEND_LEASE - dt.timedelta(minutes=1)
    # What a worker killed mid-send leaves: its task "running", the message held by it.
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=long_ago)
    connected_shop.tables.Message.objects.filter(pk=message.pk).update(status_at=long_ago)

    assert tasks.requeue_abandoned_sends() == 1
    assert tasks.requeue_abandoned_sends() == 0

    abandoned, fresh = DBTaskResult.objects.order_by("enqueued_at")
    assert abandoned.status == TaskResultStatus.FAILED and "abandoned" in abandoned.traceback
    assert fresh.status == TaskResultStatus.READY and fresh.args_kwargs == abandoned.args_kwargs
    assert fresh.task.call(*fresh.args_kwargs["args"]) == "sent"
    assert fresh.task.call(*fresh.args_kwargs["args"]) == "not queued"
    assert len(fake_graph.sent_messages()) == 1


def test_a_send_still_running_within_its_lease_is_left_alone(connected_shop, maria, database_tasks):
    send_text(connected_shop, maria)
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())

    assert tasks.requeue_abandoned_sends() == 0


def test_periodic_work_prunes_old_results_and_needs_no_worker_under_the_immediate_backend(
    connected_shop, maria, database_tasks, settings
):
    send_text(connected_shop, maria)
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now() - dt.timedelta(days=8))

    # Beside the upkeep, each round runs the periodic work other apps registered (whatsapp.hooks).
    done = tasks.run_periodic_work(sync_templates_now=False)
    assert (done["requeued_sends"], done["pruned_results"]) == (0, 1)

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    done = tasks.run_periodic_work(sync_templates_now=False)
    assert (done["requeued_sends"], done["pruned_results"]) == (0, 0)


# The real worker process, on the test database (PostgreSQL: SQLite's test database lives in memory).


def database_url():
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def manage(fake_graph, *arguments, **options):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.test_settings",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "WHATSAPP_GRAPH_URL": fake_graph.url,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *arguments],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **options,
    )


def worker(fake_graph, *arguments):
    return manage(
        fake_graph,
        "db_worker",
        "--queue-name",
        "*",
        "--no-startup-delay",
        "--no-reload",
        "--interval",
        "0.1",
        *arguments,
    )


def read_until(process, text, timeout=30):
    deadline = time.monotonic() + timeout
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if text in line:
            return lines
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"{text!r} never appeared in: {''.join(lines)}")


@pytest.mark.postgres
def test_the_worker_picks_up_a_queued_send_after_a_restart(
    committed_db, database_tasks, connected_shop, maria, fake_graph
):
    running = worker(fake_graph)
    read_until(running, "Starting worker")
    running.send_signal(signal.SIGTERM)  # the worker stops (a deploy, a crash): nothing runs the queue
    assert running.wait(timeout=30) == 0

    message = send_text(connected_shop, maria)
    time.sleep(0.3)
    assert connected_shop.tables.Message.objects.get(pk=message.pk).status == "queued" and fake_graph.requests == []

    restarted = worker(fake_graph, "--batch")
    output, _ = restarted.communicate(timeout=60)

    assert restarted.returncode == 0, output
    message.refresh_from_db()
    assert message.status == "sent" and message.wamid
    assert len(fake_graph.sent_messages()) == 1
    assert DBTaskResult.objects.get().status == TaskResultStatus.SUCCESSFUL


def wait_until(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.postgres
def test_a_worker_killed_mid_send_completes_every_send_exactly_once_after_a_restart(
    committed_db, database_tasks, connected_shop, maria, fake_graph
):
    running = worker(fake_graph)
    before = [send_text(connected_shop, maria, key=f"before-{n}") for n in range(2)]
    wait_until(lambda: all(connected_shop.tables.Message.objects.get(pk=m.pk).status == "sent" for m in before))
    # Meta hangs on the next send (it has not taken the message): the worker is stuck inside it.
    fake_graph.fail_next(1, "timeout", delay=5, sends_only=True)
    held, *after = [send_text(connected_shop, maria, key=f"after-{n}") for n in range(3)]
    wait_until(lambda: len(fake_graph.calls("/messages")) == 3)
    running.kill()  # SIGKILL: no clean-up at all
    running.wait(timeout=10)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count() == 1
    assert connected_shop.tables.Message.objects.get(pk=held.pk).status == "queued"

    # A new worker sends what was waiting, but leaves the held send alone while its lease runs.
    restarted = worker(fake_graph, "--batch")
    restarted.communicate(timeout=60)
    assert [connected_shop.tables.Message.objects.get(pk=m.pk).status for m in [held, *after]] == [
        "queued",
        "sent",
        "sent",
    ]

    # A quarter of an hour later the clock finds the abandoned send and a new worker sends it.
    long_ago = timezone.now() - delivery.SEND_LEASE - dt.timedelta(minutes=1)
    DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).update(started_at=long_ago)
    connected_shop.tables.Message.objects.filter(pk=held.pk).update(status_at=long_ago)
    clock = manage(fake_graph, "run_periodic_tasks", "--once")
    output, _ = clock.communicate(timeout=60)
    assert "requeued sends: 1" in output
    restarted = worker(fake_graph, "--batch")
    restarted.communicate(timeout=60)

    queued = [*before, held, *after]
    stored = list(
        connected_shop.tables.Message.objects.outbound()
        .filter(pk__in=[m.pk for m in queued])
        .values_list("status", "wamid")
    )
    accepted = fake_graph.accepted_messages()
    assert [status for status, _ in stored] == ["sent"] * len(queued)
    # The hung request was never answered nor accepted: the customer got each message once.
    assert sorted(wamid for _, wamid in stored) == sorted(entry["wamid"] for entry in accepted)
    assert len(fake_graph.conversation(PHONE_NUMBER_ID, "5511987654321")) == len(queued)
    sends = DBTaskResult.objects.filter(task_path="whatsapp.tasks.send_message")
    assert sends.filter(status=TaskResultStatus.SUCCESSFUL).count() == len(queued)
    assert sends.filter(status=TaskResultStatus.FAILED).get().traceback.count("abandoned") == 1
    print(
        f"\nworker killed mid-send: {len(queued)} messages queued, {len(fake_graph.calls('/messages'))} calls to "
        f"the Graph API (1 held when the worker was killed), {len(accepted)} accepted by it, "
        f"{len(stored)} stored sent"
    )


@pytest.mark.postgres
def test_the_clock_runs_rounds_until_stopped(committed_db, database_tasks, connected_shop, maria, fake_graph):
    clock = manage(fake_graph, "run_periodic_tasks", "--interval", "0.1")
    lines = read_until(clock, "requeued sends: 0")
    read_until(clock, "requeued sends: 0")
    clock.send_signal(signal.SIGTERM)

    assert clock.wait(timeout=30) == 0
    assert "template syncs: 1" in "".join(lines)
