"""Needs reply through the real paths: a send refused by the Graph API, or reported failed by webhook,
leaves the customer waiting; a template answers; a resend that goes through answers again."""

import pytest

from whatsapp import send
from whatsapp.tests.test_send import send_text


def waiting(customer):
    customer.refresh_from_db()
    return customer.awaiting_reply_since is not None


def test_a_send_the_graph_api_refuses_leaves_the_customer_waiting_until_resent(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    assert waiting(maria)
    fake_graph.fail_next(1, "131026", sends_only=True)
    with django_capture_on_commit_callbacks(execute=True):
        message = send_text(connected_shop, maria)
    message.refresh_from_db()
    assert message.status == "failed" and waiting(maria)

    with django_capture_on_commit_callbacks(execute=True):
        send.resend(connected_shop.agent, message, sent_by=connected_shop.user)
    message.refresh_from_db()
    assert message.status == "sent" and not waiting(maria)


@pytest.mark.django_db(transaction=True)
def test_a_send_reported_failed_by_webhook_leaves_the_customer_waiting(live_shop, fake_graph, settings):
    from crm.tests.fixtures import add_inbound

    settings.WHATSAPP_PROCESS_INLINE = True
    t = live_shop.tables
    customer = t.Customer.objects.create(name="Maria Silva", phone="+5511987654321")
    add_inbound(t, customer, wamid="wamid.from-maria")
    fake_graph.fail_next(1, "131026", sends_only=True, later=True)
    message = send_text(live_shop, customer)
    fake_graph.wait_for_webhooks(timeout=10)
    message.refresh_from_db()
    assert message.status == "failed" and waiting(customer)


def test_a_template_answers(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    from django.utils import timezone

    from crm.tests.fixtures import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID
    from whatsapp.models import MessageTemplate

    definition = {
        "name": "hello",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hello there"}],
    }
    template = MessageTemplate.objects.create(
        configuration=connected_shop.configuration, meta_id="9", synced_at=timezone.now(), **definition
    )
    fake_graph.register_phone_number(PHONE_NUMBER_ID, business_account_id=BUSINESS_ACCOUNT_ID)
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [{"id": "9", **definition}])
    with django_capture_on_commit_callbacks(execute=True):
        message = send.send_template(connected_shop.agent, maria, template, {}, sent_by=None, idempotency_key="t-1")
    message.refresh_from_db()
    assert message.status == "sent" and not waiting(maria)
