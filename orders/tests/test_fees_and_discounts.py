"""A delivery fee and a discount on an order: stored within the contract's rules (the fee an item of kind
"fee", the discount a column), the total always the server's, never negative, and shown to the customer."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from agents import tables
from agents.shop import save_shop, shop_of
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import notify, placing
from orders.placing import Discount, LineItem, OrderError

HTMX = {"HTTP_HX_REQUEST": "true"}


def vases():
    return [LineItem("Blue vase", 2, Decimal("20.00")), LineItem("Gift wrap", 1, Decimal("10.00"))]


def test_the_fee_is_an_item_line_and_the_discount_comes_off_the_items_only(agent_a, maria):
    order = placing.create_order(
        agent_a,
        maria,
        [*vases(), placing.delivery_fee(Decimal("3.00"))],
        actor=None,
        discount=Discount("percent", Decimal("10")),
    )
    order.refresh_from_db()
    # 50.00 of items, 10 % off them (5.00), and 3.00 of delivery.
    assert order.total_amount == Decimal("48.00") and order.discount_amount == Decimal("5.00")
    assert (order.discount_type, order.discount_value) == ("percent", Decimal("10.00"))
    assert [(i.name, i.quantity, i.price, i.kind) for i in order.items.order_by("id")] == [
        ("Blue vase", 2, Decimal("20.00"), "item"),
        ("Gift wrap", 1, Decimal("10.00"), "item"),
        ("Delivery", 1, Decimal("3.00"), "fee"),
    ]


def test_a_percent_is_rounded_half_up_to_the_cent(agent_a, maria):
    order = placing.create_order(
        agent_a, maria, [LineItem("Pen", 1, Decimal("0.25"))], actor=None, discount=Discount("percent", Decimal("10"))
    )
    assert (order.discount_amount, order.total_amount) == (Decimal("0.03"), Decimal("0.22"))


@pytest.mark.parametrize(
    "discount, message",
    [
        (Discount("amount", Decimal("50.01")), "The discount is more than the items come to"),
        (Discount("percent", Decimal("100.5")), "more than the items come to"),
    ],
)
def test_a_discount_larger_than_the_items_is_refused_and_nothing_is_written(agent_a, maria, discount, message):
    with pytest.raises(OrderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        placing.create_order(
            agent_a, maria, [*vases(), placing.delivery_fee(Decimal("9"))], actor=None, discount=discount
        )
    assert not tables.for_agent(agent_a).Order.objects.exists()


def test_a_whole_discount_leaves_only_the_fee(agent_a, maria):
    order = placing.create_order(
        agent_a,
        maria,
        [*vases(), placing.delivery_fee(Decimal("4"))],
        actor=None,
        discount=Discount("amount", Decimal("50")),
    )
    assert order.total_amount == Decimal("4.00")


def test_an_order_of_only_a_fee_is_refused(agent_a, maria):
    with pytest.raises(OrderError, match="at least one item"):
        placing.create_order(agent_a, maria, [placing.delivery_fee(Decimal("4"))], actor=None)


def test_the_database_holds_the_rules_whatever_writes_to_it(agent_a, maria):
    order = placing.create_order(agent_a, maria, vases(), actor=None)
    Order, OrderItem = type(order), order.items.model
    for change in (
        {"discount_amount": Decimal("-1")},
        {"discount_type": "coupon"},
        {"discount_type": "percent", "discount_value": Decimal("101")},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            Order.objects.filter(pk=order.pk).update(**change)
    for row in ({"price": Decimal("-3")}, {"quantity": 0}, {"kind": "discount"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            OrderItem.objects.create(
                order=order, **{"name": "Delivery", "quantity": 1, "price": Decimal("3"), "kind": "fee", **row}
            )


def test_a_client_that_posts_its_own_total_and_discount_amount_changes_nothing(connected_shop, maria):
    forged = {
        "item_name": ["Blue vase", "Gift wrap"],
        "item_quantity": ["2", "1"],
        "item_price": ["20.00", "10.00"],
        "delivery_fee": "3.00",
        "discount_type": "percent",
        "discount_value": "10",
        "discount_amount": "49.99",
        "total_amount": "0.01",
        "total": "0.01",
        "item_kind": ["fee", "fee"],
    }
    response = connected_shop.client.post(reverse("order_create", args=[maria.pk]), forged)
    assert response.status_code == 302
    order = connected_shop.tables.Order.objects.get()
    assert (order.total_amount, order.discount_amount) == (Decimal("48.00"), Decimal("5.00"))
    assert [i.kind for i in order.items.order_by("id")] == ["item", "item", "fee"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"delivery_fee": "-2"}, "The delivery fee must be zero or more."),
        ({"delivery_fee": "three"}, "The delivery fee must be a number, like 3.50."),
        ({"delivery_fee": "1.005"}, "The delivery fee has more than two decimals."),
        ({"discount_type": "percent", "discount_value": "120"}, "A discount in percent is at most 100 %."),
        (
            {"discount_type": "amount", "discount_value": "60"},
            "The discount is more than the items come to: an order&#x27;s total cannot be below its fees.",
        ),
    ],
)
def test_a_wrong_fee_or_discount_is_refused_on_the_form_with_a_sentence(connected_shop, maria, fields, message):
    data = {"item_name": ["Blue vase"], "item_quantity": ["2"], "item_price": ["25.00"], **fields}
    response = connected_shop.client.post(reverse("order_create", args=[maria.pk]), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert not connected_shop.tables.Order.objects.exists()


def test_editing_an_order_keeps_its_fee_and_discount_until_changed(connected_shop, maria):
    order = placing.create_order(
        connected_shop.agent,
        maria,
        [*vases(), placing.delivery_fee(Decimal("3.00"))],
        actor=None,
        discount=Discount("amount", Decimal("5.00")),
    )
    url = reverse("order_edit", args=[order.pk])
    page = connected_shop.client.get(url).content.decode()
    assert 'name="delivery_fee" value="3.00"' in page and 'name="discount_value" value="5.00"' in page
    assert '<option value="amount" selected>' in page and page.count('name="item_name"') == 3  # 2 rows + template

    data = {
        "item_name": ["Blue vase", "Gift wrap"],
        "item_quantity": ["2", "1"],
        "item_price": ["20.00", "10.00"],
        "delivery_fee": "",
        "discount_type": "percent",
        "discount_value": "20",
    }
    assert connected_shop.client.post(url, data).status_code == 302
    order.refresh_from_db()
    assert (order.total_amount, order.discount_amount) == (Decimal("40.00"), Decimal("10.00"))
    assert not order.items.filter(kind="fee").exists()


def test_the_summary_and_the_order_page_show_items_discount_delivery_and_total(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    save_shop(connected_shop.agent, name="Lisbon Linen", currency="EUR", locale="de_DE", time_zone="", actor=None)
    order = placing.create_order(
        connected_shop.agent,
        maria,
        [*vases(), placing.delivery_fee(Decimal("3.00"))],
        actor=None,
        discount=Discount("percent", Decimal("10")),
    )
    with django_capture_on_commit_callbacks(execute=True):
        notify.send_order_summary(connected_shop.agent, order, sent_by=None, idempotency_key="summary")
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["interactive"]["body"]["text"] == (
        f"Order #{order.pk} from Lisbon Linen for Maria Silva\n"
        "2 × Blue vase: 40,00\xa0€\n1 × Gift wrap: 10,00\xa0€\n"
        "Items: 50,00\xa0€\nDiscount (10 %): −5,00\xa0€\nDelivery: 3,00\xa0€\nTotal: 48,00\xa0€\n"
        "Tap Confirm if it is right, or Change to tell us what to change."
    )
    page = connected_shop.client.get(reverse("order_detail", args=[order.pk])).content.decode()
    for row in (
        'Items</th><td class="num">50,00\xa0€',
        'Discount (10 %)</th><td class="num">−5,00\xa0€',
        'Delivery fee</th><td class="num">3,00\xa0€',
        "48,00\xa0€",
    ):
        assert row in page
    assert shop_of(connected_shop.agent).currency == "EUR"


def test_a_summary_with_long_names_lists_fewer_items_to_stay_within_1024_characters(connected_shop, maria):
    save_shop(connected_shop.agent, name="S" * 120, currency="EUR", locale="de_DE", time_zone="", actor=None)
    maria.name = "M" * 200
    order = placing.create_order(
        connected_shop.agent,
        maria,
        [LineItem(f"Item {n} " + "x" * 70, 1, Decimal("1")) for n in range(12)] + [placing.delivery_fee(Decimal("3"))],
        actor=None,
        shipping_address="A" * 500,
        discount=Discount("percent", Decimal("12.5")),
    )
    text = notify.summary_text(order, maria, list(order.items.order_by("id")), shop_of(connected_shop.agent))
    assert len(text) <= 1024 and "more items" in text and text.endswith("tell us what to change.")
    assert f"Total: 13,50{'\xa0'}€" in text


def test_a_cart_in_another_currency_is_edited_in_its_own(connected_shop, maria):
    save_shop(connected_shop.agent, name="Lisbon Linen", currency="EUR", locale="de_DE", time_zone="", actor=None)
    cart = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 2, Decimal("8.50"))], actor=None, source="cart", currency="BRL"
    )
    page = connected_shop.client.get(reverse("order_edit", args=[cart.pk])).content.decode()
    assert 'data-currency="BRL" data-locale="de_DE"' in page and "17,00\xa0R$" in page
