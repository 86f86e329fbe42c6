"""The orders list behind the home page's figures: open orders, this month's, the revenue of the set."""

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from .factories import customer


def order_ids(response):
    return [int(n) for n in re.findall(r"<td>#(\d+)</td>", response.content.decode())]


def test_filters_by_status_and_month_with_the_revenue_of_the_set(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    open_one = t.Order.objects.create(customer=ana, total_amount=Decimal("10.00"), status="shipped")
    done = t.Order.objects.create(customer=ana, total_amount=Decimal("20.00"), status="delivered")
    old = t.Order.objects.create(customer=ana, total_amount=Decimal("30.00"), status="processing")
    t.Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=70))

    assert sorted(order_ids(seller.client.get(reverse("order_list"), {"status": "open"}))) == [open_one.pk, old.pk]
    month = seller.client.get(reverse("order_list"), {"period": "month"})
    assert sorted(order_ids(month)) == [open_one.pk, done.pk]
    assert "<strong>30.00</strong>" in month.content.decode()
    assert order_ids(seller.client.get(reverse("order_list"), {"status": "delivered"})) == [done.pk]
    assert seller.client.get(reverse("order_list"), {"status": "lost"}).status_code == 400
    assert seller.client.get(reverse("order_list"), {"after": "nope"}).status_code == 400


def test_orders_page_by_creation_time(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    for _ in range(55):
        t.Order.objects.create(customer=ana, total_amount=Decimal("1.00"))
    first = seller.client.get(reverse("order_list"))
    assert len(order_ids(first)) == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    assert len(order_ids(seller.client.get(next_url))) == 5


def test_no_orders_yet(seller):
    assert "No orders here." in seller.client.get(reverse("order_list")).content.decode()
