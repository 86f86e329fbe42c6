""" "Make an order from this": a customer's message opens the new-order page filled with what it asks for;
nothing is created until the seller presses Create order."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from crm.tests.fixtures import add_inbound
from orders import placing
from orders.placing import LineItem


@pytest.fixture
def shop_with_history(seller, maria):
    """Agent A sold a blue vase, a red vase and gift wrap before: the items a message is read against."""
    placing.create_order(
        seller.agent,
        maria,
        [
            LineItem("Blue vase", 1, Decimal("25.00"), "VASE-BLU"),
            LineItem("Red vase", 1, Decimal("22.00")),
            LineItem("Gift wrap", 1, Decimal("3.00")),
        ],
        actor=seller.user,
    )
    return seller


def page(client, message):
    return client.get(reverse("order_from_message", args=[message.pk]))


def rows(html):
    """(name, quantity, price) of each item line of the order form (not of the blank line's template)."""
    html = html.split("<template data-item-template>")[0]
    names = re.findall(r'name="item_name" value="([^"]*)"', html)
    quantities = re.findall(r'name="item_quantity" value="([^"]*)"', html)
    prices = re.findall(r'name="item_price" value="([^"]*)"', html)
    return list(zip(names, quantities, prices, strict=True))


def test_a_message_fills_the_order_form_with_the_items_it_asks_for(shop_with_history, maria):
    seller = shop_with_history
    message = add_inbound(seller.tables, maria, text="Hi! 2 blue vases and a gift wrap pls, and 3 candles 🙏")
    orders_before = seller.tables.Order.objects.count()
    response = page(seller.client, message)
    html = response.content.decode()
    assert response.status_code == 200
    assert rows(html) == [("Blue vase", "2", "25.00"), ("Gift wrap", "1", "3.00"), ("Candles", "3", "")]
    assert 'name="item_product" value="VASE-BLU"' in html
    # The message is quoted, and the form posts to the customer's new-order URL, where Create order creates it.
    assert "Hi! 2 blue vases and a gift wrap pls" in html
    assert f'action="{reverse("order_create", args=[maria.pk])}"' in html
    assert seller.tables.Order.objects.count() == orders_before


def test_an_unmatched_phrase_is_offered_its_close_candidates_or_kept_as_typed(shop_with_history, maria):
    seller = shop_with_history
    message = add_inbound(seller.tables, maria, text="vase x2, wrap")
    html = page(seller.client, message).content.decode()
    assert rows(html) == [("Vase", "2", ""), ("Gift wrap", "1", "3.00")]
    assert '<label for="pick-0"><q>vase x2</q> is</label>' in html
    select = re.search(r'<select id="pick-0".*?</select>', html, re.S).group(0)
    kept, *picks = re.findall(r'data-name="([^"]*)"', select)
    assert kept == "Vase" and sorted(picks) == ["Blue vase", "Red vase"]
    assert 'data-price="25.00" data-product="VASE-BLU"' in select
    assert "Kept as typed: Vase" in select
    assert 'data-unmatched="0"' in html


def test_creating_the_order_from_the_filled_form_is_the_sellers_step(shop_with_history, maria):
    seller = shop_with_history
    message = add_inbound(seller.tables, maria, text="2 blue vases and a gift wrap")
    html = page(seller.client, message).content.decode()
    response = seller.client.post(
        reverse("order_create", args=[maria.pk]),
        {
            "item_name": [name for name, _, _ in rows(html)],
            "item_quantity": [quantity for _, quantity, _ in rows(html)],
            "item_price": [price for _, _, price in rows(html)],
        },
    )
    order = seller.tables.Order.objects.latest("id")
    assert response.status_code == 302 and response.url == reverse("order_detail", args=[order.pk])
    assert order.total_amount == Decimal("53.00")


def test_a_photo_caption_is_read_too(shop_with_history, maria):
    seller = shop_with_history
    message = seller.tables.Message.objects.create(
        customer=maria,
        direction="inbound",
        wa_type="image",
        media_type="image",
        message="image",
        caption="this one in red please, 2 red vases",
        payload={"type": "image", "image": {"id": "1", "caption": "this one in red please, 2 red vases"}},
    )
    assert rows(page(seller.client, message).content.decode())[0] == ("Red vase", "2", "22.00")


def test_the_conversation_offers_it_on_what_the_customer_wrote_only(shop_with_history, maria):
    seller = shop_with_history
    inbound = add_inbound(seller.tables, maria, text="2 blue vases")
    outbound = seller.tables.Message.objects.create(
        customer=maria, direction="outbound", message="Sure!", status="sent"
    )
    html = seller.client.get(reverse("conversation", args=[maria.pk])).content.decode()
    assert f'href="{reverse("order_from_message", args=[inbound.pk])}">Make an order from this</a>' in html
    assert reverse("order_from_message", args=[outbound.pk]) not in html


def test_a_message_of_ours_has_nothing_to_read(shop_with_history, maria):
    seller = shop_with_history
    outbound = seller.tables.Message.objects.create(customer=maria, direction="outbound", message="2 vases?")
    response = page(seller.client, outbound)
    assert response.status_code == 400
    assert "only what a customer wrote can be read" in response.content.decode()


def test_a_location_has_no_words_to_read(shop_with_history, maria):
    seller = shop_with_history
    location = seller.tables.Message.objects.create(
        customer=maria,
        direction="inbound",
        wa_type="location",
        message="Location",
        payload={"type": "location", "location": {"latitude": 38.7, "longitude": -9.1, "name": "2 blue vases"}},
    )
    assert page(seller.client, location).status_code == 400
    html = seller.client.get(reverse("conversation", args=[maria.pk])).content.decode()
    assert reverse("order_from_message", args=[location.pk]) not in html


def test_another_agents_message_is_not_found(seller, seller_b):
    customer_b = seller_b.tables.Customer.objects.create(name="Bea", phone="+15559990003")
    message_b = add_inbound(seller_b.tables, customer_b, text="B-SECRET 2 vases")
    # Agent A has messages too, so ids overlap only by chance: ask for B's highest.
    response = page(seller.client, message_b)
    assert response.status_code == 404
    assert "B-SECRET" not in response.content.decode()


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "1" + "0" * 30, "²", "12 "])
def test_a_damaged_message_id_gets_a_sentence(seller, bad):
    response = seller.client.get(f"/messages/{bad}/order/")
    assert response.status_code == 400
    assert "This link names no message" in response.content.decode()


def test_only_reading_is_done_here(shop_with_history, maria):
    message = add_inbound(shop_with_history.tables, maria, text="2 blue vases")
    assert shop_with_history.client.post(reverse("order_from_message", args=[message.pk])).status_code == 405


def test_the_address_comes_from_the_customers_last_order_as_on_any_new_order(shop_with_history, maria):
    seller = shop_with_history
    placing.create_order(
        seller.agent, maria, [LineItem("Gift wrap", 1, Decimal("3.00"))], actor=None, shipping_address="Rua Augusta 500"
    )
    message = add_inbound(seller.tables, maria, text="2 blue vases")
    html = page(seller.client, message).content.decode()
    assert re.search(r'name="shipping_address"[^>]*>Rua Augusta 500</textarea>', html)
