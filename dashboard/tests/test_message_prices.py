"""The seller's WhatsApp price table, and what messages cost on the order, customer and reports pages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from whatsapp.models import MessagePrice

pytestmark = pytest.mark.django_db


def billable(t, customer, category="marketing", at=None, n=1):
    for k in range(n):
        t.Message.objects.create(
            customer=customer,
            message="Sale!",
            direction="outbound",
            status="delivered",
            wamid=f"wamid.{category}.{customer.pk}.{k}.{at}",
            timestamp=at or timezone.now(),
            pricing_category=category,
            pricing_type="regular",
            pricing_billable=True,
            pricing_model="PMP",
        )


def test_the_seller_sets_replaces_and_deletes_prices(seller, client):
    url = reverse("message_prices")
    response = client.post(
        url, {"category": "marketing", "country_prefix": "+55", "price": "0.0625", "currency": "usd"}
    )
    assert response.status_code == 302
    client.post(url, {"category": "marketing", "country_prefix": "55", "price": "0.07", "currency": "USD"})
    price = MessagePrice.objects.get()
    assert (price.country_prefix, price.price, price.currency) == ("55", Decimal("0.0700"), "USD")
    page = client.get(url).content.decode()
    assert "+55" in page and "0.0700 USD" in page

    client.post(reverse("message_price_delete", args=[price.pk]))
    assert not MessagePrice.objects.exists()


@pytest.mark.parametrize(
    "data, sentence",
    [
        ({"category": "marketing", "country_prefix": "BR", "price": "1", "currency": "USD"}, "1 to 4 digits"),
        ({"category": "marketing", "country_prefix": "", "price": "-1", "currency": "USD"}, "greater than or equal"),
        ({"category": "gold", "country_prefix": "", "price": "1", "currency": "USD"}, "Select a valid choice"),
        ({"category": "utility", "country_prefix": "", "price": "1", "currency": "dollars"}, "three-letter code"),
    ],
)
def test_a_bad_price_is_refused_with_a_sentence(seller, client, data, sentence):
    response = client.post(reverse("message_prices"), data)
    assert response.status_code == 400 and sentence in response.content.decode()
    assert not MessagePrice.objects.exists()


def test_order_customer_and_reports_pages_show_what_messages_cost(seller, client, maria):
    t = seller.tables
    MessagePrice.objects.create(agent=seller.agent, category="marketing", country_prefix="55", price="0.0625")
    order = t.Order.objects.create(customer=maria, created_at=timezone.now() - dt.timedelta(hours=1))
    billable(t, maria, n=2)
    billable(t, maria, "utility")

    order_page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "3</strong> billable messages" in order_page and "0.13 USD" in order_page
    assert "1 of them has no price" in order_page
    customer_page = client.get(reverse("customer_detail", args=[maria.pk])).content.decode()
    assert "3</strong> billable messages" in customer_page
    reports_page = client.get(reverse("reports")).content.decode()
    assert "What WhatsApp charged, by month" in reports_page and "2 marketing, 1 utility" in reports_page
