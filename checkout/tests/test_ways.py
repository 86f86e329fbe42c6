"""Ways to pay: the seller's link filled in for the order, bank details, cash on delivery, and what the
order summary sent to the customer says of each."""

from decimal import Decimal

import pytest

from checkout import summary, ways
from checkout.models import PaymentSettings
from crm.tests.fixtures import PHONE_NUMBER_ID
from orders import placing
from orders.placing import LineItem


def test_the_link_is_filled_url_encoded():
    link = ways.fill_link(
        "https://pay.example.com/shop?ref={order}&amount={total}&cur={currency}",
        order=12,
        total=Decimal("17.5"),
        currency="R$ &",
    )
    assert link == "https://pay.example.com/shop?ref=12&amount=17.50&cur=R%24%20%26"


@pytest.mark.parametrize(
    "pattern",
    [
        "http://pay.example.com/?ref={order}",
        "https://pay.example.com/?ref={name}",
        "pay.example.com/{order}",
        "{total}",
    ],
)
def test_a_pattern_that_does_not_make_an_https_link_is_refused(pattern):
    with pytest.raises(ways.CheckoutError):
        ways.check_pattern(pattern, "USD")


def send_summary(shop, customer, django_capture_on_commit_callbacks, fake_graph, **settings):
    ways.save_settings(shop.agent, actor=shop.user, **settings)
    order = placing.create_order(shop.agent, customer, [LineItem("Blue mug", 2, Decimal("8.00"))], actor=shop.user)
    with django_capture_on_commit_callbacks(execute=True):
        summary.send_order_summary(shop.agent, order, sent_by=shop.user, idempotency_key=f"s-{order.pk}")
    [sent] = fake_graph.sent_messages(PHONE_NUMBER_ID)
    return order, sent["interactive"]["body"]["text"].split("\n")


def test_the_summary_carries_the_filled_payment_link(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order, lines = send_summary(
        connected_shop,
        maria,
        django_capture_on_commit_callbacks,
        fake_graph,
        link_pattern="https://pay.example.com/shop?ref={order}&amount={total}",
    )
    assert lines[-2] == f"Pay here: https://pay.example.com/shop?ref={order.pk}&amount=16.00"
    assert lines[-3] == "Total: $16.00"


def test_the_summary_carries_the_bank_details_with_the_order_as_reference(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    order, lines = send_summary(
        connected_shop,
        maria,
        django_capture_on_commit_callbacks,
        fake_graph,
        bank_details="Shop A Ltd\nIBAN PT50 0002 0123 1234 5678 9015 4",
    )
    assert lines[-5:-1] == [
        "Pay by bank transfer to:",
        "Shop A Ltd",
        "IBAN PT50 0002 0123 1234 5678 9015 4",
        f"Reference: order {order.pk}",
    ]


def test_the_summary_says_cash_on_delivery(connected_shop, maria, fake_graph, django_capture_on_commit_callbacks):
    _, lines = send_summary(
        connected_shop, maria, django_capture_on_commit_callbacks, fake_graph, cash_on_delivery=True
    )
    assert lines[-2] == "Payment: cash on delivery."


def test_the_default_way_is_told_unless_another_is_chosen(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    _, lines = send_summary(
        connected_shop,
        maria,
        django_capture_on_commit_callbacks,
        fake_graph,
        link_pattern="https://pay.example.com/{order}",
        cash_on_delivery=True,
        default_way=PaymentSettings.Way.CASH,
    )
    assert lines[-2] == "Payment: cash on delivery."
    settings = ways.settings_of(connected_shop.agent)
    assert ways.way_for(settings, "link") == "link" and ways.way_for(settings, "bank") == "cash"


def test_without_a_way_to_pay_the_summary_is_as_before(
    connected_shop, maria, fake_graph, django_capture_on_commit_callbacks
):
    _, lines = send_summary(connected_shop, maria, django_capture_on_commit_callbacks, fake_graph)
    assert lines[-2] == "Total: $16.00"
