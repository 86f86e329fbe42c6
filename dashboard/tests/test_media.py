"""Message media are served through the dashboard, only to the agent whose message it is."""

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from agents.tests.factories import customer, message
from dashboard import media


def stored(name, content=b"\xff\xd8\xff fake jpeg"):
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def test_a_stored_image_is_served_inline_to_its_agent_only(seller, seller_b):
    name = stored("agents/test/media/photo.jpg")
    row = message(
        seller.tables,
        customer(seller.tables),
        "Photo",
        wa_type="image",
        media_type="image",
        media_url=name,
        media_mime_type="image/jpeg",
        payload={"type": "image", "image": {"id": "1", "mime_type": "image/jpeg"}},
    )
    url = reverse("message_media", args=[row.pk])

    response = seller.client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    assert seller_b.client.get(url).status_code == 404


def test_a_document_downloads_under_its_own_name_and_risky_types_never_render(seller):
    pdf = stored("agents/test/media/r.pdf", b"%PDF-1.4")
    svg = stored("agents/test/media/x.svg", b"<svg onload=alert(1)>")
    t = seller.tables
    ana = customer(t)
    doc = message(
        t,
        ana,
        "Document",
        wa_type="document",
        media_type="document",
        media_url=pdf,
        media_mime_type="application/pdf",
        payload={"type": "document", "document": {"id": "2", "filename": "receipt.pdf"}},
    )
    image = message(
        t,
        ana,
        "Sticker",
        wa_type="image",
        media_type="image",
        media_url=svg,
        media_mime_type="image/svg+xml",
        payload={"type": "image", "image": {"id": "3"}},
    )

    pdf_response = seller.client.get(reverse("message_media", args=[doc.pk]))
    assert pdf_response["Content-Type"] == "application/pdf"
    assert 'filename="receipt.pdf"' in pdf_response["Content-Disposition"]
    svg_response = seller.client.get(reverse("message_media", args=[image.pk]))
    assert svg_response["Content-Type"] == "application/octet-stream"
    assert svg_response["Content-Disposition"].startswith("attachment")


def test_missing_files_web_addresses_and_unusable_references(seller):
    t = seller.tables
    ana = customer(t)

    def media_of(media_url):
        row = message(
            t,
            ana,
            "x",
            wa_type="image",
            media_type="image",
            media_url=media_url,
            payload={"type": "image", "image": {"id": "9"}},
        )
        return seller.client.get(reverse("message_media", args=[row.pk]))

    assert media_of("agents/test/media/never-saved.jpg").status_code == 404
    assert media_of("javascript:alert(1)").status_code == 404
    assert media_of("../../etc/passwd").status_code == 404
    remote = media_of("https://cdn.example.com/a.jpg")
    assert remote.status_code == 302 and remote["Location"] == "https://cdn.example.com/a.jpg"
    assert media_of(None).status_code == 404


def test_storage_names_are_read_from_names_and_media_urls():
    assert media.storage_name("agents/1/a.jpg") == "agents/1/a.jpg"
    assert media.storage_name("/media/agents/1/a%20b.jpg") == "agents/1/a b.jpg"
    for unusable in ("/static/x.js", "../x", "a/../../x", "https://x.example/a", "", None, "."):
        assert media.storage_name(unusable) is None
