"""Alerts in the worker: a Web Push per new customer message, queued by the intake's hook on commit."""

from django.tasks import task

from crm import rls
from whatsapp import tasks as whatsapp_tasks

from . import push


@task()
def push_new_message(agent_id, message_id):
    with rls.agent_scope(agent_id):
        return push.push_new_message(agent_id, message_id)


def queue_push(agent, message):
    """The intake's hook (whatsapp.hooks): once the new message is committed, the worker pushes it to the
    agent's subscribed browsers. Nothing is queued for an agent without any, nor while push is off."""
    if push.push_configured() and agent.user_id is not None and push.subscriptions_of(agent).exists():
        whatsapp_tasks.enqueue_on_commit(push_new_message, message._state.db, agent.pk, message.pk)
