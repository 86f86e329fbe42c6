"""A cart left behind: one reminder, scheduled when the cart arrives, a text inside the window and the chosen
template outside it, never for an order already confirmed, never twice, never when the seller turned it off."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm.tests.fixtures import BUSINESS_ACCOUNT_ID, MARIA_WA_ID, PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem
from outreach import carts, consent
from outreach.models import CartReminder, OutreachSettings
from whatsapp.models import MessageTemplate
from whatsapp.tests.payloads import message

REMINDER_TEMPLATE = {
    "name": "cart_waiting",
    "language": "en",
    "status": "APPROVED",
    "category": "MARKETING",
    "parameter_format": "POSITIONAL",
    "components": [
        {"type": "BODY", "text": "Hi {{1}}, your order {{2}} is waiting.", "example": {"body_text": [["Ana", "#1"]]}}
    ],
}


def left_cart(shop, customer):
    return placing.create_order(
        shop.agent, customer, [LineItem("Linen shirt", 1, Decimal("30"))], actor=None, source="cart", source_wamid="w.C"
    )


def texts(fake_graph):
    return fake_graph.sent_messages(PHONE_NUMBER_ID)


def test_a_pending_cart_is_reminded_once_by_a_message_inside_the_window(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = left_cart(connected_shop, maria)

    with django_capture_on_commit_callbacks(execute=True):
        assert carts.remind(connected_shop.agent, order.pk) == "reminded by a message"
    assert carts.remind(connected_shop.agent, order.pk) == "reminded already"

    [sent] = texts(fake_graph)
    assert sent["text"]["body"] == (
        f"Hi Maria, your order #{order.pk} is waiting for you. Reply here to confirm it, or tell us what to change."
    )
    assert CartReminder.objects.get().outcome == "reminded by a message"


def test_no_reminder_for_a_confirmed_order_or_when_turned_off(connected_shop, maria, fake_graph):
    order = left_cart(connected_shop, maria)
    OutreachSettings.objects.create(agent=connected_shop.agent, cart_reminder_enabled=False)
    assert carts.remind(connected_shop.agent, order.pk) == "cart reminders are turned off"
    OutreachSettings.objects.update(cart_reminder_enabled=True)
    connected_shop.tables.Order.objects.filter(pk=order.pk).update(status="confirmed")
    assert carts.remind(connected_shop.agent, order.pk) == "the order is confirmed already"
    assert texts(fake_graph) == [] and not CartReminder.objects.exists()


def close_window(shop, customer):
    shop.tables.Message.objects.filter(customer=customer).update(timestamp=timezone.now() - dt.timedelta(hours=30))


def test_outside_the_window_the_chosen_template_is_sent_with_the_name_and_number(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    fake_graph.register_phone_number(PHONE_NUMBER_ID, business_account_id=BUSINESS_ACCOUNT_ID)
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [{"id": "77", **REMINDER_TEMPLATE}])
    template = MessageTemplate.objects.create(
        configuration=connected_shop.configuration, meta_id="77", synced_at=timezone.now(), **REMINDER_TEMPLATE
    )
    assert carts.reminder_templates([template]) == [template]
    order = left_cart(connected_shop, maria)
    close_window(connected_shop, maria)
    OutreachSettings.objects.create(agent=connected_shop.agent, cart_reminder_template=template)

    with django_capture_on_commit_callbacks(execute=True):
        assert carts.remind(connected_shop.agent, order.pk) == "reminded with the template cart_waiting"

    [sent] = texts(fake_graph)
    assert sent["template"]["components"] == [
        {"type": "body", "parameters": [{"type": "text", "text": "Maria"}, {"type": "text", "text": f"#{order.pk}"}]}
    ]


def test_outside_the_window_without_a_template_or_to_an_opted_out_customer_nothing_is_sent(
    connected_shop, maria, fake_graph
):
    order = left_cart(connected_shop, maria)
    close_window(connected_shop, maria)
    outcome = carts.remind(connected_shop.agent, order.pk)
    assert outcome == "not reminded: the 24-hour window is closed and no reminder template is chosen"

    template = MessageTemplate.objects.create(
        configuration=connected_shop.configuration, meta_id="77", synced_at=timezone.now(), **REMINDER_TEMPLATE
    )
    OutreachSettings.objects.create(agent=connected_shop.agent, cart_reminder_template=template)
    consent.change(connected_shop.agent, maria.pk, opted_out=True, source="keyword", detail="STOP")
    second = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("8"))], actor=None, source="cart", source_wamid="w.D"
    )
    assert carts.remind(connected_shop.agent, second.pk).startswith("not reminded: Maria Silva opted out of marketing")
    assert texts(fake_graph) == []


@pytest.mark.postgres
def test_a_cart_from_the_webhook_schedules_its_reminder_for_later(connected_shop, deliver_from_maria, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    OutreachSettings.objects.create(agent=connected_shop.agent, cart_reminder_hours=6)
    item = {"product_retailer_id": "shirt-m", "quantity": 1, "item_price": 30, "currency": "USD"}

    deliver_from_maria(message("order", {"product_items": [item]}, wamid="wamid.CART", from_=MARIA_WA_ID))

    order = connected_shop.tables.Order.objects.get(source_wamid="wamid.CART")
    [task] = DBTaskResult.objects.filter(task_path="outreach.carts.remind_cart")
    assert task.args_kwargs["args"] == [connected_shop.agent.pk, order.pk]
    assert task.run_after - timezone.now() > dt.timedelta(hours=5, minutes=55)
