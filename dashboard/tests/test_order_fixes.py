"""What a new user ran into, each fixed: limits said rather than texts cut, a total shown while a row is
unfinished, the customer told only of orders they know, a new order's address, home's figures named."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.tests.fixtures import add_inbound
from orders import placing
from orders.forms import OrderForm
from orders.placing import LineItem, OrderError, clean_line_item


def text(response):
    return response.content.decode()


def test_a_quantity_past_the_limit_says_the_limit():
    with pytest.raises(OrderError, match="The quantity of 'Mug' must be at most 1,000,000."):
        clean_line_item("Mug", "1000000000", "1")


def test_the_order_page_refuses_a_too_long_quantity_and_item_name_with_their_limits(seller, maria):
    name = "Linen " * 833 + "ab"  # 5,000 characters
    response = seller.client.post(
        reverse("order_create", args=[maria.pk]),
        {"item_name": [name, "Mug"], "item_quantity": ["1", "1000000000"], "item_price": ["1", "2"]},
    )
    body = text(response)
    assert response.status_code == 400 and not seller.tables.Order.objects.exists()
    assert "Item names are at most 300 characters (this one has 5,000)." in body
    assert "The quantity of &#x27;Mug&#x27; must be at most 1,000,000." in body
    assert f'value="{name}"' in body  # kept whole for the seller to shorten, never cut
    assert 'maxlength="300"' not in body


def test_a_too_long_customer_name_is_refused_with_the_limit_never_cut(seller, maria):
    name = "Maria " * 333 + "Sa"  # 2,000 characters
    for url, data in (
        (reverse("customer_add"), {"name": name, "phone": "+14155550100"}),
        (reverse("customer_details", args=[maria.pk]), {"name": name}),
    ):
        response = seller.client.post(url, data)
        body = text(response)
        assert response.status_code == 400
        assert "The name can be at most 200 characters (this one has 2,000)." in body
        assert 'maxlength="200"' not in body
    maria.refresh_from_db()
    assert maria.name == "Maria Silva" and seller.tables.Customer.objects.count() == 1


def test_the_running_total_adds_the_complete_rows_while_one_is_unfinished():
    from django.http import QueryDict

    data = QueryDict(mutable=True)
    data.setlist("item_name", ["Mug", "Vase", ""])
    data.setlist("item_quantity", ["2", "1", "1"])
    data.setlist("item_price", ["8.00", "", "3"])
    data.update({"delivery_fee": "2.50", "discount_type": "percent", "discount_value": "50"})
    # Mug: 16.00, Vase unfinished, the third row has no name yet but its price makes a line (3.00):
    # 19.00 less half (9.50), plus 2.50 of delivery.
    assert OrderForm(data).estimated_total == Decimal("12.00")


def test_the_customers_details_are_kept_and_a_new_order_goes_to_their_address(seller, maria):
    response = seller.client.post(
        reverse("customer_details", args=[maria.pk]),
        {"name": "Maria Silva", "email": "maria@example.com", "address": "Rua Augusta 500", "notes": "Likes blue"},
    )
    assert response.status_code == 302
    maria.refresh_from_db()
    assert (maria.email, maria.address, maria.notes) == ("maria@example.com", "Rua Augusta 500", "Likes blue")
    page = text(seller.client.get(reverse("customer_detail", args=[maria.pk])))
    assert "maria@example.com" in page and "Likes blue" in page and ">Saved address</label>" in page

    form = text(seller.client.get(reverse("order_create", args=[maria.pk])))
    assert ">Rua Augusta 500</textarea>" in form
    placing.create_order(
        seller.agent, maria, [LineItem("Mug", 1, Decimal("1"))], actor=None, shipping_address="Hotel Avenida, room 12"
    )
    form = text(seller.client.get(reverse("order_create", args=[maria.pk])))
    assert ">Hotel Avenida, room 12</textarea>" in form  # the last order's address comes first

    refused = seller.client.post(
        reverse("customer_details", args=[maria.pk]), {"name": "Maria", "email": "not an email"}
    )
    assert refused.status_code == 400 and "Enter an email address like name@example.com." in text(refused)


def test_tell_the_customer_is_ticked_only_once_they_have_heard_of_the_order(
    connected_shop, maria, django_capture_on_commit_callbacks
):
    order = placing.create_order(connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("5"))], actor=None)
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    assert '<input type="checkbox" id="tell-customer" name="tell_customer">' in page
    assert "Maria Silva has not heard of this order yet" in page

    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(reverse("order_send_summary", args=[order.pk]), {"idempotency_key": "k"})
    page = text(connected_shop.client.get(reverse("order_detail", args=[order.pk])))
    assert '<input type="checkbox" id="tell-customer" name="tell_customer" checked>' in page

    cart = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("5"))], actor=None, source="cart", currency="USD"
    )
    page = text(connected_shop.client.get(reverse("order_detail", args=[cart.pk])))
    assert 'name="tell_customer" checked>' in page  # they sent the cart


def test_home_names_its_figures_and_their_period(seller):
    t = seller.tables
    ana = t.Customer.objects.create(name="Ana Lima", phone="+5511900000001")
    add_inbound(t, ana, ago=dt.timedelta(minutes=30))
    sold = placing.create_order(seller.agent, ana, [LineItem("Vase", 1, Decimal("32.00"))], actor=None)
    placing.create_order(seller.agent, ana, [LineItem("Vase", 1, Decimal("18.00"))], actor=None)
    t.Order.objects.filter(pk=sold.pk).update(status="confirmed")

    body = text(seller.client.get(reverse("home")))
    assert "<dt>Orders</dt><dd>2 " in body and "<dt>Sales</dt><dd>1 " in body
    assert "<dt>Revenue</dt><dd>$32.00 " in body
    assert '<dt>Average sale</dt><dd>$32.00 <span class="help">revenue over 1 sale</span>' in body
    assert "<dt>Conversion this month</dt>" in body and "who wrote this month ordered" in body
    assert "<dt>First message to first order, this month</dt>" in body
    start = timezone.localdate().replace(day=1)
    assert f"This month, since {start:%B} {start.day}, {start.year}." in body
    assert "Reports</a> count over the last 30 days, 12 weeks or 12 months" in body
