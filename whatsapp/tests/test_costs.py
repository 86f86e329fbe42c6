"""What WhatsApp costs: the `pricing` of status notifications kept per message, summed per order, customer and
month, priced by the seller's table."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from whatsapp import costs
from whatsapp.models import MessagePrice

from . import payloads
from .payloads import notification, post, value

pytestmark = pytest.mark.django_db

# webhooks/reference/messages/status: a marketing message sent, with its pricing.
MARKETING = {"billable": True, "pricing_model": "PMP", "type": "regular", "category": "marketing"}
SERVICE = {"billable": False, "pricing_model": "PMP", "type": "free_customer_service", "category": "service"}


def outbound(t, customer, wamid, *, at=None, status="sent"):
    return t.Message.objects.create(
        customer=customer,
        message="Hello",
        direction="outbound",
        wamid=wamid,
        status=status,
        timestamp=at or timezone.now(),
        wa_type="template",
    )


def deliver_status(client, wamid, name="sent", pricing=MARKETING, **extra):
    status = payloads.status(name, wamid=wamid, pricing=pricing, **extra)
    assert post(client, notification(value(statuses=[status]))).status_code == 200


def test_the_pricing_of_a_status_is_kept_on_the_message(client, t):
    customer = t.Customer.objects.create(name="Sheena", phone=payloads.PHONE)
    message = outbound(t, customer, payloads.OUR_WAMID, status="queued")

    deliver_status(client, payloads.OUR_WAMID)

    message.refresh_from_db()
    assert (message.pricing_billable, message.pricing_category, message.pricing_model, message.pricing_type) == (
        True,
        "marketing",
        "PMP",
        "regular",
    )


def test_pricing_on_a_late_status_is_kept_twice_delivered_or_out_of_order(client, t):
    customer = t.Customer.objects.create(name="Sheena", phone=payloads.PHONE)
    message = outbound(t, customer, payloads.OUR_WAMID, status="queued")
    deliver_status(client, payloads.OUR_WAMID, "read", pricing=None)
    deliver_status(client, payloads.OUR_WAMID, "delivered")
    deliver_status(client, payloads.OUR_WAMID, "delivered")

    message.refresh_from_db()
    assert (message.status, message.pricing_category) == ("read", "marketing")


def test_costs_are_summed_per_order_customer_and_month_with_the_price_table(t, agent):
    brazil = t.Customer.objects.create(name="Ana", phone="+5511987654321")
    usa = t.Customer.objects.create(name="Sheena", phone=payloads.PHONE)
    MessagePrice.objects.create(agent=agent, category="marketing", country_prefix="55", price="0.0625", currency="USD")
    MessagePrice.objects.create(agent=agent, category="marketing", country_prefix="", price="0.0250", currency="USD")
    MessagePrice.objects.create(agent=agent, category="utility", country_prefix="55", price="0.0080", currency="USD")
    now = timezone.now()
    order = t.Order.objects.create(customer=brazil, created_at=now - dt.timedelta(days=2))
    t.Order.objects.create(customer=brazil, created_at=now - dt.timedelta(days=1))
    for n, (customer, category, kind, days) in enumerate(
        [
            (brazil, "marketing", "regular", 1.5),  # the first order's conversation
            (brazil, "utility", "regular", 1.5),
            (brazil, "service", "free_customer_service", 1.5),  # free: not counted
            (brazil, "marketing", "regular", 0.5),  # the second order's
            (usa, "marketing", "regular", 0.5),
            (usa, "authentication", "regular", 40),  # no price for it
        ]
    ):
        message = outbound(t, customer, f"wamid.{n}", at=now - dt.timedelta(days=days))
        t.Message.objects.filter(pk=message.pk).update(
            pricing_category=category, pricing_type=kind, pricing_billable=kind == "regular"
        )

    first = costs.order_costs(t, order)
    assert (first.billable, first.by_category, first.cost) == (
        2,
        {"marketing": 1, "utility": 1},
        {"USD": Decimal("0.0705")},
    )
    ana = costs.customer_costs(t, brazil)
    assert (ana.billable, ana.cost_text) == (3, "0.13 USD")
    months = costs.monthly_costs(t, since=now - dt.timedelta(days=60))
    assert sum(month.billable for _, month in months) == 5
    assert sum(month.unpriced for _, month in months) == 1
    assert sum(month.cost.get("USD", 0) for _, month in months) == Decimal("0.0625") * 2 + Decimal("0.0080") + Decimal(
        "0.0250"
    )


@pytest.mark.postgres
def test_prices_are_under_row_security(make_agent):
    from django.db import DatabaseError, transaction

    from crm import rls

    alice, bea = make_agent(name="Alice"), make_agent(name="Bea")
    for shop in (alice, bea):
        MessagePrice.objects.create(agent=shop, category="marketing", price="0.05")
    with rls.agent_scope(alice):
        assert list(MessagePrice.objects.values_list("agent_id", flat=True)) == [alice.pk]
        assert MessagePrice.objects.filter(agent=bea).update(price="9") == 0
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            MessagePrice.objects.create(agent=bea, category="utility", price="0.01")
