"""Background work on Django's tasks framework: sends, read receipts, template syncs, and their upkeep.

Tasks take ids, never model instances (generated agent rows do not pickle), and are idempotent:
running one twice, or after a worker restart, never sends a message twice. With TASKS_BACKEND=database
they wait in the database for `manage.py db_worker`; the periodic upkeep is `run_periodic_tasks`.
"""

import logging
from functools import partial

from django.db import router, transaction
from django.tasks import task, task_backends
from django.utils import timezone
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from crm import rls

from . import delivery, hooks, message_templates
from .graph import GraphError
from .models import WhatsAppConfiguration

logger = logging.getLogger(__name__)


@task()
def send_message(agent_id, message_id):
    with rls.agent_scope(agent_id):
        return delivery.deliver(agent_id, message_id)


@task()
def send_read_receipt(agent_id, wamid, typing=False):
    with rls.agent_scope(agent_id):
        return delivery.deliver_read_receipt(agent_id, wamid, typing)


@task()
def sync_templates(configuration_id):
    configuration = WhatsAppConfiguration.objects.filter(pk=configuration_id, is_active=True).first()
    if configuration is None:
        return "configuration gone"
    try:
        return message_templates.sync_templates(configuration)
    except (GraphError, message_templates.TemplateError) as error:
        logger.warning("Templates of WhatsApp configuration %s not synced: %s", configuration_id, error)
        return f"failed: {error}"


def enqueue_on_commit(task_, database, *args):
    """Enqueue `task_` so that it exists exactly when the current transaction on `database` commits.

    The database backend keeps its tasks in the same database as the rows (today): the task row is then
    written inside the transaction, so a crash right after the commit cannot lose it. Otherwise (the
    immediate backend, or rows on another database) the task is enqueued once the transaction commits.
    """
    if isinstance(task_.get_backend(), DatabaseBackend) and router.db_for_write(DBTaskResult) == database:
        task_.enqueue(*args)
    else:
        transaction.on_commit(partial(task_.enqueue, *args), using=database)


def requeue_abandoned(task_, *, older_than):
    """Fail the runs of `task_` still "running" since before `older_than` (their worker died) and enqueue
    them again with the same arguments; returns how many. Only the database backend can lose runs."""
    if not isinstance(task_.get_backend(), DatabaseBackend):
        return 0
    requeued = 0
    with transaction.atomic(using=router.db_for_write(DBTaskResult)):
        abandoned = (
            DBTaskResult.objects.running()
            .filter(task_path=task_.module_path, started_at__lt=older_than)
            .select_for_update(skip_locked=True)
        )
        for result in abandoned:
            result.set_failed(RuntimeError("abandoned: its worker stopped while running it; enqueued again"))
            task_.enqueue(*result.args_kwargs["args"], **result.args_kwargs["kwargs"])
            requeued += 1
    if requeued:
        logger.warning("Enqueued again %d abandoned %s tasks", requeued, task_.name)
    return requeued


def enqueue_template_syncs():
    """A template sync for every active configuration that has a business account; returns how many."""
    ids = list(
        WhatsAppConfiguration.objects.filter(is_active=True)
        .exclude(business_account_id__isnull=True)
        .exclude(business_account_id="")
        .values_list("pk", flat=True)
    )
    for configuration_id in ids:
        sync_templates.enqueue(configuration_id)
    return len(ids)


def requeue_abandoned_sends(now=None):
    """Enqueue again the sends whose worker died mid-task (a task running longer than SEND_LEASE).

    The message's own lease (status_at) keeps the new task from racing one that is still alive.
    """
    return requeue_abandoned(send_message, older_than=(now or timezone.now()) - delivery.SEND_LEASE)


def prune_finished_tasks(older_than):
    """Delete finished task results older than `older_than` (the table would grow forever)."""
    if not isinstance(task_backends["default"], DatabaseBackend):
        return 0
    deleted, _ = DBTaskResult.objects.finished().filter(finished_at__lt=older_than).delete()
    return deleted


def run_periodic_work(*, sync_templates_now, now=None):
    """One round of upkeep: re-enqueue abandoned sends, prune old results, and (when due) sync templates and run
    the periodic work other apps registered (whatsapp.hooks)."""
    now = now or timezone.now()
    done = {
        "requeued_sends": requeue_abandoned_sends(now),
        "pruned_results": prune_finished_tasks(now - timezone.timedelta(days=7)),
    }
    if sync_templates_now:
        done["template_syncs"] = enqueue_template_syncs()
    for name, work in hooks.periodic_work().items():
        done[name] = work(now)
    return done
