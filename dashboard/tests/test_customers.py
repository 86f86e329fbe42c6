"""Customers: list, search, pages, adding with an E.164 phone, renaming, the picture, the page, the CSV."""

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from agents import customers as customer_domain
from agents.tests.factories import NOON, customer, message
from dashboard import customers as customer_pages


def names(response):
    return re.findall(r'class="person"[^>]*>.*?<span>([^<]+)</span>', response.content.decode(), re.S)


def test_the_list_is_in_name_order_and_searchable_by_name_or_phone(seller):
    t = seller.tables
    customer(t, "Zoe Quinn", phone="+447700900123")
    customer(t, "Ana Lima", phone="+351912345678")
    customer(t, "Bo Berg", phone="+4670123456")

    assert names(seller.client.get(reverse("customer_list"))) == ["Ana Lima", "Bo Berg", "Zoe Quinn"]
    assert names(seller.client.get(reverse("customer_list"), {"q": "berg"})) == ["Bo Berg"]
    assert names(seller.client.get(reverse("customer_list"), {"q": "7700 900"})) == ["Zoe Quinn"]
    empty = seller.client.get(reverse("customer_list"), {"q": "nobody"})
    assert names(empty) == [] and "No customer matches “nobody”" in empty.content.decode()


def test_the_list_pages_by_name(seller):
    t = seller.tables
    for n in range(55):
        customer(t, f"Customer {n:02d}")
    first = seller.client.get(reverse("customer_list"))
    assert len(names(first)) == 50
    next_url = re.search(r'href="([^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    second = seller.client.get(next_url)
    assert names(second) == [f"Customer {n}" for n in range(50, 55)]
    assert seller.client.get(reverse("customer_list"), {"after": "bad"}).status_code == 400


def test_an_empty_list_says_how_customers_arrive(seller):
    assert "No customers yet." in seller.client.get(reverse("customer_list")).content.decode()


def test_adding_a_customer_stores_the_phone_in_e164(seller):
    response = seller.client.post(reverse("customer_add"), {"name": "  Maria   Silva ", "phone": "+55 (11) 98765-4321"})

    created = seller.tables.Customer.objects.get()
    assert (created.name, created.phone) == ("Maria Silva", "+5511987654321")
    assert response.status_code == 302 and response["Location"] == reverse("customer_detail", args=[created.pk])


@pytest.mark.parametrize(
    "phone, error",
    [
        ("+1 555", "is not a possible phone number"),
        ("call me", "is not a phone number"),
        ("", "This field is required."),
    ],
)
def test_a_bad_phone_is_refused_with_a_clear_error(seller, phone, error):
    response = seller.client.post(reverse("customer_add"), {"name": "Maria", "phone": phone})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not seller.tables.Customer.objects.exists()


def test_a_number_already_on_file_points_to_its_customer(seller):
    existing = customer(seller.tables, "Maria Silva", phone="+5511987654321")
    response = seller.client.post(reverse("customer_add"), {"name": "Maria S.", "phone": "5511987654321"})
    body = response.content.decode()
    assert response.status_code == 400
    assert "Maria Silva already has the number +5511987654321." in body
    assert reverse("customer_detail", args=[existing.pk]) in body
    assert seller.tables.Customer.objects.count() == 1


def test_the_add_form_can_be_prefilled_from_a_shared_contact(seller):
    body = seller.client.get(reverse("customer_add"), {"name": "Barbara", "phone": "+14125550829"}).content.decode()
    assert 'value="Barbara"' in body and 'value="+14125550829"' in body


def test_renaming_a_customer(seller):
    ana = customer(seller.tables, "Ana")
    response = seller.client.post(reverse("customer_details", args=[ana.pk]), {"name": "Ana Lima"})
    assert response.status_code == 302
    ana.refresh_from_db()
    assert ana.name == "Ana Lima"

    refused = seller.client.post(reverse("customer_details", args=[ana.pk]), {"name": "   "})
    assert refused.status_code == 400
    ana.refresh_from_db()
    assert ana.name == "Ana Lima"


def test_a_customers_first_name_is_their_first_word_or_nothing_when_no_name_is_known(seller):
    def first_name(name, phone="+14155550100", wa_user_id=None):
        return customer_domain.first_name(seller.tables.Customer(name=name, phone=phone, wa_user_id=wa_user_id))

    assert first_name("Maria  da Silva") == "Maria" and first_name(" Ana ") == "Ana"
    assert first_name("") == first_name("   ") == ""
    assert first_name("+14155550100") == first_name("+1 415-555-0100") == first_name("(415) 555 0100") == ""
    assert first_name("US.13491208655302741918", wa_user_id="US.13491208655302741918") == ""


def png_upload(size=(300, 200), name="face.png", colour=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_an_uploaded_picture_becomes_a_square_jpeg_served_only_to_its_agent(
    seller, seller_b, django_capture_on_commit_callbacks
):
    ana = customer(seller.tables, "Ana Lima")
    assert ">AL</span>" in seller.client.get(reverse("customer_detail", args=[ana.pk])).content.decode()

    response = seller.client.post(reverse("customer_picture", args=[ana.pk]), {"picture": png_upload()})

    assert response.status_code == 302
    ana.refresh_from_db()
    name = customer_domain.picture_storage_name(seller.tables, ana)
    with default_storage.open(name) as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("JPEG", (256, 256))
    page = seller.client.get(reverse("customer_detail", args=[ana.pk])).content.decode()
    src = re.search(r'<img class="avatar avatar-lg" src="([^"]+)"', page).group(1)
    served = seller.client.get(src)
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"

    assert seller_b.client.get(src).status_code in (404,)

    # A second upload replaces the first; removing goes back to initials.
    with django_capture_on_commit_callbacks(execute=True):
        seller.client.post(reverse("customer_picture", args=[ana.pk]), {"picture": png_upload(colour=(0, 0, 255))})
    ana.refresh_from_db()
    assert not default_storage.exists(name)
    second = customer_domain.picture_storage_name(seller.tables, ana)
    with django_capture_on_commit_callbacks(execute=True):
        seller.client.post(reverse("customer_picture", args=[ana.pk]), {"remove": "1"})
    assert not default_storage.exists(second)
    ana.refresh_from_db()
    assert ana.profile_image_url is None
    assert seller.client.get(reverse("customer_avatar", args=[ana.pk])).status_code == 404


def test_a_file_that_is_not_a_picture_is_refused(seller):
    ana = customer(seller.tables, "Ana")
    fake = SimpleUploadedFile("face.png", b"<html>not an image</html>", content_type="image/png")
    response = seller.client.post(reverse("customer_picture", args=[ana.pk]), {"picture": fake})
    assert response.status_code == 400
    assert "not a picture we can read" in response.content.decode()
    ana.refresh_from_db()
    assert ana.profile_image_url is None
    assert seller.client.post(reverse("customer_picture", args=[ana.pk]), {}).status_code == 400


def test_the_customer_page_shows_orders_lifetime_value_and_contact_dates(seller):
    t = seller.tables
    ana = customer(t, "Ana")
    message(t, ana, "first hello", at=NOON)
    message(t, ana, "latest news", at=NOON + dt.timedelta(days=3))
    t.Order.objects.create(customer=ana, total_amount=Decimal("100.00"), status="delivered")
    t.Order.objects.create(customer=ana, total_amount=Decimal("20.50"), status="confirmed")
    t.Order.objects.create(customer=ana, total_amount=Decimal("999.00"), status="cancelled")
    t.Order.objects.create(customer=ana, total_amount=Decimal("5.00"), status="pending")

    body = seller.client.get(reverse("customer_detail", args=[ana.pk])).content.decode()

    assert re.search(r'class="value">\$120.50</span><span class="label">Lifetime value', body)
    assert re.search(r'class="value">4</span><span class="label">Orders', body)
    assert "May 4, 2026" in body and "May 7, 2026, 12:00\u202fPM" in body  # the default shop: en_US
    assert "latest news" in body and "Open conversation" in body
    assert "Cancelled" in body and "999.00" in body


def test_the_csv_export_lists_every_matching_customer_safely(seller):
    t = seller.tables
    ana = customer(t, "Ana", phone="+351912345678")
    customer(t, '=HYPERLINK("http://evil")', phone="+351912345679")
    customer(t, "Bo", phone="+4670123456")
    message(t, ana, "hi")
    t.Order.objects.create(customer=ana, total_amount=Decimal("10.00"), status="delivered")

    response = seller.client.get(reverse("customer_export"), {"q": "35191"})

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="customers-' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == customer_pages.EXPORT_HEADER
    assert [row[1] for row in rows[1:]] == ["Ana", '\'=HYPERLINK("http://evil")']
    assert rows[1][2] == "+351912345678" and rows[1][5:] == ["1", "1", "10.00", "USD", ""]


def test_customer_pages_issue_a_fixed_number_of_queries(seller, django_assert_max_num_queries):
    t = seller.tables
    ana = customer(t, "Ana")

    def fill(count):
        for n in range(count):
            customer(t, f"Extra {n} {count}")
            message(t, ana, f"m{n}", at=NOON + dt.timedelta(seconds=n))
            t.Order.objects.create(customer=ana, total_amount=Decimal("1.00"), status="confirmed")

    fill(2)
    seller.client.get(reverse("home"))
    counts = {}
    for url in (reverse("customer_list"), reverse("customer_detail", args=[ana.pk])):
        with CaptureQueriesContext(connection) as queries:
            seller.client.get(url)
        counts[url] = len(queries)
    fill(70)
    for url, few in counts.items():
        with django_assert_max_num_queries(few):
            seller.client.get(url)
