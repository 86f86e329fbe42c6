"""Money through the pages: Mark paid with an amount (full or part), refunds, a customer's image as proof,
what is owed (report, CSV, customer page, home page), and another agent's ids refused."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from agents.tests.factories import message
from orders import placing
from orders.placing import LineItem
from payments import ledger
from payments.models import Payment


def an_order(shop, customer, total="100.00", status="confirmed"):
    order = placing.create_order(shop.agent, customer, [LineItem("Linen shirt", 1, Decimal(total))], actor=shop.user)
    shop.tables.Order.objects.filter(pk=order.pk).update(status=status)
    return shop.tables.Order.objects.get(pk=order.pk)


def an_image_from(shop, customer, name="agents/test/media/transfer.jpg"):
    if default_storage.exists(name):
        default_storage.delete(name)
    stored = default_storage.save(name, ContentFile(b"\xff\xd8\xff fake jpeg"))
    return message(
        shop.tables,
        customer,
        "Paid!",
        wa_type="image",
        media_type="image",
        media_url=stored,
        media_mime_type="image/jpeg",
        payload={"type": "image", "image": {"id": "1", "mime_type": "image/jpeg", "caption": "Paid!"}},
    )


def text(response):
    return response.content.decode()


def pay(shop, order, amount, method="bank_transfer", reference=""):
    data = {"amount": amount, "method": method, "reference": reference}
    return shop.client.post(reverse("order_mark_paid", args=[order.pk]), data, follow=True)


def test_mark_paid_takes_part_then_the_rest_and_the_page_shows_paid(seller, maria):
    order = an_order(seller, maria)
    page = text(seller.client.get(reverse("order_detail", args=[order.pk])))
    assert 'name="amount" value="100.00"' in page and "Unpaid" in page

    page = text(pay(seller, order, "40", reference="TR-77"))
    assert "Payment of $40.00 recorded. Still owed: $60.00." in page
    assert "Part paid" in page and "reference TR-77" in page and 'name="amount" value="60.00"' in page
    assert seller.tables.Order.objects.get(pk=order.pk).paid_at is None

    page = text(pay(seller, order, "60.00", method="cash"))
    assert f"Order #{order.pk} is paid." in page
    assert 'class="tag tag-paid">Paid</span>' in page
    assert "Mark paid</button>" not in page
    assert seller.tables.Order.objects.get(pk=order.pk).paid_at is not None


def test_once_money_came_in_the_items_cannot_be_edited_and_the_page_says_why(seller, maria):
    order = an_order(seller, maria)
    assert "Edit items</a>" in text(seller.client.get(reverse("order_detail", args=[order.pk])))

    page = text(pay(seller, order, "40"))
    edit = seller.client.get(reverse("order_edit", args=[order.pk]), follow=True)

    assert "Edit items</a>" not in page and f"Order #{order.pk} has payments recorded" in page
    assert "its items can no longer change" in text(edit)


@pytest.mark.parametrize(
    "amount, error",
    [
        ("100.01", "more than the $100.00 still owed"),
        ("-5", "more than zero"),
        ("0", "more than zero"),
        ("1" + "0" * 30, "no more than"),
        ("1.999", "2 decimal places"),
        ("12\x00", "NUL character"),
        ("", "This field is required"),
    ],
)
def test_a_bad_amount_is_a_form_error_and_records_nothing(seller, maria, amount, error):
    order = an_order(seller, maria)
    response = seller.client.post(reverse("order_mark_paid", args=[order.pk]), {"amount": amount, "method": "cash"})
    assert response.status_code == 400
    assert error in text(response)
    assert not Payment.objects.exists()


def test_a_payment_is_refunded_from_the_page_within_what_it_left(seller, maria):
    order = an_order(seller, maria, status="delivered")
    payment = ledger.record_payment(seller.agent, order, amount="100", method="cash", actor=seller.user)
    url = reverse("payment_refund", args=[order.pk, payment.pk])

    too_much = seller.client.post(url, {"amount": "100.01", "reason": "Damaged"})
    assert too_much.status_code == 400 and "more than the $100.00 of this payment" in text(too_much)
    no_reason = seller.client.post(url, {"amount": "10", "reason": ""})
    assert no_reason.status_code == 400 and "This field is required" in text(no_reason)

    page = text(seller.client.post(url, {"amount": "30", "reason": "One sleeve torn"}, follow=True))
    assert "Refund of $30.00 recorded." in page and "Refunded $30.00" in page and "One sleeve torn" in page
    page = text(seller.client.post(url, {"amount": "70", "reason": "Returned"}, follow=True))
    assert seller.tables.Order.objects.get(pk=order.pk).status == "refunded"
    assert 'class="tag tag-refunded">Refunded</span>' in page


def test_another_agents_order_payment_and_message_are_not_found_and_nothing_changes(seller, seller_b, maria):
    order = an_order(seller, maria)
    payment = ledger.record_payment(seller.agent, order, amount="10", method="cash")
    image = an_image_from(seller, maria)
    b_customer = seller_b.tables.Customer.objects.create(name="Bea", phone="+15550100077")
    b_order = an_order(seller_b, b_customer)
    b_order_two = an_order(seller_b, b_customer)  # an id agent A's tables do not have

    assert (
        seller_b.client.post(
            reverse("payment_refund", args=[b_order.pk, payment.pk]), {"amount": "1", "reason": "x"}
        ).status_code
        == 404
    )
    assert seller_b.client.get(reverse("payment_from_message", args=[image.pk])).status_code == 404
    proof = {"order": str(b_order.pk), "amount": "1", "method": "cash"}
    assert seller_b.client.post(reverse("payment_from_message", args=[image.pk]), proof).status_code == 404
    paid = {"amount": "1", "method": "cash"}
    assert seller.client.post(reverse("order_mark_paid", args=[b_order_two.pk]), paid).status_code == 404
    assert list(Payment.objects.values_list("pk", flat=True)) == [payment.pk]


def test_a_customers_image_in_the_conversation_becomes_the_proof_of_a_payment(seller, maria):
    an_order(seller, maria, total="20.00")
    order = an_order(seller, maria, total="100.00")
    image = an_image_from(seller, maria)
    conversation = text(seller.client.get(reverse("conversation", args=[maria.pk])))
    proof_url = reverse("payment_from_message", args=[image.pk])
    assert f'href="{proof_url}">Use as payment proof</a>' in conversation
    assert conversation.count("Use as payment proof") == 1  # not on Maria's text

    form = text(seller.client.get(proof_url))
    assert f'<option value="{order.pk}" selected>Order #{order.pk}, confirmed: $100.00 owed</option>' in form
    assert 'name="amount" value="100.00"' in form

    page = text(
        seller.client.post(
            proof_url, {"order": str(order.pk), "amount": "45", "method": "bank_transfer", "reference": ""}, follow=True
        )
    )
    assert "Payment of $45.00 recorded. Still owed: $55.00." in page
    assert f'src="{reverse("message_media", args=[image.pk])}"' in page and "Proof of payment from Maria" in page
    assert Payment.objects.get().proof_message_id == image.pk


def test_a_text_or_my_own_image_is_no_proof(seller, maria):
    an_order(seller, maria)
    text_message = seller.tables.Message.objects.filter(customer=maria).first()
    mine = an_image_from(seller, maria)
    seller.tables.Message.objects.filter(pk=mine.pk).update(direction="outbound")
    for message_id in (text_message.pk, mine.pk, "1" + "0" * 30, "x"):
        assert seller.client.get(reverse("payment_from_message", args=[message_id])).status_code == 404


def test_the_owed_report_lists_unpaid_and_part_paid_orders_by_age_with_a_csv(seller, maria):
    from django.utils import timezone

    old = an_order(seller, maria, total="100.00")
    seller.tables.Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timezone.timedelta(days=9))
    new = an_order(seller, maria, total="30.00")
    paid = an_order(seller, maria, total="5.00")
    an_order(seller, maria, total="70.00", status="cancelled")
    ledger.record_payment(seller.agent, old, amount="25", method="cash")
    ledger.record_payment(seller.agent, paid, amount="5", method="cash")

    page = text(seller.client.get(reverse("owed_report")))
    assert page.index(f"#{old.pk}</a>") < page.index(f"#{new.pk}</a>")
    assert f"#{paid.pk}</a>" not in page and "$70.00" not in page
    assert "9 days" in page and "Part paid" in page and "$105.00" in page
    newest = text(seller.client.get(reverse("owed_report") + "?sort=newest"))
    assert newest.index(f"#{new.pk}</a>") < newest.index(f"#{old.pk}</a>")
    assert seller.client.get(reverse("owed_report") + "?sort=sideways").status_code == 400

    response = seller.client.get(reverse("owed_export") + "?sort=oldest")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["order", "customer", "phone"]
    assert [(row[0], row[5], row[7], row[8], row[9]) for row in rows[1:]] == [
        (str(old.pk), "9", "25.00", "75.00", "part_paid"),
        (str(new.pk), "0", "0.00", "30.00", "unpaid"),
    ]


def test_the_home_and_customer_pages_say_what_is_owed(seller, maria):
    order = an_order(seller, maria, total="80.00")
    an_order(seller, maria, total="20.00")
    ledger.record_payment(seller.agent, order, amount="30", method="cash")
    home = text(seller.client.get(reverse("home")))
    assert '<span class="value">$70.00</span>\n    <span class="label">Waiting to be collected</span>' in home
    customer = text(seller.client.get(reverse("customer_detail", args=[maria.pk])))
    assert '$70.00</span><span class="label">Owes' in customer
    assert "$30.00 paid of $100.00 over 2 sold orders" in customer


def test_revenue_on_the_home_page_is_net_of_refunds(seller, maria):
    order = an_order(seller, maria, total="80.00", status="delivered")
    payment = ledger.record_payment(seller.agent, order, amount="80", method="cash")
    ledger.record_refund(seller.agent, payment, amount="15", reason="Late", actor=seller.user)
    home = text(seller.client.get(reverse("home")))
    assert '<span class="value">$65.00</span>\n    <span class="label">Revenue this month</span>' in home
