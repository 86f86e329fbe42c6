"""A cart left behind: a WhatsApp cart that became a draft order and is still pending some hours later gets
one reminder, a text inside the 24-hour window, else the template the seller chose (or none), unless the
seller turned reminders off.

The reminder is scheduled when the cart arrives (a task to run after the shop's hours), and its row in
outreach_cart_reminders is written before it is sent: however often the task runs, one reminder at most.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.tasks import task
from django.utils import timezone

from agents import tables
from agents.customers import first_name
from agents.models import Agent
from crm import rls
from whatsapp import message_templates
from whatsapp.send import AUTOMATIC, SendError, send_template, send_text, window

from . import consent
from .models import CartReminder

MESSAGE_TYPES = ("order",)
# What a reminder template's variables become: the customer's first name, then the order's number.
TEMPLATE_FIELDS = ("body.1", "body.2")


def reminder_templates(templates):
    """The approved templates a reminder can be: no variables beyond a first name and an order number."""
    return [
        template
        for template in templates
        if message_templates.unsupported_reason(template) is None
        and {field.key for field in message_templates.template_fields(template)} <= set(TEMPLATE_FIELDS)
    ]


def act_on_stored_message(agent, message):
    """The intake's handler (whatsapp.hooks): a cart that became a draft order gets its reminder scheduled."""
    shop = consent.settings_read_once(agent)
    if not shop.cart_reminder_enabled or not message.wamid:
        return None
    order = tables.for_agent(agent).Order.objects.filter(source_wamid=message.wamid).first()
    if order is None:
        return None
    if not remind_cart.get_backend().supports_defer:
        return "no cart reminder: the task backend cannot run a task later"
    due = timezone.now() + dt.timedelta(hours=shop.cart_reminder_hours)
    transaction.on_commit(
        lambda: remind_cart.using(run_after=due).enqueue(agent.pk, order.pk), using=tables.for_agent(agent).database
    )
    return None


@task()
def remind_cart(agent_id, order_id):
    with rls.agent_scope(agent_id):
        agent = Agent.objects.filter(pk=agent_id).first()
        return remind(agent, order_id) if agent else "agent gone"


def remind(agent, order_id):
    """Send the reminder of the draft order `order_id` if it is still pending; returns what happened."""
    shop = consent.settings_of(agent)
    if not shop.cart_reminder_enabled:
        return "cart reminders are turned off"
    agent_tables = tables.for_agent(agent)
    order = agent_tables.Order.objects.filter(pk=order_id).select_related("customer").first()
    if order is None or order.status != "pending":
        return "the order is gone" if order is None else f"the order is {order.status} already"
    try:
        with transaction.atomic(using=CartReminder.objects.db):
            reminder = CartReminder.objects.create(agent=agent, order_id=order.pk)
    except IntegrityError:
        return "reminded already"
    reminder.outcome = _send(agent, agent_tables, shop, order)
    reminder.save(update_fields=["outcome"])
    return reminder.outcome


def _send(agent, agent_tables, shop, order):
    customer, key = order.customer, f"{AUTOMATIC}cart:{order.pk}"
    try:
        if window(agent_tables, customer).is_open:
            text = shop.cart_reminder_text.replace("{first_name}", first_name(customer))
            send_text(agent, customer, text.replace("{order}", f"#{order.pk}"), sent_by=None, idempotency_key=key)
            return "reminded by a message"
        template = shop.cart_reminder_template
        if template is None:
            return "not reminded: the 24-hour window is closed and no reminder template is chosen"
        values = dict(zip(TEMPLATE_FIELDS, (first_name(customer), f"#{order.pk}"), strict=True))
        fields = {field.key for field in message_templates.template_fields(template)}
        send_template(
            agent,
            customer,
            template,
            {k: v for k, v in values.items() if k in fields},
            sent_by=None,
            idempotency_key=key,
        )
        return f"reminded with the template {template.name}"
    except SendError as error:
        return f"not reminded: {error}"[:300]
