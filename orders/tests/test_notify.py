"""Each status change tells the customer on WhatsApp: text inside the 24-hour window, template outside."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.shop import shop_of
from crm.tests.fixtures import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID, add_inbound
from orders import notify, placing, workflow
from orders.models import StatusTemplate
from orders.placing import LineItem
from whatsapp.models import MessageTemplate

SHIPPING_TEMPLATE = {
    "name": "order_update",
    "language": "en",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "components": [
        {
            "type": "BODY",
            "text": "Hello {{1}}, order {{2}} is now {{3}}. Total {{4}}.",
            "example": {"body_text": [["Ana", "12", "shipped", "10.00"]]},
        }
    ],
}


def order_for(shop, customer, status="processing"):
    order = placing.create_order(shop.agent, customer, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=None)
    shop.tables.Order.objects.filter(pk=order.pk).update(status=status)
    return shop.tables.Order.objects.get(pk=order.pk)


@pytest.fixture
def ship(connected_shop, django_capture_on_commit_callbacks):
    """Move an order to shipped and tell the customer, running the send task as a commit would."""

    def move(shop, order):
        with django_capture_on_commit_callbacks(execute=True):
            order, event = workflow.change_status(shop.agent, order, "shipped", actor=shop.user)
            outcome = notify.notify_status_change(shop.agent, order, event, sent_by=shop.user)
        return order, event, outcome

    return move


def close_window(shop, customer):
    shop.tables.Message.objects.filter(customer=customer).update(timestamp=timezone.now() - dt.timedelta(hours=25))


def choose_template(shop, status="shipped", definition=SHIPPING_TEMPLATE):
    template = MessageTemplate.objects.create(
        configuration=shop.configuration, meta_id="77", synced_at=timezone.now(), **definition
    )
    StatusTemplate.objects.create(agent=shop.agent, status=status, template=template)
    return template


def test_inside_the_window_the_customer_gets_a_text_linked_to_the_history(connected_shop, maria, fake_graph, ship):
    order, event, outcome = ship(connected_shop, order_for(connected_shop, maria))
    event.refresh_from_db()
    message = connected_shop.tables.Message.objects.get(pk=event.message_id)
    assert message.status == "sent" and message.wa_type == "text"
    assert message.message == f"Hi Maria, your order #{order.pk} from Shop A is on its way."
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["text"]["body"] == message.message and sent["to"].lstrip("+") == "5511987654321"
    assert "being told" in outcome


def test_outside_the_window_the_chosen_template_is_sent_with_the_order_filled_in(
    connected_shop, maria, fake_graph, ship
):
    close_window(connected_shop, maria)
    choose_template(connected_shop)
    fake_graph.register_phone_number(PHONE_NUMBER_ID, business_account_id=BUSINESS_ACCOUNT_ID)
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [{"id": "77", **SHIPPING_TEMPLATE}])
    order, event, _ = ship(connected_shop, order_for(connected_shop, maria))
    event.refresh_from_db()
    message = connected_shop.tables.Message.objects.get(pk=event.message_id)
    assert message.wa_type == "template" and message.status == "sent"
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    parameters = [p["text"] for p in sent["template"]["components"][0]["parameters"]]
    assert parameters == ["Maria Silva", str(order.pk), "shipped", "$16.00"]


def test_outside_the_window_without_a_template_the_history_says_the_customer_was_not_told(
    connected_shop, maria, fake_graph, ship
):
    close_window(connected_shop, maria)
    _, event, outcome = ship(connected_shop, order_for(connected_shop, maria))
    event.refresh_from_db()
    assert event.message_id is None and "no template is chosen for shipped orders" in event.note
    assert "not told" in outcome and fake_graph.sent_messages(PHONE_NUMBER_ID) == []


def test_a_template_whose_variables_the_order_cannot_fill_is_not_sent(connected_shop, maria, fake_graph, ship):
    close_window(connected_shop, maria)
    odd = {
        **SHIPPING_TEMPLATE,
        "name": "odd",
        "parameter_format": "NAMED",
        "components": [{"type": "BODY", "text": "Hi {{favourite_colour}}"}],
    }
    choose_template(connected_shop, definition=odd)
    _, event, _ = ship(connected_shop, order_for(connected_shop, maria))
    event.refresh_from_db()
    assert "variables the order cannot fill" in event.note and fake_graph.sent_messages(PHONE_NUMBER_ID) == []


def test_named_variables_are_filled_by_their_names(connected_shop, maria):
    named = MessageTemplate(
        name="n",
        language="en",
        status="APPROVED",
        parameter_format="NAMED",
        components=[{"type": "BODY", "text": "Hi {{first_name}}, #{{order_number}} is {{status}} ({{total}})"}],
    )
    order = order_for(connected_shop, maria, "shipped")
    assert notify.template_values(named, order, maria, shop_of(connected_shop.agent)) == {
        "body.first_name": "Maria",
        "body.order_number": str(order.pk),
        "body.status": "shipped",
        "body.total": "$16.00",
    }


@pytest.mark.parametrize("status", list(notify.STATUS_TEXTS))
def test_every_status_has_words_for_the_customer(connected_shop, maria, status):
    order = order_for(connected_shop, maria, status)
    assert f"#{order.pk}" in notify.status_text(order, maria, shop_of(connected_shop.agent))


def test_a_fresh_inbound_message_reopens_the_window(connected_shop, maria, fake_graph, ship):
    close_window(connected_shop, maria)
    add_inbound(connected_shop.tables, maria, ago=dt.timedelta(minutes=1))
    _, event, _ = ship(connected_shop, order_for(connected_shop, maria))
    event.refresh_from_db()
    assert connected_shop.tables.Message.objects.get(pk=event.message_id).wa_type == "text"


def test_a_customer_known_only_by_their_number_is_greeted_without_it(connected_shop, maria):
    order = order_for(connected_shop, maria, "shipped")
    for stored in (maria.phone, "+55 11 98765-4321", ""):
        maria.name = stored
        assert (
            notify.status_text(order, maria, shop_of(connected_shop.agent))
            == f"Hi, your order #{order.pk} from Shop A is on its way."
        )
