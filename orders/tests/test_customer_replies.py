"""The customer answers on WhatsApp, through the real webhook: a cart becomes a draft order, a tap on the
summary's "Confirm" confirms the pending order (once, however often Meta delivers it), "Change" is noted."""

from decimal import Decimal

import pytest

from agents.shop import save_shop, shop_of
from audit.models import AuditEvent
from crm.tests.fixtures import MARIA_WA_ID as MARIA
from crm.tests.fixtures import PHONE_NUMBER_ID
from dashboard import rendering
from orders import notify, placing
from orders.placing import LineItem
from whatsapp.models import WebhookEvent
from whatsapp.tests.payloads import message


@pytest.fixture
def deliver(deliver_from_maria):
    return deliver_from_maria


def pending_order(shop, customer):
    return placing.create_order(shop.agent, customer, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=shop.user)


def sent_summary(shop, order, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        summary = notify.send_order_summary(shop.agent, order, sent_by=shop.user, idempotency_key=f"s-{order.pk}")
    summary.refresh_from_db()
    return summary


def tap(summary, button_id, title, wamid="wamid.REPLY1"):
    return message(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
        wamid=wamid,
        from_=MARIA,
        context={"from": "15550100001", "id": summary.wamid},
    )


def test_the_summary_lists_the_order_under_confirm_and_change_buttons(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = placing.create_order(
        connected_shop.agent,
        maria,
        [LineItem("Blue mug", 2, Decimal("8.00")), LineItem("Gift wrap", 1, Decimal("1.50"))],
        actor=connected_shop.user,
        shipping_address="Rua Augusta 500\nSão Paulo",
    )
    summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["interactive"]["body"]["text"] == (
        f"Order #{order.pk} from Shop A for Maria Silva\n2 × Blue mug: $16.00\n1 × Gift wrap: $1.50\nTotal: $17.50\n"
        "Deliver to: Rua Augusta 500 São Paulo\nTap Confirm if it is right, or Change to tell us what to change."
    )
    assert [b["reply"] for b in sent["interactive"]["action"]["buttons"]] == [
        {"id": f"order-{order.pk}-confirm", "title": "Confirm"},
        {"id": f"order-{order.pk}-change", "title": "Change"},
    ]
    event = order.events.get(kind="summary_sent")
    assert (event.message_id, event.changed_by) == (summary.pk, connected_shop.user.pk)


def test_the_same_summary_request_twice_sends_one_message(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order = pending_order(connected_shop, maria)
    first = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    second = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    assert first.pk == second.pk and len(fake_graph.sent_messages()) == 1
    assert order.events.filter(kind="summary_sent").count() == 1


def test_a_summary_is_only_for_a_pending_order(connected_shop, maria):
    order = pending_order(connected_shop, maria)
    connected_shop.tables.Order.objects.filter(pk=order.pk).update(status="shipped")
    order.refresh_from_db()
    with pytest.raises(placing.OrderError, match="This order is shipped"):
        notify.send_order_summary(connected_shop.agent, order, sent_by=connected_shop.user, idempotency_key="k")


def test_a_long_order_summary_lists_the_first_items_and_counts_the_rest(connected_shop, maria):
    order = placing.create_order(
        connected_shop.agent, maria, [LineItem(f"Item {n} " + "x" * 70, 1, Decimal("1")) for n in range(15)], actor=None
    )
    text = notify.summary_text(order, maria, list(order.items.order_by("id")), shop_of(connected_shop.agent))
    assert "…and 3 more items" in text and len(text) <= 1024 and "Item 11" in text and "Item 12" not in text


def test_confirm_moves_the_pending_order_to_confirmed_once_and_tells_the_customer(
    connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks
):
    order = pending_order(connected_shop, maria)
    summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)

    deliver(tap(summary, f"order-{order.pk}-confirm", "Confirm"))
    deliver(tap(summary, f"order-{order.pk}-confirm", "Confirm"))  # Meta delivers it again

    order.refresh_from_db()
    assert order.status == "confirmed"
    [event] = order.events.filter(kind="customer_confirmed")
    assert (event.from_status, event.to_status, event.changed_by) == ("pending", "confirmed", None)
    assert event.changed_by_name == "Maria Silva (customer, on WhatsApp)"
    assert event.source_wamid == "wamid.REPLY1"
    [audited] = AuditEvent.objects.filter(action="order.status_changed")
    assert audited.actor is None and audited.details["by"] == "Maria Silva (customer, on WhatsApp)"
    # The customer hears back once: the order is confirmed.
    texts = [m["text"]["body"] for m in fake_graph.sent_messages() if m["type"] == "text"]
    assert texts == [f"Hi Maria, your order #{order.pk} from Shop A is confirmed. Total: $16.00."]
    assert connected_shop.tables.Message.objects.get(pk=event.message_id).wa_type == "text"
    assert WebhookEvent.objects.order_by("-id").first().summary == "1 already stored"


def test_change_is_noted_for_the_agent(connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks):
    order = pending_order(connected_shop, maria)
    summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)

    deliver(tap(summary, f"order-{order.pk}-change", "Change"))

    order.refresh_from_db()
    assert order.status == "pending"
    event = order.events.get(kind="change_requested")
    assert event.note == "The customer asked to change the order (tapped Change on WhatsApp)."
    assert (event.from_status, event.to_status) == ("pending", "pending")
    assert connected_shop.tables.Message.objects.get(wamid="wamid.REPLY1").message == "Button reply: Change"


@pytest.mark.parametrize(
    "status, answer",
    [
        (
            "cancelled",
            "it was cancelled, so there is nothing to confirm. Write to us if you would like to order again.",
        ),
        ("delivered", "it was already delivered. Nothing more to confirm: thank you!"),
    ],
)
def test_confirm_on_an_order_that_moved_on_changes_nothing_and_tells_the_customer_its_state(
    connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks, status, answer
):
    order = pending_order(connected_shop, maria)
    summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    connected_shop.tables.Order.objects.filter(pk=order.pk).update(status=status)

    deliver(tap(summary, f"order-{order.pk}-confirm", "Confirm"))
    deliver(tap(summary, f"order-{order.pk}-confirm", "Confirm"))  # delivered twice: answered once

    order.refresh_from_db()
    assert order.status == status
    event = order.events.get(kind="customer_reply")
    assert event.note == f"The customer tapped Confirm, but the order is already {status}: they were told so."
    texts = [m["text"]["body"] for m in fake_graph.sent_messages() if m["type"] == "text"]
    assert texts == [f"Hi Maria, thank you for confirming your order #{order.pk} from Shop A: {answer}"]
    assert connected_shop.tables.Message.objects.get(pk=event.message_id).direction == "outbound"


def test_a_button_naming_someone_elses_order_changes_nothing(
    connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks
):
    other = connected_shop.tables.Customer.objects.create(name="John", phone="+14155550123")
    order = pending_order(connected_shop, customer=other)
    summary = sent_summary(connected_shop, pending_order(connected_shop, maria), django_capture_on_commit_callbacks)

    deliver(
        tap(summary, f"order-{order.pk}-confirm", "Confirm"),
        tap(summary, "order-99999-confirm", "Confirm", wamid="wamid.REPLY2"),
    )

    order.refresh_from_db()
    assert order.status == "pending" and order.events.count() == 1
    assert connected_shop.tables.Message.objects.filter(wamid__in=["wamid.REPLY1", "wamid.REPLY2"]).count() == 2


def test_other_button_replies_are_ordinary_messages(connected_shop, maria, deliver):
    deliver(
        message(
            "interactive",
            {"type": "button_reply", "button_reply": {"id": "talk-to-us", "title": "Talk"}},
            wamid="wamid.REPLY3",
            from_=MARIA,
        )
    )
    assert connected_shop.tables.Message.objects.get(wamid="wamid.REPLY3").message == "Button reply: Talk"
    assert not connected_shop.tables.OrderEvent.objects.exists()


def test_a_cart_sent_on_whatsapp_becomes_a_draft_order_once(connected_shop, maria, deliver):
    cart = message(
        "order",
        {
            "catalog_id": "1234",
            "text": "For my sister",
            "product_items": [
                {"product_retailer_id": "mug-blue", "quantity": 2, "item_price": 8.5, "currency": "BRL"},
            ],
        },
        wamid="wamid.CART1",
        from_=MARIA,
    )

    deliver(cart)
    deliver(cart)

    order = connected_shop.tables.Order.objects.get()
    assert (order.customer_id, order.status, order.source, order.total_amount) == (
        maria.pk,
        "pending",
        "cart",
        Decimal("17.00"),
    )
    assert order.source_wamid == "wamid.CART1" and "For my sister" in order.notes
    assert [(i.name, i.quantity, i.price) for i in order.items.all()] == [("Product mug-blue", 2, Decimal("8.50"))]


def test_a_cart_reads_the_same_in_the_inbox_on_the_page_and_in_its_draft_order(connected_shop, maria, deliver):
    """Lines that do not say a whole number of a product are left out everywhere, never truncated."""
    cart = message(
        "order",
        {
            "product_items": [
                {"product_retailer_id": "mug-blue", "quantity": "2", "item_price": "8.50", "currency": "BRL"},
                {"product_retailer_id": "half-mug", "quantity": 2.5, "item_price": 4, "currency": "BRL"},
                {"product_retailer_id": "yes-mug", "quantity": True, "item_price": 4, "currency": "BRL"},
            ],
        },
        wamid="wamid.CART2",
        from_=MARIA,
    )

    deliver(cart)

    stored = connected_shop.tables.Message.objects.get(wamid="wamid.CART2")
    assert stored.message == "Order: 2 × mug-blue at R$8.50. Total R$17.00"
    shown = rendering.describe(stored).cart
    assert [(line.product_retailer_id, line.quantity) for line in shown.lines] == [("mug-blue", 2)]
    assert (shown.total, shown.currency) == (Decimal("17.00"), "BRL")
    order = connected_shop.tables.Order.objects.get()
    assert [(i.product_retailer_id, i.quantity) for i in order.items.all()] == [("mug-blue", 2)]
    assert (order.total_amount, order.currency) == (Decimal("17.00"), "BRL")


def test_a_cart_is_written_the_receiving_shops_way(connected_shop, maria, deliver):
    save_shop(connected_shop.agent, name="Lisbon Linen", currency="EUR", locale="de_DE", time_zone="", actor=None)
    item = {"product_retailer_id": "mug-blue", "quantity": "2", "item_price": "8.50", "currency": "EUR"}
    deliver(message("order", {"product_items": [item]}, wamid="wamid.CART3", from_=MARIA))

    stored = connected_shop.tables.Message.objects.get(wamid="wamid.CART3")
    assert stored.message == "Order: 2 × mug-blue at 8,50\xa0€. Total 17,00\xa0€"


def test_a_reply_whose_order_step_fails_is_kept_and_said_so(
    connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks
):
    from django.db import connection

    order = pending_order(connected_shop, maria)
    summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    events_table = connected_shop.tables.OrderEvent._meta.db_table
    with connection.cursor() as cursor:  # the order step breaks: its table is out of reach
        cursor.execute(f'ALTER TABLE "{events_table}" RENAME TO "{events_table}_away"')

    deliver(tap(summary, f"order-{order.pk}-confirm", "Confirm"))

    event = WebhookEvent.objects.order_by("-id").first()
    assert event.state == WebhookEvent.State.PROCESSED
    assert "reply wamid.REPLY1 did not reach its order (" in event.summary
    assert connected_shop.tables.Message.objects.filter(wamid="wamid.REPLY1").exists()  # the reply itself is kept
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE "{events_table}_away" RENAME TO "{events_table}"')
    assert connected_shop.tables.Order.objects.get(pk=order.pk).status == "pending"


def test_confirm_under_a_summary_older_than_the_last_edit_is_only_noted(
    connected_shop, maria, fake_graph, deliver, django_capture_on_commit_callbacks
):
    order = pending_order(connected_shop, maria)
    old_summary = sent_summary(connected_shop, order, django_capture_on_commit_callbacks)
    placing.update_order(
        connected_shop.agent, order, [LineItem("Blue mug", 5, Decimal("8.00"))], actor=connected_shop.user
    )

    deliver(tap(old_summary, f"order-{order.pk}-confirm", "Confirm"))

    order.refresh_from_db()
    assert order.status == "pending"
    assert "under an earlier summary, but the items changed since" in order.events.get(kind="customer_reply").note

    with django_capture_on_commit_callbacks(execute=True):
        new_summary = notify.send_order_summary(
            connected_shop.agent, order, sent_by=connected_shop.user, idempotency_key="new"
        )
    new_summary.refresh_from_db()
    deliver(tap(new_summary, f"order-{order.pk}-confirm", "Confirm", wamid="wamid.REPLY2"))
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_only_inbound_carts_and_replies_act_on_orders(connected_shop, maria):
    from orders.inbound import apply_inbound_message

    sent = connected_shop.tables.Message.objects.create(
        customer=maria,
        message="[Confirm]",
        direction="outbound",
        wa_type="interactive",
        payload={"type": "interactive"},
    )
    text = connected_shop.tables.Message.objects.get(wamid="wamid.from-maria")
    assert (
        apply_inbound_message(connected_shop.agent, sent) is None
        and apply_inbound_message(connected_shop.agent, text) is None
    )


def test_a_tap_without_its_context_confirms_the_order_as_it_stands(connected_shop, maria, fake_graph, deliver):
    order = pending_order(connected_shop, maria)
    reply = message(
        "interactive",
        {"type": "button_reply", "button_reply": {"id": f"order-{order.pk}-confirm", "title": "Confirm"}},
        wamid="wamid.REPLY9",
        from_=MARIA,
    )
    deliver(reply)
    order.refresh_from_db()
    assert order.status == "confirmed"
