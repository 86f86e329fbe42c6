"""The shop settings page, and every amount and date written the shop's way: pages, CSV files, WhatsApp
messages; carts priced in another currency are flagged and kept out of revenue."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from agents.models import Shop
from agents.shop import save_shop
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import placing
from orders.placing import Discount, LineItem

NBSP = "\xa0"


def text(response):
    return response.content.decode()


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def set_shop(seller, currency, locale, time_zone="", name="Lisbon Linen"):
    save_shop(seller.agent, name=name, currency=currency, locale=locale, time_zone=time_zone, actor=None)


def test_the_seller_sets_the_shop_on_its_page_and_its_name_replaces_the_prefix(seller):
    page = text(seller.client.get(reverse("home")))
    assert f'<a href="{reverse("shop_settings")}">Shop settings</a>' in page

    form = text(seller.client.get(reverse("shop_settings")))
    for label in ("Shop name", "Currency", "Language and country", "Time zone"):
        assert f">{label}</label>" in form
    assert '<option value="EUR">EUR – Euro</option>' in form and "$1,234.50" in form

    response = seller.client.post(
        reverse("shop_settings"),
        {"name": "Lisbon Linen", "currency": "EUR", "locale": "de_DE", "time_zone": "Europe/Berlin"},
    )
    assert response.status_code == 302
    shop = Shop.objects.get(agent=seller.agent)
    assert (shop.currency, shop.locale, shop.time_zone) == ("EUR", "de_DE", "Europe/Berlin")
    page = text(seller.client.get(response.url))
    assert "The shop settings were saved." in page and f"1.234,50{NBSP}€" in page
    assert '<span class="current-agent" title="Current agent">Lisbon Linen</span>' in page
    assert "<title>Shop settings · Lisbon Linen</title>" in page and seller.agent.agent_prefix not in page


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("currency", "ABC", "Select a valid choice. ABC is not one of the available choices."),
        ("locale", "xx_YY", "Select a valid choice."),
        ("time_zone", "Moon/Base", "Select a valid choice."),
        ("name", "N" * 2000, "The shop&#x27;s name can be at most 120 characters (this one has 2,000)."),
    ],
)
def test_a_wrong_value_is_refused_with_a_sentence_and_nothing_is_saved(seller, field, value, message):
    data = {"name": "Lisbon Linen", "currency": "EUR", "locale": "de_DE", "time_zone": "", field: value}
    response = seller.client.post(reverse("shop_settings"), data)
    assert response.status_code == 400 and message in text(response)
    assert not Shop.objects.filter(agent=seller.agent).exists()


@pytest.fixture
def two_shops(seller, seller_b):
    """Agent A sells in EUR written the German way; agent B in USD written the American way."""
    set_shop(seller, "EUR", "de_DE", name="Lisbon Linen")
    set_shop(seller_b, "USD", "en_US", name="Boston Books")
    orders = []
    for shop in (seller, seller_b):
        customer = shop.tables.Customer.objects.create(name="Ana Lima", phone="+5511900000001")
        order = placing.create_order(
            shop.agent,
            customer,
            [LineItem("Vase", 2, Decimal("1000.00")), placing.delivery_fee(Decimal("7.50"))],
            actor=None,
            discount=Discount("amount", Decimal("20")),
        )
        shop.tables.Order.objects.filter(pk=order.pk).update(status="delivered")
        orders.append(order)
    return orders


def test_pages_write_every_amount_in_each_shops_currency_and_locale(seller, seller_b, two_shops):
    a_order, b_order = two_shops
    for shop, order, total in ((seller, a_order, f"1.987,50{NBSP}€"), (seller_b, b_order, "$1,987.50")):
        detail = text(shop.client.get(reverse("order_detail", args=[order.pk])))
        assert total in detail
        assert text(shop.client.get(reverse("order_list"))).count(total) >= 2  # the row and the totals
        assert total in text(shop.client.get(reverse("customer_detail", args=[order.customer_id]))).replace("\n", "")
        assert total in text(shop.client.get(reverse("reports")))
        assert total in text(shop.client.get(reverse("home")))
    assert "$" not in text(seller.client.get(reverse("order_detail", args=[a_order.pk]))).split("<main")[1]


def test_csv_files_keep_plain_numbers_with_the_currency_beside_them(seller, seller_b, two_shops):
    for shop, currency in ((seller, "EUR"), (seller_b, "USD")):
        header, row = csv_rows(shop.client.get(reverse("order_export")))
        assert row[header.index("total")] == "1987.50" and row[header.index("discount")] == "20.00"
        assert row[header.index("currency")] == currency
        header, *items = csv_rows(shop.client.get(reverse("order_items_export")))
        assert [
            (i[header.index("line_total")], i[header.index("currency")], i[header.index("kind")]) for i in items
        ] == [
            ("2000.00", currency, "item"),
            ("7.50", currency, "fee"),
        ]
        header, row = csv_rows(shop.client.get(reverse("customer_export")))
        assert (row[header.index("lifetime_value")], row[header.index("currency")]) == ("1987.50", currency)
        report = csv_rows(shop.client.get(reverse("report_export"), {"table": "items", "period": "month"}))
        assert report == [["item", "quantity", "revenue", "currency"], ["Vase", "2", "2000.00", currency]]


def test_whatsapp_messages_write_the_total_the_shops_way(
    connected_shop, seller_b, maria, fake_graph, django_capture_on_commit_callbacks
):
    set_shop(connected_shop, "EUR", "de_DE", name="Lisbon Linen")
    order = placing.create_order(connected_shop.agent, maria, [LineItem("Vase", 1, Decimal("1234.50"))], actor=None)
    with django_capture_on_commit_callbacks(execute=True):
        connected_shop.client.post(
            reverse("order_change_status", args=[order.pk]), {"to": "confirmed", "tell_customer": "on"}
        )
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert (
        sent["text"]["body"]
        == f"Hi Maria, your order #{order.pk} from Lisbon Linen is confirmed. Total: 1.234,50{NBSP}€."
    )


def test_a_cart_in_another_currency_is_flagged_and_kept_out_of_revenue(seller):
    set_shop(seller, "EUR", "de_DE")
    t = seller.tables
    ana = t.Customer.objects.create(name="Ana Lima", phone="+5511900000001")
    t.Message.objects.create(customer=ana, message="Hi", direction="inbound")
    mine = placing.create_order(seller.agent, ana, [LineItem("Vase", 1, Decimal("32.00"))], actor=None)
    cart = placing.create_order(
        seller.agent, ana, [LineItem("Mug", 1, Decimal("90.00"))], actor=None, source="cart", currency="USD"
    )
    t.Order.objects.filter(pk__in=[mine.pk, cart.pk]).update(status="confirmed")

    listing = text(seller.client.get(reverse("order_list")))
    assert f"90,00{NBSP}$" in listing and "USD, not in totals" in listing
    assert f'<span class="value">32,00{NBSP}€</span><span class="label">Revenue' in listing
    assert "1 of these orders is priced in another currency" in listing
    detail = text(seller.client.get(reverse("order_detail", args=[cart.pk])))
    assert "Priced in USD" in detail and "left out of revenue" in detail
    home = text(seller.client.get(reverse("home")))
    assert f"<dt>Revenue</dt><dd>32,00{NBSP}€" in home and f"1 sale of 90,00{NBSP}$" in home
    reports = text(seller.client.get(reverse("reports")))
    assert f'<span class="value">32,00{NBSP}€</span><span class="label">Revenue' in reports
    assert "Sales in USD" in reports and "not in the revenue" in reports


def test_dates_on_pages_are_the_shops_time_zone_and_locale(seller):
    set_shop(seller, "EUR", "de_DE", time_zone="Asia/Tokyo")
    ana = seller.tables.Customer.objects.create(name="Ana Lima", phone="+5511900000001")
    order = placing.create_order(seller.agent, ana, [LineItem("Vase", 1, Decimal("5"))], actor=None)
    seller.tables.Order.objects.filter(pk=order.pk).update(created_at=dt.datetime(2026, 3, 1, 22, 30, tzinfo=dt.UTC))
    seller.client.cookies["tz"] = "America/Los_Angeles"  # the viewer's own zone gives way to the shop's
    page = text(seller.client.get(reverse("order_detail", args=[order.pk])))
    assert "02.03.2026, 07:30" in page
    assert timezone.get_current_timezone_name() == "UTC"  # the request's zone did not leak out


def test_a_seller_sees_and_changes_only_their_own_shop(seller, seller_b):
    set_shop(seller_b, "USD", "en_US", name="Boston Books")
    page = text(seller.client.get(reverse("shop_settings")))
    assert "Boston Books" not in page and 'value="Shop A"' in page
    seller.client.post(
        reverse("shop_settings"), {"name": "Lisbon Linen", "currency": "EUR", "locale": "de_DE", "time_zone": ""}
    )
    assert dict(Shop.objects.values_list("agent__name", "currency")) == {"Lisbon Linen": "EUR", "Boston Books": "USD"}
    assert "$" in text(seller_b.client.get(reverse("shop_settings")))
