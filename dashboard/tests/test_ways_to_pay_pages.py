"""The Ways to pay page and what the order page offers for payment: labelled fields, a clear error for a
bad link or a way that is not on, never a 500 for bad input, and another agent's order out of reach."""

from decimal import Decimal

import pytest
from django.urls import reverse

from checkout import ways
from checkout.models import PaymentEvent, PaymentSettings
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem

VALID = {
    "link_pattern": "https://pay.example.com/shop?ref={order}&amount={total}",
    "bank_details": "Shop A Ltd, IBAN PT50 0002",
    "cash_on_delivery": "on",
    "meta_configuration": "",
    "meta_gateway": "razorpay",
    "goods_type": "physical-goods",
    "default_way": "bank",
}


def test_the_page_has_a_labelled_field_for_each_way(seller, client):
    page = client.get(reverse("payment_settings")).content.decode()
    for label in (
        "Payment link",
        "Bank transfer details",
        "Cash on delivery",
        "Meta payment configuration",
        "Payment gateway linked with Meta",
        "Type of goods",
        "Default way to pay",
    ):
        assert f">{label}</label>" in page


def test_saving_turns_the_ways_on(seller, client):
    response = client.post(reverse("payment_settings"), VALID)
    assert response.status_code == 302
    settings = PaymentSettings.objects.get(agent=seller.agent)
    assert settings.ways() == ["link", "bank", "cash"] and settings.default_way == "bank"


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("link_pattern", "http://pay.example.com/{order}", "https://"),
        ("link_pattern", "https://pay.example.com/{amount}", "Only {order}, {total} and {currency}"),
        ("default_way", "meta", "Turn this way on first"),
        ("meta_configuration", "<script>", "letters, digits"),
    ],
)
def test_a_bad_setting_is_refused_with_a_sentence(seller, client, field, value, error):
    response = client.post(reverse("payment_settings"), {**VALID, field: value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not PaymentSettings.objects.filter(agent=seller.agent).exists()


@pytest.mark.parametrize("bad", ["a\x00b", "x" * 100_000, "²"])
@pytest.mark.parametrize("field", list(VALID))
def test_bad_input_in_any_field_is_a_form_error_not_a_500(seller, client, field, bad):
    response = client.post(reverse("payment_settings"), {**VALID, field: bad})
    assert response.status_code in (302, 400)


def test_the_summary_sent_from_the_order_page_carries_the_chosen_way(
    connected_shop, maria, client, fake_graph, django_capture_on_commit_callbacks
):
    ways.save_settings(connected_shop.agent, actor=connected_shop.user, **{**VALID, "cash_on_delivery": True})
    order = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("8.00"))], actor=connected_shop.user
    )
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "Way to pay in the summary" in page and '<option value="bank" selected>' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("order_send_summary", args=[order.pk]), {"idempotency_key": "k", "way": "cash"})
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert "Payment: cash on delivery." in sent["interactive"]["body"]["text"]


def test_the_order_page_offers_review_and_pay_and_shows_payment_notices(
    connected_shop, maria, client, fake_graph, django_capture_on_commit_callbacks
):
    ways.save_settings(connected_shop.agent, actor=connected_shop.user, meta_configuration="shop-a")
    order = placing.create_order(
        connected_shop.agent, maria, [LineItem("Mug", 1, Decimal("8.00"))], actor=connected_shop.user
    )
    PaymentEvent.objects.create(
        agent=connected_shop.agent,
        order_id=order.pk,
        reference_id=f"order-{order.pk}-1",
        transaction_id="pay_1",
        status="failed",
        amount=Decimal("8.00"),
        currency="USD",
        error="The bank declined the payment.",
    )
    page = client.get(reverse("order_detail", args=[order.pk])).content.decode()
    assert "Send to review and pay" in page
    assert "Payments in WhatsApp" in page and "transaction pay_1: The bank declined the payment." in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("order_request_payment", args=[order.pk]), {"idempotency_key": "k"})
    assert response.status_code == 302
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    assert sent["interactive"]["type"] == "order_details"


def test_another_agents_order_cannot_be_sent_for_payment(connected_shop, client, seller_b, fake_graph):
    b_customer = seller_b.tables.Customer.objects.create(name="Bia", phone="+5511900000000")
    ways.save_settings(seller_b.agent, actor=seller_b.user, meta_configuration="shop-b")
    b_order = placing.create_order(
        seller_b.agent, b_customer, [LineItem("Lamp", 1, Decimal("8.00"))], actor=seller_b.user
    )
    response = client.post(reverse("order_request_payment", args=[b_order.pk]), {"idempotency_key": "k"})
    assert response.status_code == 404
    assert fake_graph.sent_messages() == []
