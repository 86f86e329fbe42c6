"""The order pages through their URLs: the panel beside the thread, creating with server-computed totals,
the order page's moves (every allowed and refused one), the history, payment, edits, messages, isolation."""

import datetime as dt
import re
from decimal import Decimal
from itertools import product

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.tests.fixtures import BUSINESS_ACCOUNT_ID, PHONE_NUMBER_ID
from orders import history, placing, workflow
from orders.models import StatusTemplate
from orders.placing import LineItem
from whatsapp.models import MessageTemplate

STATUSES = list(workflow.STATUS_LABELS)
ALLOWED = {
    ("pending", "confirmed"),
    ("confirmed", "processing"),
    ("processing", "shipped"),
    ("shipped", "delivered"),
    ("pending", "cancelled"),
    ("confirmed", "cancelled"),
    ("processing", "cancelled"),
    ("shipped", "cancelled"),
    ("delivered", "refunded"),
}
HTMX = {"HTTP_HX_REQUEST": "true"}


def an_order(shop, customer, status="pending", items=None, **kwargs):
    order = placing.create_order(
        shop.agent, customer, items or [LineItem("Blue mug", 2, Decimal("8.00"))], actor=shop.user, **kwargs
    )
    if status != "pending":
        shop.tables.Order.objects.filter(pk=order.pk).update(status=status)
    return shop.tables.Order.objects.get(pk=order.pk)


def items_post(*rows, **extra):
    data = {
        "item_name": [r[0] for r in rows],
        "item_quantity": [r[1] for r in rows],
        "item_price": [r[2] for r in rows],
    }
    data.update(extra)
    return data


def text(response):
    return response.content.decode()


# Creating -----------------------------------------------------------------------------------------------


def test_the_new_order_panel_opens_beside_the_thread_with_earlier_items_and_their_last_price(connected_shop, maria):
    an_order(connected_shop, maria, items=[LineItem("Blue mug", 1, Decimal("7.00"))])
    an_order(connected_shop, maria, items=[LineItem("Blue mug", 1, Decimal("8.50"))])
    url = reverse("order_create", args=[maria.pk])

    panel = text(connected_shop.client.get(url, {"panel": "1"}, **HTMX))

    assert panel.lstrip().startswith('<aside id="order-panel"') and "New order for Maria Silva" in panel
    assert '<option value="Blue mug" data-price="8.50" label="last sold at $8.50">' in panel
    assert 'hx-post="' + url + '"' in panel and 'name="send_summary" checked' in panel
    # Without JavaScript the conversation page itself shows the panel.
    page = text(connected_shop.client.get(reverse("conversation", args=[maria.pk]), {"order": "new"}))
    assert 'id="order-panel" class="order-panel"' in page and "Maria Silva" in page
    assert '<div id="order-panel" hidden></div>' in text(
        connected_shop.client.get(reverse("conversation", args=[maria.pk]))
    )


def test_totals_are_the_servers_whatever_the_client_sent(connected_shop, maria):
    url = reverse("order_create", args=[maria.pk])
    forged = items_post(
        ("Blue mug", "3", "8.50"),
        ("Gift wrap", "1", "1.25"),
        item_total=["0.01", "0.01"],
        total_amount="0.02",
        total="0.02",
        panel="1",
    )

    response = connected_shop.client.post(url, forged, **HTMX)

    order = connected_shop.tables.Order.objects.get()
    assert order.total_amount == Decimal("26.75")
    assert [(i.name, i.quantity, i.price, i.total) for i in order.items.order_by("id")] == [
        ("Blue mug", 3, Decimal("8.50"), Decimal("25.50")),
        ("Gift wrap", 1, Decimal("1.25"), Decimal("1.25")),
    ]
    body = text(response)
    assert response.status_code == 200 and f"Order #{order.pk} created" in body and "26.75" in body
    assert f'href="{reverse("order_detail", args=[order.pk])}"' in body


@pytest.mark.parametrize(
    "rows, error",
    [
        ((("Blue mug", "0", "8"),), "The quantity of &#x27;Blue mug&#x27; must be at least 1."),
        ((("Blue mug", "2", "-1"),), "The price of &#x27;Blue mug&#x27; must be zero or more."),
        ((("Blue mug", "two", "1"),), "must be a whole number"),
        ((("", "2", "5"),), "Every item needs a name."),
        ((("", "1", ""),), "Add at least one item"),
    ],
)
def test_bad_items_are_shown_on_their_line_and_nothing_is_saved(connected_shop, maria, rows, error):
    url = reverse("order_create", args=[maria.pk])

    panel = connected_shop.client.post(url, items_post(*rows, panel="1"), **HTMX)
    page = connected_shop.client.post(url, items_post(*rows))

    assert panel.status_code == 200 and error in text(panel)  # htmx swaps only a 200
    assert page.status_code == 400 and error in text(page)
    assert not connected_shop.tables.Order.objects.exists()


def test_too_long_notes_or_address_are_refused(connected_shop, maria):
    url = reverse("order_create", args=[maria.pk])
    response = connected_shop.client.post(
        url, items_post(("Mug", "1", "1"), notes="n" * 2001, shipping_address="a" * 501)
    )
    assert response.status_code == 400 and "Notes can be at most 2,000" in text(response)
    assert "shipping address can be at most 500" in text(response) and not connected_shop.tables.Order.objects.exists()


def test_without_javascript_lines_are_added_and_removed_by_a_round_trip_that_saves_nothing(connected_shop, maria):
    url = reverse("order_create", args=[maria.pk])

    added = text(connected_shop.client.post(url, items_post(("Blue mug", "2", "8"), add="1")))
    assert added.count("data-item-row") == 3  # two lines and the template of a new one
    assert 'name="item_name" value="Blue mug"' in added and "16.00" in added

    removed = text(connected_shop.client.post(url, items_post(("Blue mug", "2", "8"), ("Bowl", "1", "5"), remove="0")))
    assert 'name="item_name" value="Blue mug"' not in removed and 'name="item_name" value="Bowl"' in removed
    assert not connected_shop.tables.Order.objects.exists()


def test_the_new_order_can_go_to_the_customer_with_confirm_and_change_buttons(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    url = reverse("order_create", args=[maria.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = connected_shop.client.post(
            url, items_post(("Blue mug", "2", "8"), send_summary="on", panel="1"), **HTMX
        )

    order = connected_shop.tables.Order.objects.get()
    assert "The summary is on its way to Maria Silva" in text(response)
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["type"] == "interactive" and f"Order #{order.pk}" in sent["interactive"]["body"]["text"]
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    assert "Summary sent to the customer to confirm." in page and 'aria-label="Reply buttons"' in page


def test_with_the_window_closed_the_summary_is_not_offered_and_not_sent(connected_shop, maria, fake_graph):
    connected_shop.tables.Message.objects.update(timestamp=timezone.now() - dt.timedelta(hours=30))
    url = reverse("order_create", args=[maria.pk])
    assert 'name="send_summary" disabled' in text(connected_shop.client.get(url))

    response = connected_shop.client.post(url, items_post(("Blue mug", "2", "8"), send_summary="on"), follow=True)

    assert "The summary was not sent: More than 24 hours have passed" in text(response)
    assert connected_shop.tables.Order.objects.count() == 1 and fake_graph.sent_messages() == []


def test_an_order_made_on_its_own_page_opens_the_order(connected_shop, maria):
    response = connected_shop.client.post(
        reverse("order_create", args=[maria.pk]),
        items_post(("Blue mug", "2", "8"), shipping_address=" Rua Augusta 500 "),
    )
    order = connected_shop.tables.Order.objects.get()
    assert response.status_code == 302 and response.url == reverse("order_detail", args=[order.pk])
    assert order.shipping_address == "Rua Augusta 500"


def test_item_suggestions_follow_what_is_typed(connected_shop, maria):
    an_order(connected_shop, maria, items=[LineItem("Blue mug", 1, Decimal("8")), LineItem("Bowl", 1, Decimal("5"))])
    body = text(connected_shop.client.get(reverse("order_item_suggestions"), {"item_name": "bl"}))
    assert 'value="Blue mug"' in body and "Bowl" not in body and body.strip().startswith("<datalist")


# The order page -------------------------------------------------------------------------------------------


def move(seller, order, to, **extra):
    return seller.client.post(reverse("order_change_status", args=[order.pk]), {"to": to, **extra})


@pytest.mark.parametrize("from_status, to_status", list(product(STATUSES, STATUSES)))
def test_every_move_through_the_page_is_allowed_or_refused_as_the_workflow_says(
    connected_shop, maria, from_status, to_status
):
    order = an_order(connected_shop, maria, from_status)

    response = move(connected_shop, order, to_status)

    order.refresh_from_db()
    if (from_status, to_status) in ALLOWED:
        assert response.status_code == 302 and order.status == to_status
        event = order.events.order_by("-id").first()
        assert (event.from_status, event.to_status, event.changed_by) == (
            from_status,
            to_status,
            connected_shop.user.pk,
        )
    else:
        assert response.status_code == 400 and order.status == from_status
        reason = workflow.refusal(order, to_status)
        assert reason.replace("'", "&#x27;") in text(response) and 'role="alert"' in text(response)
        assert order.events.count() == 1


@pytest.mark.parametrize("status", STATUSES)
def test_the_page_offers_only_the_allowed_moves(connected_shop, maria, status):
    order = an_order(connected_shop, maria, status)
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    buttons = re.findall(r'name="to" value="([a-z]+)"', page)
    assert buttons == workflow.allowed_next(order)


def test_moving_to_shipped_tells_the_customer_inside_the_window_as_text(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = an_order(connected_shop, maria, "processing")
    with django_capture_on_commit_callbacks(execute=True):
        response = move(connected_shop, order, "shipped", tell_customer="on")

    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["text"]["body"] == f"Hi Maria, your order #{order.pk} from Shop A is on its way."
    page = text(connected_shop.client.get(response.url))
    assert f"Order #{order.pk} is now shipped." in page
    assert "your order #" in page and "on its way" in page  # the message, with its tick, on the order page
    assert re.search(r'<span class="tick[^"]*" title="(Sent|Delivered)">', page)


def test_outside_the_window_the_chosen_template_tells_the_customer(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    connected_shop.tables.Message.objects.update(timestamp=timezone.now() - dt.timedelta(hours=25))
    definition = {
        "name": "order_update",
        "language": "en",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "components": [{"type": "BODY", "text": "Hi {{1}}, order {{2}} is now {{3}}."}],
    }
    template = MessageTemplate.objects.create(
        configuration=connected_shop.configuration, meta_id="9", synced_at=timezone.now(), **definition
    )
    StatusTemplate.objects.create(agent=connected_shop.agent, status="shipped", template=template)
    fake_graph.register_phone_number(PHONE_NUMBER_ID, business_account_id=BUSINESS_ACCOUNT_ID)
    fake_graph.set_templates(BUSINESS_ACCOUNT_ID, [{"id": "9", **definition}])
    order = an_order(connected_shop, maria, "processing")
    assert "only allows an approved template" in text(
        connected_shop.client.get(reverse("order_detail", args=[order.pk]))
    )

    with django_capture_on_commit_callbacks(execute=True):
        move(connected_shop, order, "shipped", tell_customer="on")

    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["type"] == "template" and sent["template"]["name"] == "order_update"
    assert [p["text"] for p in sent["template"]["components"][0]["parameters"]] == [
        "Maria Silva",
        str(order.pk),
        "shipped",
    ]


def test_outside_the_window_without_a_template_the_page_warns_and_the_history_says_so(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    connected_shop.tables.Message.objects.update(timestamp=timezone.now() - dt.timedelta(hours=25))
    order = an_order(connected_shop, maria, "processing")
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    assert "None is chosen for shipped, cancelled yet" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = move(connected_shop, order, "shipped", tell_customer="on")
    assert "Customer not told" in text(connected_shop.client.get(response.url))
    assert fake_graph.sent_messages() == []


def test_unticking_tell_the_customer_sends_nothing(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = an_order(connected_shop, maria, "processing")
    with django_capture_on_commit_callbacks(execute=True):
        move(connected_shop, order, "shipped")
    assert fake_graph.sent_messages() == [] and connected_shop.tables.Order.objects.get(pk=order.pk).status == "shipped"


def test_the_history_shows_who_when_from_and_to(connected_shop, maria):
    order = an_order(connected_shop, maria)
    for status in ("confirmed", "processing", "shipped"):
        move(connected_shop, order, status)

    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    rows = re.findall(
        r"<tr>\s*<td><time datetime=\"([^\"]+)\"[^>]*>[^<]+</time></td>\s*<td>([^<]+)</td>\s*<td>(.*?)</td>", page, re.S
    )
    assert [row[1] for row in rows] == [connected_shop.user.name] * 4
    moves = [re.findall(r'class="status status-([a-z]+)"', row[2]) for row in rows]
    assert moves == [["pending"], ["pending", "confirmed"], ["confirmed", "processing"], ["processing", "shipped"]]
    assert all(dt.datetime.fromisoformat(row[0]) for row in rows)


def test_a_paid_cancelled_order_can_be_refunded_from_the_page(connected_shop, maria):
    order = an_order(connected_shop, maria, "confirmed")
    move(connected_shop, order, "cancelled")
    assert 'value="refunded"' not in text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))

    paid = {"amount": str(order.total_amount), "method": "cash"}
    response = connected_shop.client.post(reverse("order_mark_paid", args=[order.pk]), paid, follow=True)
    assert f"Order #{order.pk} is paid" in text(response) and 'value="refunded"' in text(response)
    again = connected_shop.client.post(reverse("order_mark_paid", args=[order.pk]), paid)  # twice: refused
    assert again.status_code == 400 and "owes nothing" in text(again)
    assert order.events.filter(kind="paid").count() == 1
    assert move(connected_shop, order, "refunded").status_code == 302
    assert connected_shop.tables.Order.objects.get(pk=order.pk).status == "refunded"


def test_items_are_edited_while_the_order_is_editable(connected_shop, maria):
    order = an_order(connected_shop, maria, "confirmed", items=[LineItem("Blue mug", 1, Decimal("8.00"))])
    url = reverse("order_edit", args=[order.pk])
    form = text(connected_shop.client.get(url))
    assert 'value="Blue mug"' in form and 'value="8.00"' in form

    response = connected_shop.client.post(
        url, items_post(("Blue mug", "3", "8.00"), ("Bowl", "1", "5.00"), total_amount="1.00", notes="Gift")
    )

    order.refresh_from_db()
    assert response.status_code == 302 and order.total_amount == Decimal("29.00") and order.notes == "Gift"
    assert connected_shop.client.post(url, items_post(("Blue mug", "0", "8"))).status_code == 400
    assert "Items edited" in text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))


def test_a_shipped_order_is_not_editable(connected_shop, maria):
    order = an_order(connected_shop, maria, "shipped")
    assert "Edit items" not in text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    response = connected_shop.client.get(reverse("order_edit", args=[order.pk]), follow=True)
    assert "A shipped order can no longer be edited." in text(response)
    connected_shop.client.post(reverse("order_edit", args=[order.pk]), items_post(("Mug", "9", "1")))
    assert order.items.get().quantity == 2


def test_without_javascript_the_edit_form_adds_and_removes_lines(connected_shop, maria):
    order = an_order(connected_shop, maria)
    url = reverse("order_edit", args=[order.pk])
    assert (
        text(connected_shop.client.post(url, items_post(("Blue mug", "2", "8"), add="1"))).count("data-item-row") == 3
    )
    assert 'name="item_name" value="Blue mug"' not in text(
        connected_shop.client.post(url, items_post(("Blue mug", "2", "8"), ("B", "1", "1"), remove="0"))
    )
    assert order.items.count() == 1


def test_the_summary_is_sent_from_the_order_page_once_per_form(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = an_order(connected_shop, maria)
    url = reverse("order_send_summary", args=[order.pk])
    with django_capture_on_commit_callbacks(execute=True):
        first = connected_shop.client.post(url, {"idempotency_key": "form-1"}, follow=True)
        connected_shop.client.post(url, {"idempotency_key": "form-1"})
    assert "The summary is on its way to Maria Silva" in text(first)
    assert len(fake_graph.sent_messages()) == 1

    shipped = an_order(connected_shop, maria, "shipped")
    response = connected_shop.client.post(
        reverse("order_send_summary", args=[shipped.pk]), {"idempotency_key": "x"}, follow=True
    )
    assert "The summary was not sent: This order is shipped" in text(response)


def test_the_messages_about_the_order_answer_204_until_something_changes(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = an_order(connected_shop, maria, "processing")
    url = reverse("order_messages", args=[order.pk])
    first = connected_shop.client.get(url)
    token = first.context["messages_token"]
    assert connected_shop.client.get(url, {"v": token}).status_code == 204

    with django_capture_on_commit_callbacks(execute=True):
        move(connected_shop, order, "shipped", tell_customer="on")

    changed = connected_shop.client.get(url, {"v": token})
    assert changed.status_code == 200 and "on its way" in text(changed)


def test_a_cart_draft_and_a_change_request_are_pointed_out(connected_shop, maria):
    order = an_order(connected_shop, maria)
    connected_shop.tables.Order.objects.filter(pk=order.pk).update(source="cart")
    history.record_event(
        connected_shop.tables,
        order,
        "pending",
        "pending",
        actor=None,
        kind="change_requested",
        actor_name="Maria Silva (customer, on WhatsApp)",
        note="The customer asked to change it.",
    )
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    assert "Draft from Maria Silva's WhatsApp cart." in page
    assert "Maria Silva asked to change this order" in page

    placing.update_order(
        connected_shop.agent, order, [LineItem("Blue mug", 3, Decimal("8"))], actor=connected_shop.user
    )
    assert "asked to change this order" not in text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))


def test_the_customer_page_links_to_new_and_existing_orders(connected_shop, maria):
    order = an_order(connected_shop, maria)
    page = text(connected_shop.client.get(reverse("customer_detail", args=[maria.pk])))
    assert f'href="{reverse("order_create", args=[maria.pk])}"' in page
    assert f'href="{reverse("order_detail", args=[order.pk])}"' in page
    assert f'href="{reverse("order_list")}?customer_id={maria.pk}"' in page


# Isolation ------------------------------------------------------------------------------------------------


def test_another_agents_order_or_customer_id_in_any_url_is_a_404(connected_shop, maria, agent_b):
    from agents import tables

    other = agent_b
    theirs = tables.for_agent(other)
    their_customers = [theirs.Customer.objects.create(name=f"Secret {n}", phone=f"+1415555099{n}") for n in range(3)]
    their_orders = [
        placing.create_order(other, their_customers[-1], [LineItem("Secret", 1, Decimal("1"))], actor=None)
        for _ in range(3)
    ]
    # Agent tables number their rows separately: this is #1 here, and theirs go to #3.
    mine = an_order(connected_shop, maria)
    assert mine.pk == their_orders[0].pk

    for order in their_orders[1:]:
        for name in ("order_detail", "order_edit", "order_messages"):
            assert connected_shop.client.get(reverse(name, args=[order.pk])).status_code == 404
        for name in ("order_change_status", "order_mark_paid", "order_send_summary"):
            assert connected_shop.client.post(reverse(name, args=[order.pk]), {"to": "confirmed"}).status_code == 404
    assert connected_shop.client.get(reverse("order_create", args=[their_customers[-1].pk])).status_code == 404
    assert (
        connected_shop.client.post(
            reverse("order_create", args=[their_customers[-1].pk]), items_post(("Mug", "1", "1"))
        ).status_code
        == 404
    )
    # The id both have opens this agent's own order, never theirs.
    page = text(connected_shop.client.get(reverse("order_detail", args=[mine.pk])))
    assert "Blue mug" in page and "Secret" not in page
    assert theirs.Order.objects.filter(status="pending").count() == 3


def test_the_panel_names_a_customer_known_only_by_their_number_the_customer(connected_shop, maria):
    connected_shop.tables.Customer.objects.filter(pk=maria.pk).update(name=maria.phone)
    panel = text(connected_shop.client.get(reverse("order_create", args=[maria.pk]), {"panel": "1"}, **HTMX))
    assert "Send the customer the summary to confirm on WhatsApp" in panel
