"""Inbound media are downloaded in the background from the (fake) Graph API over real HTTP."""

import base64
import hashlib

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from whatsapp import media
from whatsapp.models import MediaDownload

from . import payloads
from .payloads import message, notification, post, value

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0" + b"a tiny picture of a blue mug" * 20 + b"\xff\xd9"
PDF = b"%PDF-1.4 receipt for 2 blue mugs %%EOF"


def image_message(media_id, wamid=payloads.WAMID):
    return message(
        "image",
        {
            "caption": "This one?",
            "mime_type": "image/jpeg",
            "id": media_id,
            "sha256": base64.b64encode(hashlib.sha256(JPEG).digest()).decode(),
        },
        wamid=wamid,
    )


@pytest.fixture
def deliver(client, django_capture_on_commit_callbacks):
    """Post a notification and run what it queued on commit (the background task, here immediate)."""

    def deliver_(*messages):
        with django_capture_on_commit_callbacks(execute=True):
            assert post(client, notification(value(list(messages)))).status_code == 200

    return deliver_


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """The worker's sweep of due downloads, running the tasks it queues."""

    def sweep_(now):
        with django_capture_on_commit_callbacks(execute=True):
            return media.retry_due_downloads(now=now)

    return sweep_


def test_an_image_is_downloaded_into_storage_under_the_agent_and_linked(deliver, t, agent, fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg", phone_number_id=payloads.PHONE_NUMBER_ID)

    deliver(image_message(media_id))

    stored = t.Message.objects.get()
    download = MediaDownload.objects.get()
    assert download.state == MediaDownload.State.DONE and download.attempts == 1
    assert download.file_name == f"whatsapp/{agent.agent_prefix}/2025/06/{stored.pk}-{media_id}.jpg"
    assert stored.media_url == default_storage.url(download.file_name)
    with default_storage.open(download.file_name) as file:
        assert file.read() == JPEG
    # GET /{media-id} for the short-lived URL, then the file, both with the number's token.
    lookup, fetch = fake_graph.calls()
    assert (lookup.method, lookup.endpoint, lookup.query) == (
        "GET",
        f"/{media_id}",
        {"phone_number_id": [payloads.PHONE_NUMBER_ID]},
    )
    assert fetch.path == "/whatsapp_business/attachments/" and fetch.query == {"mid": [media_id]}
    assert lookup.authorization == fetch.authorization == "Bearer test-access-token"


def test_a_document_keeps_its_file_extension(deliver, t, fake_graph):
    media_id = fake_graph.add_media(PDF, "application/pdf")
    deliver(message("document", {"filename": "receipt.pdf", "mime_type": "application/pdf", "id": media_id}))
    assert MediaDownload.objects.get().file_name.endswith(f"-{media_id}.pdf")
    assert t.Message.objects.get().media_url.endswith(".pdf")


def test_a_failed_download_is_retried_with_backoff_and_never_blocks_the_message(deliver, sweep, t, fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    # More 500s than the Graph client's own attempts: this attempt of the download fails.
    fake_graph.fail_next(5, "500", path=media_id)

    deliver(image_message(media_id))

    stored = t.Message.objects.get()
    assert stored.message == "Image: This one?" and stored.media_url is None
    download = MediaDownload.objects.get()
    assert (download.state, download.attempts) == (MediaDownload.State.PENDING, 1)
    assert "(#131000) Something went wrong" in download.error
    assert download.next_attempt_at - download.updated_at >= media.RETRY_DELAYS[0] * 0.99

    # Not due yet: nothing happens. Once due, the worker's sweep queues it again and it succeeds.
    assert sweep(now=download.next_attempt_at - media.RETRY_DELAYS[0] / 2) == 0
    assert sweep(now=download.next_attempt_at) == 1
    download.refresh_from_db()
    assert (download.state, download.attempts, download.error) == (MediaDownload.State.DONE, 2, "")
    assert t.Message.objects.get().media_url == default_storage.url(download.file_name)


def test_a_download_meta_refuses_fails_at_once_and_is_shown_to_admins(deliver, client, t, fake_graph, admin_user):
    deliver(image_message("4490709327384033"))  # a media id the Graph API does not know

    download = MediaDownload.objects.get()
    assert (download.state, download.attempts) == (MediaDownload.State.FAILED, 1)
    assert "(#100) Invalid parameter" in download.error
    assert t.Message.objects.get().media_url is None

    client.force_login(admin_user)
    page = client.get(reverse("admin:whatsapp_mediadownload_changelist"), {"state__exact": "failed"}).content.decode()
    assert "4490709327384033" in page and "Invalid parameter" in page


def test_retrying_from_the_admin_downloads_it_once_meta_has_it(
    client, django_capture_on_commit_callbacks, deliver, t, fake_graph, admin_user
):
    deliver(image_message("4490709327384033"))
    fake_graph.add_media(JPEG, "image/jpeg", media_id="4490709327384033")
    client.force_login(admin_user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:whatsapp_mediadownload_changelist"),
            {"action": "retry", "_selected_action": [MediaDownload.objects.get().pk]},
            follow=True,
        )

    assert "1 download queued again." in response.content.decode()
    assert MediaDownload.objects.get().state == MediaDownload.State.DONE
    assert t.Message.objects.get().media_url


def test_after_the_last_retry_the_download_is_failed(deliver, sweep, t, fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    fake_graph.fail_next(5 * (1 + len(media.RETRY_DELAYS)), "503", path=media_id)
    deliver(image_message(media_id))
    download = MediaDownload.objects.get()
    while download.state == MediaDownload.State.PENDING:
        sweep(now=download.next_attempt_at)
        download.refresh_from_db()
    assert download.state == MediaDownload.State.FAILED
    assert download.attempts == 1 + len(media.RETRY_DELAYS)


def test_the_webhook_does_not_wait_for_the_download_and_a_lost_task_is_queued_again(
    deliver, sweep, t, fake_graph, settings
):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    # As in production: the task waits in the database for the worker (`db_worker`).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    deliver(image_message(media_id))

    download = MediaDownload.objects.get()
    assert download.state == MediaDownload.State.PENDING and not fake_graph.calls()
    assert t.Message.objects.get().media_url is None
    queued = DBTaskResult.objects.get()
    assert (queued.task_path, queued.args_kwargs["args"]) == ("whatsapp.media.download_media", [download.pk])

    # That worker never runs it: past the deadline, the intake worker's sweep queues it again.
    queued.delete()
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert sweep(now=download.next_attempt_at) == 1
    download.refresh_from_db()
    assert download.state == MediaDownload.State.DONE
    assert t.Message.objects.get().media_url


def test_checksums_in_either_encoding_are_checked():
    digest = hashlib.sha256(JPEG).digest()
    assert media._matches(JPEG, base64.b64encode(digest).decode())
    assert media._matches(JPEG, digest.hex())
    assert not media._matches(JPEG + b"tampered", digest.hex())


def test_a_download_for_a_message_that_is_gone_fails_for_good(deliver, sweep, t, fake_graph):
    media_id = fake_graph.add_media(JPEG, "image/jpeg")
    fake_graph.fail_next(5, "500", path=media_id)
    deliver(image_message(media_id))
    t.Message.objects.all().delete()
    download = MediaDownload.objects.get()
    sweep(now=download.next_attempt_at)
    download.refresh_from_db()
    assert download.state == MediaDownload.State.FAILED and download.error == "the message no longer exists"
