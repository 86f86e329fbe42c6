"""The broadcast pages: choosing a template and filling its variables, counting the audience, sending, and
following, pausing and cancelling it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from agents import labels
from crm.tests.fixtures import PHONE_NUMBER_ID
from outreach import consent
from outreach.models import Broadcast
from outreach.tests.test_broadcasts import customers


@pytest.fixture
def shop(broadcast_shop):
    return broadcast_shop


def form(shop, **changes):
    return {
        "name": "Linen week",
        "template": shop.template.pk,
        "value_body.1": "{first_name}",
        "value_body.2": "20% off",
        "numbers": "",
        **changes,
    }


def test_a_shop_without_templates_is_told_where_they_come_from(connected_shop):
    page = connected_shop.client.get(reverse("broadcast_new")).content.decode()
    assert "has no approved template a broadcast can send yet" in page


def test_choosing_a_template_shows_its_variables(shop):
    client = shop.client
    assert "Use this template" in client.get(reverse("broadcast_new")).content.decode()
    page = client.get(reverse("broadcast_new"), {"template": shop.template.pk}).content.decode()
    assert "Body variable {{1}}" in page and "Body variable {{2}}" in page


def test_counting_the_audience_sends_nothing_and_says_who_is_left_out(shop, fake_graph):
    ana, bea, cid = customers(shop, 3)
    consent.change(shop.agent, bea.pk, opted_out=True, source="keyword", detail="STOP")

    response = shop.client.post(
        reverse("broadcast_new"), form(shop, preview="1", numbers="+15550000000\n+15550000001\n+447700900123")
    )

    page = response.content.decode()
    assert "1 customer will receive it" in page
    assert "1 left out: opted out of marketing" in page
    assert "Estimated cost (marketing messages" in page and "1 recipient the table has no price for" in page
    assert "1 number of your list is no customer: +447700900123" in page
    vip = labels.save_label(shop.agent, name="VIP", colour="blue")
    labels.add_label(shop.agent, shop.tables, vip, [cid.pk])
    page = shop.client.post(reverse("broadcast_new"), form(shop, preview="1", labels=[vip.pk])).content.decode()
    assert "1 customer will receive it" in page and "With any of these labels" in page
    assert not Broadcast.objects.exists() and fake_graph.sent_messages() == []


def test_sending_a_broadcast_and_following_it(shop, fake_graph, django_capture_on_commit_callbacks):
    customers(shop, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = shop.client.post(reverse("broadcast_new"), form(shop))

    broadcast = Broadcast.objects.get()
    assert response.status_code == 302 and response.url == reverse("broadcast_detail", args=[broadcast.pk])
    assert [s["to"] for s in fake_graph.sent_messages(PHONE_NUMBER_ID)] == ["+15550000000", "+15550000001"]
    page = shop.client.get(response.url).content.decode()
    assert "Finished" in page and "2 of 2 recipients done" in page and "Client 1 Doe" in page
    listing = shop.client.get(reverse("broadcast_list")).content.decode()
    assert "Linen week" in listing and "new_stock" in listing


def test_a_broadcast_form_with_mistakes_says_what_to_fix(shop):
    customers(shop, 1)
    response = shop.client.post(
        reverse("broadcast_new"), form(shop, **{"value_body.2": "", "numbers": "phone\n+1555\n12ab"})
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "This field is required." in page and "Not phone numbers: line 2 (+1555), line 3 (12ab)." in page
    response = shop.client.post(reverse("broadcast_new"), form(shop, template="99999"))
    assert response.status_code == 400 and "Select a valid choice." in response.content.decode()
    assert not Broadcast.objects.exists()


def test_scheduling_pausing_resuming_and_cancelling(shop, fake_graph):
    customers(shop, 2)
    later = (timezone.localtime() + timezone.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    shop.client.post(reverse("broadcast_new"), form(shop, send_at=later))
    broadcast = Broadcast.objects.get()
    assert broadcast.status == "scheduled"

    shop.client.post(reverse("broadcast_pause", args=[broadcast.pk]))
    broadcast.refresh_from_db()
    assert broadcast.status == "paused"
    response = shop.client.post(reverse("broadcast_cancel", args=[broadcast.pk]), follow=True)
    assert "The broadcast is cancelled." in response.content.decode()
    response = shop.client.post(reverse("broadcast_resume", args=[broadcast.pk]), follow=True)
    assert "it cannot be sending now" in response.content.decode()
    assert fake_graph.sent_messages() == []


def test_another_shops_broadcast_is_not_found(shop, seller_b):
    customers(shop, 1)
    shop.client.post(reverse("broadcast_new"), form(shop, send_at="2099-01-01T10:00"))
    broadcast = Broadcast.objects.get()
    assert seller_b.client.get(reverse("broadcast_detail", args=[broadcast.pk])).status_code == 404
    assert seller_b.client.post(reverse("broadcast_cancel", args=[broadcast.pk])).status_code == 404
    assert Broadcast.objects.get().status == "scheduled"
