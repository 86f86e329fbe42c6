"""Orders are written with their items, and their totals are computed on the server."""

from decimal import Decimal

import pytest

from agents import tables
from orders import placing
from orders.placing import LineItem, OrderError, clean_line_item


def test_an_order_is_created_with_its_items_and_the_sum_of_their_totals(agent_a, maria):
    agent, customer = agent_a, maria
    order = placing.create_order(
        agent,
        customer,
        [LineItem("Blue mug", 4, Decimal("8.00")), LineItem("Gift wrap", 1, Decimal("1.50"))],
        actor=agent.user,
        notes=" Leave at the door ",
        shipping_address="Rua Augusta 500",
    )
    order.refresh_from_db()
    assert order.status == "pending" and order.total_amount == Decimal("33.50")
    assert order.notes == "Leave at the door" and order.shipping_address == "Rua Augusta 500"
    assert [(i.name, i.quantity, i.price, i.total) for i in order.items.order_by("id")] == [
        ("Blue mug", 4, Decimal("8.00"), Decimal("32.00")),
        ("Gift wrap", 1, Decimal("1.50"), Decimal("1.50")),
    ]
    event = order.events.get()
    assert (event.from_status, event.to_status, event.changed_by) == (None, "pending", agent.user.pk)


@pytest.mark.parametrize(
    "raw, message",
    [
        (("", 1, "1"), "needs a name"),
        (("Mug", 0, "1"), "at least 1"),
        (("Mug", -3, "1"), "at least 1"),
        (("Mug", "two", "1"), "whole number"),
        (("Mug", 1, "-0.01"), "zero or more"),
        (("Mug", 1, "abc"), "must be a number"),
        (("Mug", 1, "NaN"), "zero or more"),
        (("Mug", 1, "1.005"), "more than two decimals"),
        (("M" * 301, 1, "1"), "at most 300"),
    ],
)
def test_bad_items_are_refused_with_a_message(raw, message):
    with pytest.raises(OrderError, match=message):
        clean_line_item(*raw)


def test_an_order_without_items_is_refused_and_nothing_is_written(agent_a, maria):
    agent, t, customer = agent_a, tables.for_agent(agent_a), maria
    with pytest.raises(OrderError, match="at least one item"):
        placing.create_order(agent, customer, [], actor=None)
    assert not t.Order.objects.exists()


def test_editing_replaces_items_and_recomputes_the_total(agent_a, maria):
    agent, customer = agent_a, maria
    order = placing.create_order(agent, customer, [LineItem("Mug", 1, Decimal("8"))], actor=None)
    placing.update_order(
        agent, order, [LineItem("Mug", 2, Decimal("8")), LineItem("Bowl", 1, Decimal("5"))], actor=None
    )
    order.refresh_from_db()
    assert order.total_amount == Decimal("21.00") and order.items.count() == 2
    assert list(order.events.values_list("note", flat=True).order_by("id")) == ["Order created", "Items edited"]


def test_a_shipped_order_can_no_longer_be_edited(agent_a, maria):
    agent, t, customer = agent_a, tables.for_agent(agent_a), maria
    order = placing.create_order(agent, customer, [LineItem("Mug", 1, Decimal("8"))], actor=None)
    t.Order.objects.filter(pk=order.pk).update(status="shipped")
    with pytest.raises(OrderError, match="shipped order can no longer be edited"):
        placing.update_order(agent, order, [LineItem("Mug", 9, Decimal("8"))], actor=None)
    assert order.items.get().quantity == 1


def test_known_items_suggest_earlier_names_with_their_last_price(agent_a, maria):
    agent, customer = agent_a, maria
    placing.create_order(agent, customer, [LineItem("Blue mug", 1, Decimal("8"))], actor=None)
    placing.create_order(
        agent, customer, [LineItem("Blue mug", 1, Decimal("9")), LineItem("Bowl", 1, Decimal("5"))], actor=None
    )
    assert placing.known_items(agent, "b") == [("Bowl", Decimal("5.00")), ("Blue mug", Decimal("9.00"))]
    assert placing.known_items(agent, "blue") == [("Blue mug", Decimal("9.00"))]
