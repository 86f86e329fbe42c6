"""Order settings: the approved template that tells a customer about each status outside the window."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import StatusTemplate
from whatsapp.models import MessageTemplate

POSITIONAL = {
    "name": "order_update",
    "language": "en_US",
    "status": "APPROVED",
    "category": "UTILITY",
    "parameter_format": "POSITIONAL",
    "components": [{"type": "BODY", "text": "Hi {{1}}, your order {{2}} is now {{3}}."}],
}
ODD = {
    **POSITIONAL,
    "name": "odd",
    "parameter_format": "NAMED",
    "components": [{"type": "BODY", "text": "Hi {{favourite_colour}}"}],
}
IMAGE_HEADER = {
    **POSITIONAL,
    "name": "with_picture",
    "components": [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "Hi"}],
}


@pytest.fixture
def templates(connected_shop):
    """The connected shop's templates by name: one that fits an order, two that cannot, and one pending."""
    templates = {
        definition["name"]: MessageTemplate.objects.create(
            configuration=connected_shop.configuration, meta_id=str(n), synced_at=timezone.now(), **definition
        )
        for n, definition in enumerate((POSITIONAL, ODD, IMAGE_HEADER))
    }
    MessageTemplate.objects.create(
        configuration=connected_shop.configuration,
        meta_id="99",
        synced_at=timezone.now(),
        **{**POSITIONAL, "name": "not_yet", "status": "PENDING"},
    )
    return templates


def choices(**chosen):
    return {f"template-{status}": template.pk if template else "" for status, template in chosen.items()}


def test_the_page_explains_and_offers_the_approved_templates_that_fit_an_order(connected_shop, maria, templates):
    body = connected_shop.client.get(reverse("order_settings")).content.decode()
    assert "WhatsApp only lets a business start a conversation with a <em>template</em>" in body
    for status in ("confirmed", "processing", "shipped", "delivered", "cancelled", "refunded"):
        assert f'<select id="template-{status}" name="template-{status}">' in body
    assert f'<option value="{templates["order_update"].pk}">order_update (en_US)</option>' in body
    assert re.search(rf'value="{templates["odd"].pk}" disabled>odd \(en_US\) — Its variables', body)
    assert re.search(rf'value="{templates["with_picture"].pk}" disabled>with_picture', body)
    assert "not_yet" not in body


def test_choosing_a_template_per_status_is_saved_and_previewed(connected_shop, maria, templates):
    update = templates["order_update"]
    response = connected_shop.client.post(
        reverse("order_settings"), choices(shipped=update, delivered=update, confirmed=None)
    )
    assert response.status_code == 302
    assert dict(StatusTemplate.objects.filter(agent=connected_shop.agent).values_list("status", "template")) == {
        "shipped": update.pk,
        "delivered": update.pk,
    }

    body = connected_shop.client.get(reverse("order_settings")).content.decode()
    assert "Hi Maria Silva, your order 1042 is now shipped." in body
    assert "Hi Maria Silva, your order 1042 is now delivered." in body

    connected_shop.client.post(reverse("order_settings"), choices(shipped=None, delivered=update))  # the form sends all
    assert list(StatusTemplate.objects.values_list("status", flat=True)) == ["delivered"]


@pytest.mark.parametrize("name", ["odd", "with_picture"])
def test_a_template_that_cannot_tell_about_an_order_is_refused(connected_shop, maria, templates, name):
    response = connected_shop.client.post(reverse("order_settings"), choices(shipped=templates[name]))
    assert (
        response.status_code == 400
        and "Choose one of your approved templates for shipped orders." in response.content.decode()
    )
    assert not StatusTemplate.objects.exists()


def test_another_numbers_template_is_refused(connected_shop, maria, templates, agent_b):
    from whatsapp.configuration import save_configuration

    other = agent_b
    configuration, _ = save_configuration(
        user=other.user, whatsapp_number="+15550100777", phone_number_id="7777", access_token="x"
    )
    theirs = MessageTemplate.objects.create(
        configuration=configuration, meta_id="5", synced_at=timezone.now(), **POSITIONAL
    )
    response = connected_shop.client.post(reverse("order_settings"), {"template-shipped": theirs.pk})
    assert response.status_code == 400 and not StatusTemplate.objects.exists()


def test_a_chosen_template_that_stopped_fitting_is_pointed_out(connected_shop, maria, templates):
    StatusTemplate.objects.create(agent=connected_shop.agent, status="shipped", template=templates["odd"])
    body = connected_shop.client.get(reverse("order_settings")).content.decode()
    assert "Its variables cannot all be filled from an order, so it would not be sent." in body


def test_templates_can_be_refreshed_from_whatsapp(
    connected_shop, maria, templates, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(reverse("order_refresh_templates"), follow=True)
    assert "Asking WhatsApp for your templates" in response.content.decode()
    assert fake_graph.calls("/message_templates")


def test_without_a_number_the_page_says_so(seller, client):
    body = client.get(reverse("order_settings")).content.decode()
    assert "No WhatsApp number is connected to this agent yet" in body
    response = client.post(reverse("order_refresh_templates"), follow=True)
    assert "no active WhatsApp number" in response.content.decode()
