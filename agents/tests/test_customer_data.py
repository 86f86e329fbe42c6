"""A customer's data on request: everything in one archive, or erased with what names them, audited."""

import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from agents import conversations, tables
from audit.models import AuditEvent
from orders import placing
from orders.placing import LineItem
from whatsapp.configuration import save_configuration
from whatsapp.models import MediaDownload, WebhookEvent


@pytest.fixture
def shop(make_agent, client):
    agent = make_agent(name="Rosa's Bakery")
    save_configuration(user=agent.user, whatsapp_number="+15550001000", phone_number_id="900100", access_token="t")
    client.force_login(agent.user)
    return agent, tables.for_agent(agent)


def add_customer(agent, t, *, name, phone, text):
    customer = t.Customer.objects.create(name=name, phone=phone)
    media = default_storage.save(
        f"whatsapp/{agent.agent_prefix}/test/{phone[1:]}.jpg", ContentFile(b"JPEG-" + name.encode())
    )
    for body, media_url in ((text, None), ("a photo", media)):
        message = t.Message.objects.create(
            customer=customer,
            message=body,
            direction="inbound",
            wamid=f"wamid.{phone}.{body}",
            media_type="image" if media_url else "none",
            media_url=media_url,
        )
        conversations.note_new_message(t, message)
    MediaDownload.objects.create(agent=agent, message_id=message.pk, media_id=f"m{phone}", file_name=media)
    order = placing.create_order(agent, customer, [LineItem("Sourdough", 2, Decimal("4.50"))], actor=None)
    WebhookEvent.objects.create(body=json.dumps({"from": phone[1:], "text": text}), phone_number_id="900100")
    return customer, order, media


def test_the_archive_holds_the_customer_their_messages_orders_and_files(shop, client):
    agent, t = shop
    ana, order, media = add_customer(agent, t, name="Ana Lima", phone="+15550002001", text="two loaves please")
    add_customer(agent, t, name="Bruno Other", phone="+15550002002", text="NOT-ANAS")

    response = client.get(reverse("customer_archive", args=[ana.pk]))

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{ana.pk}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    customer = json.loads(archive.read("customer.json"))
    messages = json.loads(archive.read("messages.json"))
    orders = json.loads(archive.read("orders.json"))
    assert (customer["name"], customer["phone"]) == ("Ana Lima", "+15550002001")
    assert [m["message"] for m in messages] == ["two loaves please", "a photo"]
    assert "NOT-ANAS" not in archive.read("messages.json").decode()
    assert [(o["id"], o["total_amount"]) for o in orders] == [(order.pk, "9.00")]
    assert [(i["name"], i["quantity"]) for i in orders[0]["items"]] == [("Sourdough", 2)]
    assert orders[0]["history"][0]["kind"] == "created"
    assert archive.read(f"media/{media.rsplit('/', 1)[1]}") == b"JPEG-Ana Lima"
    assert AuditEvent.objects.filter(action="customer.exported", target_id=str(ana.pk)).count() == 1


def test_erasing_needs_the_box_ticked_and_changes_nothing_without_it(shop, client):
    agent, t = shop
    ana, _, _ = add_customer(agent, t, name="Ana Lima", phone="+15550002001", text="hello")

    page = client.get(reverse("customer_erase", args=[ana.pk]))
    refused = client.post(reverse("customer_erase", args=[ana.pk]), {})

    assert page.status_code == 200 and "Erase Ana Lima?" in page.content.decode()
    assert refused.status_code == 200 and "Tick the box to confirm" in refused.content.decode()
    assert t.Customer.objects.filter(pk=ana.pk).exists() and t.Message.objects.count() == 2


def test_erasing_deletes_the_customer_and_everything_that_names_them(shop, client, django_capture_on_commit_callbacks):
    agent, t = shop
    ana, order, media = add_customer(agent, t, name="Ana Lima", phone="+15550002001", text="hello")
    bruno, bruno_order, bruno_media = add_customer(agent, t, name="Bruno Other", phone="+15550002002", text="hi")

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("customer_erase", args=[ana.pk]), {"confirm": "on"})

    assert response.status_code == 302 and response.url == reverse("customer_list")
    assert list(t.Customer.objects.values_list("name", flat=True)) == ["Bruno Other"]
    assert set(t.Message.objects.values_list("customer_id", flat=True)) == {bruno.pk}
    assert list(t.Order.objects.values_list("id", flat=True)) == [bruno_order.pk]
    assert not t.OrderItem.objects.filter(order_id=order.pk).exists()
    assert not t.OrderEvent.objects.filter(order_id=order.pk).exists()
    assert not default_storage.exists(media) and default_storage.exists(bruno_media)
    assert [json.loads(e.body)["from"] for e in WebhookEvent.objects.all()] == ["15550002002"]
    assert list(MediaDownload.objects.values_list("media_id", flat=True)) == ["m+15550002002"]
    erased = AuditEvent.objects.get(action="customer.erased")
    assert erased.details["customer_id"] == ana.pk and erased.details["messages"] == 2
    assert "Ana" not in json.dumps(erased.details) + erased.target_label
    assert "15550002001" not in json.dumps(erased.details) + erased.target_label


def test_a_number_inside_a_longer_one_is_not_erased(shop):
    agent, t = shop
    from agents.customer_data import erase_customer

    ana, _, _ = add_customer(agent, t, name="Ana Lima", phone="+1555000200", text="hello")
    WebhookEvent.objects.create(body=json.dumps({"from": "15550002009"}), phone_number_id="900100")

    erase_customer(agent, t, ana, actor=None)

    assert [json.loads(e.body)["from"] for e in WebhookEvent.objects.all()] == ["15550002009"]
