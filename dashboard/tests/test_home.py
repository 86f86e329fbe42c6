"""Home: unread conversations, messages today, open orders, revenue this month, each linking to its list."""

import datetime as dt
import re
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from agents import conversations
from agents.tests.factories import customer, message


def figure(body, label):
    return re.search(r'class="value">([^<]+)</span>\s*<span class="label">' + label, body).group(1)


def test_home_counts_what_needs_attention_and_links_each_figure_to_its_list(seller):
    t = seller.tables
    now = timezone.now()
    ana, bo, cy = customer(t, "Ana"), customer(t, "Bo"), customer(t, "Cy")
    message(t, ana, "today 1", at=now)
    message(t, ana, "today 2", at=now - dt.timedelta(seconds=5))
    message(t, bo, "last week", at=now - dt.timedelta(days=7))
    message(t, cy, "read today", at=now - dt.timedelta(seconds=9))
    conversations.mark_conversation_read(t, cy)
    t.Order.objects.create(customer=ana, total_amount=Decimal("40.00"), status="confirmed")
    t.Order.objects.create(customer=ana, total_amount=Decimal("10.00"), status="shipped")
    t.Order.objects.create(customer=bo, total_amount=Decimal("99.00"), status="pending")
    t.Order.objects.create(customer=bo, total_amount=Decimal("7.00"), status="delivered")
    t.Order.objects.create(customer=bo, total_amount=Decimal("500.00"), status="cancelled")
    old = t.Order.objects.create(customer=bo, total_amount=Decimal("1000.00"), status="delivered")
    t.Order.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=62))

    body = seller.client.get(reverse("home")).content.decode()

    assert figure(body, "Unread conversations") == "2"
    assert figure(body, "Messages today") == "3"
    assert figure(body, "Open orders") == "3"
    assert figure(body, "Revenue this month") == "$57.00"
    for link in ("/inbox/?show=unread", "/inbox/?show=today", "/orders/?status=open", "/orders/?period=month"):
        assert f'href="{link}"' in body
    assert "Waiting for you" in body and "today 1" in body


def test_waiting_for_you_lists_the_customers_who_need_a_reply_not_those_answered(seller):
    t = seller.tables
    now = timezone.now()
    ana, bo = customer(t, "Ana"), customer(t, "Bo")
    message(t, ana, "Is it in stock?", at=now - dt.timedelta(minutes=5))
    message(t, bo, "Is it in blue?", at=now - dt.timedelta(minutes=4))
    message(t, bo, "Yes, it is", direction="outbound", at=now - dt.timedelta(minutes=3))
    conversations.mark_conversation_read(t, ana)

    body = seller.client.get(reverse("home")).content.decode()
    waiting = body[body.index("Waiting for you") :]
    assert "Is it in stock?" in waiting and "Yes, it is" not in waiting
    assert 'href="/inbox/?show=needs_reply"' in waiting


def test_today_is_the_viewers_day(seller):
    t = seller.tables
    now = timezone.now()
    # Far east of UTC, "today" starts up to 14 hours before UTC midnight, and the other way round.
    early = now.astimezone(dt.timezone(dt.timedelta(hours=14))).replace(hour=0, minute=30)
    message(t, customer(t, "Early"), "just after midnight in Kiritimati", at=early)

    seller.client.cookies["tz"] = "Pacific/Kiritimati"
    east = figure(seller.client.get(reverse("home")).content.decode(), "Message")
    seller.client.cookies["tz"] = "Pacific/Pago_Pago"
    west = figure(seller.client.get(reverse("home")).content.decode(), "Message")
    assert east == "1"
    assert west == (
        "1"
        if early.astimezone(dt.timezone(dt.timedelta(hours=-11))).date()
        == now.astimezone(dt.timezone(dt.timedelta(hours=-11))).date()
        else "0"
    )


def test_an_empty_home_says_all_is_caught_up(seller):
    body = seller.client.get(reverse("home")).content.decode()
    assert "You're all caught up." in body and figure(body, "Revenue this month") == "$0.00"
