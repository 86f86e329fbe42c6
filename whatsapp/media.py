"""Inbound media (images, voice notes, documents...) copied from Meta into our storage, in the background.

Storing a media message creates its MediaDownload row in the same transaction and enqueues
`download_media` on commit: the webhook never waits for a file. The task asks the Graph API where the
file is (GET /{media-id}, a URL that lives a few minutes), downloads it with the bearer token, keeps
it in Django's default storage under the agent, and sets the message's `media_url`. A failure is
retried with backoff (`retry_due_downloads`, run by the intake worker) and stays visible in the admin.
"""

import base64
import datetime as dt
import hashlib
import logging
import mimetypes
import posixpath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.tasks import task
from django.utils import timezone

from agents import tables as agent_tables
from crm import rls

from . import graph, payloads
from .configuration import configuration_for_agent
from .models import MediaDownload

log = logging.getLogger(__name__)

# After a failed attempt, the next one waits this long; after the last, the download is failed.
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
# How long a queued or running download may take before it is presumed lost and queued again.
LOST_AFTER = dt.timedelta(minutes=15)
SWEEP_BATCH = 100
# Where Python's table picks a rarer extension than WhatsApp users know (voice notes are .ogg files).
EXTENSIONS = {"audio/ogg": ".ogg", "image/jpeg": ".jpg"}


class MediaUnavailable(Exception):
    """The download cannot succeed however often it is tried (the message or the number is gone)."""


def schedule_downloads(agent_id, messages):
    """Create the downloads of the media among freshly stored `messages`, enqueued when the transaction commits."""
    with_media = [message for message in messages if message.media_id]
    if not with_media:
        return
    now = timezone.now()
    downloads = MediaDownload.objects.bulk_create(
        MediaDownload(
            agent_id=agent_id, message_id=message.pk, media_id=message.media_id[:128], next_attempt_at=now + LOST_AFTER
        )
        for message in with_media
    )
    ids = [download.pk for download in downloads]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))


def _enqueue(download_ids):
    for download_id in download_ids:
        try:
            download_media.enqueue(download_id)
        except Exception:
            # The download stays pending; the sweep queues it again once its deadline passes.
            log.exception("could not enqueue media download %s", download_id)


@task
def download_media(download_id):
    """The background task: one attempt at one download."""
    attempt_download(download_id)


def _matches(content, sha256):
    """Whether `content` has the SHA-256 Meta announced (base64 in webhooks; hex is accepted too)."""
    digest = hashlib.sha256(content).digest()
    return sha256 in (base64.b64encode(digest).decode(), digest.hex())


def _storage_name(agent, message, mime_type):
    payload = message.payload if isinstance(message.payload, dict) else {}
    filename = payloads.media(payload.get(message.wa_type)).filename or ""
    mime_type = (mime_type or "").split(";")[0].strip().lower()
    extension = (
        posixpath.splitext(filename)[1][:10]
        or EXTENSIONS.get(mime_type)
        or mimetypes.guess_extension(mime_type)
        or ".bin"
    )
    day = message.timestamp or timezone.now()
    return f"whatsapp/{agent.agent_prefix}/{day:%Y/%m}/{message.pk}-{message.media_id}{extension}"


def _fetch(download):
    """Download the file and keep it; returns (storage name, mime type). Raises on any failure."""
    agent = download.agent
    tables = agent_tables.for_agent(agent)
    message = tables.Message.objects.filter(pk=download.message_id).first()
    if message is None:
        raise MediaUnavailable("the message no longer exists")
    configuration = configuration_for_agent(agent)
    if configuration is None:
        raise MediaUnavailable("no active WhatsApp number serves this agent")
    client = graph.client_for(configuration)
    info = client.get_media(download.media_id, phone_number_id=configuration.phone_number_id)
    downloaded = client.download_media(info.url)
    if info.sha256 and not _matches(downloaded.content, info.sha256):
        raise graph.GraphServerError("The downloaded file does not match its SHA-256", details=info.sha256)
    mime_type = info.mime_type or downloaded.mime_type or message.media_mime_type or ""
    name = default_storage.save(_storage_name(agent, message, mime_type), ContentFile(downloaded.content))
    return tables, message, name, mime_type


def attempt_download(download_id, now=None):
    """Claim and run one attempt; the row ends done, failed, or pending with its next attempt due."""
    now = now or timezone.now()
    claimed = MediaDownload.objects.filter(pk=download_id, state=MediaDownload.State.PENDING).update(
        state=MediaDownload.State.DOWNLOADING, attempts=F("attempts") + 1, next_attempt_at=now + LOST_AFTER
    )
    if not claimed:
        return None  # done, failed, or another task has it right now
    download = MediaDownload.objects.select_related("agent").get(pk=download_id)
    with rls.agent_scope(download.agent_id):
        return _attempt(download, now)


def _attempt(download, now):
    try:
        tables, message, name, mime_type = _fetch(download)
    except Exception as error:
        return _failed(download, error, now)
    with transaction.atomic(), transaction.atomic(using=tables.database):
        tables.Message.objects.filter(pk=message.pk).update(
            media_url=default_storage.url(name), media_mime_type=message.media_mime_type or mime_type or None
        )
        download.state, download.file_name, download.error, download.next_attempt_at = (
            MediaDownload.State.DONE,
            name,
            "",
            None,
        )
        download.save(update_fields=["state", "file_name", "error", "next_attempt_at", "updated_at"])
    return download


def _failed(download, error, now):
    hopeless = isinstance(error, MediaUnavailable) or (
        isinstance(error, graph.GraphError) and not (error.retryable or isinstance(error, graph.GraphAuthError))
    )
    retries = download.attempts - 1
    download.error = (error.describe() if isinstance(error, graph.GraphError) else f"{error}") or repr(error)
    if hopeless or retries >= len(RETRY_DELAYS):
        download.state, download.next_attempt_at = MediaDownload.State.FAILED, None
        log.warning("media download %s failed for good: %s", download.pk, download.error)
    else:
        download.state, download.next_attempt_at = MediaDownload.State.PENDING, now + RETRY_DELAYS[retries]
        log.warning(
            "media download %s failed (attempt %s), retrying later: %s", download.pk, download.attempts, download.error
        )
    download.save(update_fields=["state", "error", "next_attempt_at", "updated_at"])
    return download


def retry_due_downloads(now=None):
    """Queue again the downloads whose retry is due or whose task was lost; returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            MediaDownload.objects.filter(
                state__in=(MediaDownload.State.PENDING, MediaDownload.State.DOWNLOADING), next_attempt_at__lte=now
            )
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at")[:SWEEP_BATCH]
        )
        ids = [download.pk for download in due]
        MediaDownload.objects.filter(pk__in=ids).update(
            state=MediaDownload.State.PENDING, next_attempt_at=now + LOST_AFTER
        )
        if ids:
            transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def retry_downloads(download_ids):
    """Queue the given downloads again at once, failed ones included (the admin's action)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            MediaDownload.objects.filter(pk__in=download_ids)
            .exclude(state=MediaDownload.State.DONE)
            .values_list("pk", flat=True)
        )
        MediaDownload.objects.filter(pk__in=ids).update(
            state=MediaDownload.State.PENDING, next_attempt_at=now + LOST_AFTER
        )
        if ids:
            transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)
