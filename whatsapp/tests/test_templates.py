"""Templates: synced per configuration from the fake Graph API, their variables, and sending them."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm.tests.fixtures import BUSINESS_ACCOUNT_ID
from fakegraph.server import DEMO_TEMPLATES
from whatsapp import message_templates, send
from whatsapp.configuration import save_configuration
from whatsapp.models import MessageTemplate

COUPON = {
    "id": "1304694804498707",
    "name": "coupon_reminder",
    "language": "en",
    "status": "APPROVED",
    "category": "MARKETING",
    "parameter_format": "POSITIONAL",
    "components": [
        {"type": "HEADER", "format": "TEXT", "text": "Act fast, {{1}}!", "example": {"header_text": ["Pablo"]}},
        {
            "type": "BODY",
            "text": "Your code {{1}} expires in {{2}} days.",
            "example": {"body_text": [["SUMMER20", "10"]]},
        },
        {"type": "FOOTER", "text": "Lucky Shrub"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "URL", "text": "See deals", "url": "https://shop.example/deals/{{1}}", "example": ["spring"]},
                {"type": "QUICK_REPLY", "text": "Unsubscribe"},
            ],
        },
    ],
}
IMAGE_HEADER = {
    "id": "5",
    "name": "new_arrivals",
    "language": "en_US",
    "status": "APPROVED",
    "category": "MARKETING",
    "components": [{"type": "HEADER", "format": "IMAGE"}, {"type": "BODY", "text": "New in!"}],
}


def sync(shop):
    return message_templates.sync_templates(shop.configuration)


def send_template(shop, customer, template, values, key="t-1"):
    return send.send_template(shop.agent, customer, template, values, sent_by=shop.user, idempotency_key=key)


def test_sync_keeps_the_business_accounts_templates_per_configuration(connected_shop, maria, fake_graph):
    assert sync(connected_shop) == len(DEMO_TEMPLATES)

    [call] = fake_graph.calls(f"/{BUSINESS_ACCOUNT_ID}/message_templates")
    assert call.authorization == "Bearer shop-access-token"
    names = {t.name: t.status for t in connected_shop.configuration.templates.all()}
    assert names == {
        "hello_world": "APPROVED",
        "order_update": "APPROVED",
        "items_on_hold": "APPROVED",
        "spring_sale": "PENDING",
    }
    assert [t.name for t in send.approved_templates(connected_shop.agent)] == [
        "hello_world",
        "items_on_hold",
        "order_update",
    ]


def test_a_second_sync_updates_changed_templates_and_drops_deleted_ones(connected_shop, maria, fake_graph):
    sync(connected_shop)
    fake_graph.set_templates(
        BUSINESS_ACCOUNT_ID,
        [
            {**DEMO_TEMPLATES[3], "status": "APPROVED"},
            COUPON,
            {"name": "", "language": "en"},
        ],
    )

    assert sync(connected_shop) == 2

    assert {(t.name, t.status) for t in connected_shop.configuration.templates.all()} == {
        ("spring_sale", "APPROVED"),
        ("coupon_reminder", "APPROVED"),
    }


def test_a_configuration_without_a_business_account_cannot_sync(connected_shop, maria):
    connected_shop.configuration.business_account_id = None

    with pytest.raises(message_templates.TemplateError, match="no business account id"):
        sync(connected_shop)


def test_the_sync_task_runs_on_demand_and_survives_metas_errors(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        send.request_template_sync(connected_shop.agent)
    assert connected_shop.configuration.templates.count() == len(DEMO_TEMPLATES)

    fake_graph.fail_next(1, "190")
    with django_capture_on_commit_callbacks(execute=True):
        send.request_template_sync(connected_shop.agent)
    assert connected_shop.configuration.templates.count() == len(DEMO_TEMPLATES)  # kept as they were


def test_periodic_work_syncs_every_active_number(connected_shop, maria, fake_graph, capsys):
    call_command("run_periodic_tasks", "--once")

    assert "template syncs: 1" in capsys.readouterr().out
    assert connected_shop.configuration.templates.count() == len(DEMO_TEMPLATES)


def test_template_fields_name_each_variable_with_metas_example(connected_shop, maria, fake_graph):
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [COUPON])
    sync(connected_shop)

    fields = message_templates.template_fields(connected_shop.configuration.templates.get())

    assert [(f.key, f.example) for f in fields] == [
        ("header.1", "Pablo"),
        ("body.1", "SUMMER20"),
        ("body.2", "10"),
        ("button.0", "spring"),
    ]
    assert fields[0].label == "Header variable {{1}}"
    assert "See deals" in fields[3].label


def test_an_approved_template_is_sent_outside_the_window_with_its_values(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    connected_shop.tables.Message.objects.filter(direction="inbound").update(
        timestamp=timezone.now() - dt.timedelta(days=3)
    )
    sync(connected_shop)
    template = connected_shop.configuration.templates.get(name="order_update")

    with django_capture_on_commit_callbacks(execute=True):
        message = send_template(
            connected_shop, maria, template, {"body.1": "Maria", "body.2": "#1042", "body.3": " on its way "}
        )

    message.refresh_from_db()
    [sent] = fake_graph.sent_messages()
    assert sent["type"] == "template"
    assert sent["template"] == {
        "name": "order_update",
        "language": {"code": "en_US"},
        "components": [
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "text": "Maria"},
                    {"type": "text", "text": "#1042"},
                    {"type": "text", "text": "on its way"},
                ],
            },
        ],
    }
    assert message.status == "sent" and message.wa_type == "template"
    assert message.message == (
        "Hi Maria, your order #1042 is now on its way. Thank you for shopping with us!"
        "\n\nReply to this message if you have any question"
    )


def test_a_named_template_names_its_parameters(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    sync(connected_shop)
    template = connected_shop.configuration.templates.get(name="items_on_hold")

    with django_capture_on_commit_callbacks(execute=True):
        send_template(connected_shop, maria, template.pk, {"body.first_name": "Maria", "body.date": "Friday"})

    [sent] = fake_graph.sent_messages()
    assert sent["template"]["components"][0]["parameters"] == [
        {"type": "text", "text": "Maria", "parameter_name": "first_name"},
        {"type": "text", "text": "Friday", "parameter_name": "date"},
    ]


def test_a_template_without_variables_is_sent_without_components(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    sync(connected_shop)

    with django_capture_on_commit_callbacks(execute=True):
        message = send_template(
            connected_shop, maria, connected_shop.configuration.templates.get(name="hello_world"), {}
        )

    assert "components" not in fake_graph.sent_messages()[0]["template"]
    assert message.message.startswith("Hello World\n\nWelcome and congratulations!!")


def test_header_and_url_button_variables_go_where_meta_expects_them(connected_shop, maria, fake_graph):
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [COUPON])
    sync(connected_shop)
    template = connected_shop.configuration.templates.get()
    values = message_templates.clean_values(
        template, {"header.1": "Ana", "body.1": "SPRING", "body.2": "3", "button.0": "spring-sale"}
    )

    assert message_templates.template_components(template, values) == [
        {"type": "header", "parameters": [{"type": "text", "text": "Ana"}]},
        {"type": "body", "parameters": [{"type": "text", "text": "SPRING"}, {"type": "text", "text": "3"}]},
        {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "spring-sale"}]},
    ]
    assert message_templates.render(template, values) == (
        "Act fast, Ana!\n\nYour code SPRING expires in 3 days.\n\nLucky Shrub"
    )


@pytest.mark.parametrize(
    "values, message",
    [
        ({"body.1": "Maria", "body.2": "#1"}, "Fill in the Body variable \\{\\{3\\}\\}"),
        ({"body.1": "Maria", "body.2": "#1", "body.3": "two\nlines"}, "cannot contain line breaks"),
        ({"body.1": "Maria", "body.2": "#1", "body.3": "x" * 1025}, "at most 1024 characters"),
    ],
)
def test_missing_or_invalid_variables_are_refused(connected_shop, maria, fake_graph, values, message):
    sync(connected_shop)

    with pytest.raises(send.SendError, match=message):
        send_template(connected_shop, maria, connected_shop.configuration.templates.get(name="order_update"), values)
    assert fake_graph.sent_messages() == []


def test_only_approved_templates_of_the_agents_own_number_are_sent(connected_shop, maria, fake_graph, make_user):
    sync(connected_shop)
    pending = connected_shop.configuration.templates.get(name="spring_sale")
    with pytest.raises(send.SendError, match="pending; only approved"):
        send_template(connected_shop, maria, pending, {"body.1": "Monday"})

    other_configuration, _ = save_configuration(
        user=make_user(), whatsapp_number="+15550100002", phone_number_id="3003", access_token="other"
    )
    theirs = MessageTemplate.objects.create(
        configuration=other_configuration,
        name="hello_world",
        language="en_US",
        status="APPROVED",
        synced_at=timezone.now(),
    )
    with pytest.raises(send.SendError, match="does not belong"):
        send_template(connected_shop, maria, theirs, {})
    with pytest.raises(send.SendError, match="does not belong"):
        send_template(connected_shop, maria, "not-an-id", {})
    with pytest.raises(send.SendError, match="does not belong"):
        send_template(connected_shop, maria, 999_999, {})


@pytest.mark.parametrize(
    "template, reason",
    [
        (IMAGE_HEADER, "image header"),
        ({**IMAGE_HEADER, "components": [], "category": "AUTHENTICATION"}, "Authentication"),
        ({**IMAGE_HEADER, "components": [{"type": "BUTTONS", "buttons": [{"type": "COPY_CODE"}]}]}, "copy code button"),
    ],
)
def test_templates_the_inbox_cannot_fill_are_refused_with_the_reason(
    connected_shop, maria, fake_graph, template, reason
):
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [template])
    sync(connected_shop)

    with pytest.raises(send.SendError, match=reason):
        send_template(connected_shop, maria, connected_shop.configuration.templates.get(), {})


def test_an_agent_without_a_number_has_no_templates(connected_shop, maria):
    connected_shop.configuration.delete()

    assert list(send.approved_templates(connected_shop.agent)) == []
    with pytest.raises(send.SendError):
        send.request_template_sync(connected_shop.agent)
    with pytest.raises(send.SendError):
        send_template(connected_shop, maria, 1, {})
