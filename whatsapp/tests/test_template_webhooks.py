"""Meta's template webhooks keep the stored templates honest: status, quality and category, applied once and
never undone by a late delivery; the order settings warn when an order-update template became MARKETING."""

import pytest
from django.urls import reverse

from crm.tests.fixtures import BUSINESS_ACCOUNT_ID
from orders.models import StatusTemplate
from whatsapp import message_templates

from .payloads import post

pytestmark = pytest.mark.django_db

TEMPLATE_ID = 278077987957091


@pytest.fixture
def template(connected_shop, fake_graph):
    fake_graph.set_templates(
        BUSINESS_ACCOUNT_ID,
        [
            {
                "name": "welcome_template",
                "language": "en-US",
                "status": "APPROVED",
                "category": "UTILITY",
                "id": str(TEMPLATE_ID),
                "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is {{3}}."}],
            }
        ],
    )
    message_templates.sync_templates(connected_shop.configuration)
    return connected_shop.configuration.templates.get()


def deliver(client, field, value, time):
    body = {
        "object": "whatsapp_business_account",
        "entry": [{"id": BUSINESS_ACCOUNT_ID, "time": time, "changes": [{"field": field, "value": value}]}],
    }
    assert post(client, body).status_code == 200


def status_update(event, reason="NONE"):
    # webhooks/reference/message_template_status_update
    return {
        "event": event,
        "message_template_id": TEMPLATE_ID,
        "message_template_name": "welcome_template",
        "message_template_language": "en-US",
        "reason": reason,
        "message_template_category": "UTILITY",
    }


def test_status_updates_apply_once_and_a_late_one_changes_nothing(client, template):
    deliver(client, "message_template_status_update", status_update("PAUSED"), 1751247600)
    deliver(client, "message_template_status_update", status_update("APPROVED"), 1751247548)  # older, late
    deliver(client, "message_template_status_update", status_update("PAUSED"), 1751247600)  # again
    template.refresh_from_db()
    assert template.status == "PAUSED"

    deliver(client, "message_template_status_update", status_update("REJECTED", "INVALID_FORMAT"), 1751247700)
    template.refresh_from_db()
    assert (template.status, template.status_reason) == ("REJECTED", "INVALID_FORMAT")
    deliver(client, "message_template_status_update", status_update("REINSTATED"), 1751247800)
    template.refresh_from_db()
    assert template.status == "APPROVED"


def test_a_quality_update_is_kept(client, template):
    value = {
        "previous_quality_score": "GREEN",
        "new_quality_score": "YELLOW",
        "message_template_id": TEMPLATE_ID,
        "message_template_name": "welcome_template",
        "message_template_language": "en-US",
    }
    # Meta's example names the field message_template_status_update; the quality is what the value holds.
    deliver(client, "message_template_status_update", value, 1674864290)
    deliver(client, "message_template_quality_update", {**value, "new_quality_score": "RED"}, 1674864200)
    template.refresh_from_db()
    assert template.quality_score == "YELLOW"


def test_a_move_to_marketing_warns_on_the_order_settings_page(client, connected_shop, template):
    StatusTemplate.objects.create(agent=connected_shop.agent, status="shipped", template=template)
    # webhooks/reference/template_category_update: first the notice, a day later the move.
    impending = {
        "message_template_id": TEMPLATE_ID,
        "message_template_name": "welcome_template",
        "message_template_language": "en-US",
        "new_category": "UTILITY",
        "correct_category": "MARKETING",
        "category_update_timestamp": 1746169200,
    }
    deliver(client, "template_category_update", impending, 1746082800)
    page = client.get(reverse("order_settings")).content.decode()
    assert "will be moved to the MARKETING category" in page

    done = {**impending, "previous_category": "UTILITY", "new_category": "MARKETING"}
    del done["correct_category"], done["category_update_timestamp"]
    deliver(client, "template_category_update", done, 1746169200)
    deliver(client, "template_category_update", impending, 1746082800)  # the notice again, late
    template.refresh_from_db()
    assert (template.category, template.previous_category, template.upcoming_category) == (
        "MARKETING",
        "UTILITY",
        "",
    )
    page = client.get(reverse("order_settings")).content.decode()
    assert "was moved from UTILITY to MARKETING by Meta" in page


def test_a_template_of_another_business_account_is_left_alone(client, template):
    body = {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "999",
                "time": 1751247600,
                "changes": [{"field": "message_template_status_update", "value": status_update("DISABLED")}],
            }
        ],
    }
    post(client, body)
    template.refresh_from_db()
    assert template.status == "APPROVED"
