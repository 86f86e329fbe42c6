"""The one client of Meta's Graph API (WhatsApp Cloud API): sending, read receipts, media, templates, catalogs.

Every call retries transient failures (429, 5xx, throttling codes, connection errors and timeouts)
with exponential backoff and jitter, honouring Retry-After, at most WHATSAPP_GRAPH_MAX_ATTEMPTS
times; failures that cannot succeed (a bad token, the closed 24-hour window, bad parameters) are
raised at once. Every failure is a GraphError carrying Meta's code, title and details.

    client = client_for(configuration)
    response = client.send_message(phone_number_id, {"messaging_product": "whatsapp", ...})
    client.mark_read(phone_number_id, wamid)
    media_id = client.upload_media(phone_number_id, content, "image/jpeg", "photo.jpg")
    media = client.get_media(media_id)               # MediaInfo(url, mime_type, sha256, file_size, id)
    downloaded = client.download_media(media.url)    # DownloadedMedia(content, mime_type)
    templates = client.list_message_templates(business_account_id)
    products = client.list_catalog_products(catalog_id)
"""

import email.utils
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

from .encryption import DecryptionError

logger = logging.getLogger(__name__)

# Meta error codes (documentation/whatsapp/error-codes): which are worth another attempt.
THROTTLING_CODES = frozenset({4, 80007, 130429, 131056})
TEMPORARY_CODES = frozenset({1, 2, 131000, 131016, 133004})
# Codes that fail the same way however often they are tried, whatever the HTTP status says.
PERMANENT_CODES = frozenset(
    {
        0,
        3,
        10,
        33,
        100,
        190,
        368,
        131005,
        131008,
        131009,
        131021,
        131026,
        131031,
        131042,
        131045,
        131047,
        131048,
        131049,
        131050,
        131051,
        131053,
        132000,
        132001,
        132005,
        132007,
        132012,
        132015,
        132016,
    }
)
AUTH_CODES = frozenset({0, 190})
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024  # the Cloud API's largest media file
MAX_REDIRECTS = 3
# What a media URL answers when it is not serving the file (a login or error page): never stored as media.
NOT_MEDIA_TYPES = ("text/html", "application/xhtml+xml")
# Where Meta serves media downloads from (lookaside.fbsbx.com today).
META_MEDIA_DOMAINS = ("facebook.com", "fbsbx.com", "whatsapp.net", "fbcdn.net")


class GraphError(Exception):
    """A failed Graph API call, with what Meta said about it.

    `code`, `title` and `details` come from Meta's error object (`details` from error_data); calls
    that never got an answer carry code None and a title saying what happened.
    """

    def __init__(self, title, *, code=None, details="", http_status=None, fbtrace_id=None, retry_after=None):
        self.code = code
        self.title = title
        self.details = details or ""
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after
        super().__init__(self.describe())

    def describe(self):
        """One line for people: "(#131047) Re-engagement message: More than 24 hours have passed..."."""
        text = f"(#{self.code}) {self.title}" if self.code is not None else self.title
        return f"{text}: {self.details}" if self.details and self.details != self.title else text

    @property
    def retryable(self):
        return False


class GraphConnectionError(GraphError):
    """Meta could not be reached, or did not answer in time."""

    @property
    def retryable(self):
        return True


class GraphRateLimited(GraphError):
    """HTTP 429 or a throttling code: the same call may succeed later."""

    @property
    def retryable(self):
        return True


class GraphServerError(GraphError):
    """A 5xx or a temporary Meta error: worth another attempt."""

    @property
    def retryable(self):
        return True


class GraphAuthError(GraphError):
    """The access token is invalid or expired (190): nothing succeeds until it is replaced."""


class GraphRequestError(GraphError):
    """Meta refused the request itself (bad parameters, closed window, undeliverable...)."""


@dataclass(frozen=True)
class MediaInfo:
    id: str
    url: str
    mime_type: str
    sha256: str
    file_size: int


@dataclass(frozen=True)
class DownloadedMedia:
    content: bytes
    mime_type: str


def error_from_response(response):
    """The typed GraphError for a non-2xx response, from Meta's `{"error": {...}}` body when it has one."""
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    retry_after = _retry_after_seconds(response.headers.get("Retry-After"))
    if not isinstance(error, dict):
        title = f"HTTP {response.status_code} {response.reason or ''}".strip()
        kind = _kind_for(response.status_code, None)
        return kind(title, http_status=response.status_code, retry_after=retry_after)
    code = error.get("code")
    code = code if isinstance(code, int) else None
    message = str(error.get("message") or "")
    # Meta writes the title into `message` as "(#<code>) <title>".
    prefix = f"(#{code}) "
    title = message[len(prefix) :] if message.startswith(prefix) else message or f"HTTP {response.status_code}"
    details = (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else ""
    return _kind_for(response.status_code, code)(
        title,
        code=code,
        details=details or "",
        http_status=response.status_code,
        fbtrace_id=error.get("fbtrace_id"),
        retry_after=retry_after,
    )


def _kind_for(status, code):
    if code in AUTH_CODES or (code is None and status == 401):
        return GraphAuthError
    if code in PERMANENT_CODES:
        return GraphRequestError
    if status == 429 or code in THROTTLING_CODES:
        return GraphRateLimited
    if status >= 500 or code in TEMPORARY_CODES:
        return GraphServerError
    return GraphRequestError


def _retry_after_seconds(value):
    """Retry-After as seconds (it may be a number of seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_delay(attempt):
    """Seconds to wait after failed attempt number `attempt` (1, 2...): exponential, capped, jittered.

    "Equal jitter": half the delay is fixed, half random, so clients that failed together spread out.
    """
    delay = min(settings.WHATSAPP_GRAPH_BACKOFF_MAX, settings.WHATSAPP_GRAPH_BACKOFF_BASE * 2 ** (attempt - 1))
    return delay / 2 + random.uniform(0, delay / 2)


_sessions = threading.local()


def _session():
    """One requests Session per thread: pooled keep-alive connections, never shared across threads."""
    session = getattr(_sessions, "session", None)
    if session is None:
        session = _sessions.session = requests.Session()
    return session


class GraphClient:
    """Graph API calls made with one access token. Build it with client_for(configuration)."""

    def __init__(self, access_token, *, base_url=None, version=None):
        if not access_token:
            raise GraphAuthError("No access token is configured for this WhatsApp number", code=190)
        self.access_token = access_token
        self.base_url = (base_url or settings.WHATSAPP_GRAPH_URL).rstrip("/")
        self.version = version or settings.WHATSAPP_GRAPH_VERSION
        self.max_attempts = max(1, settings.WHATSAPP_GRAPH_MAX_ATTEMPTS)
        self.timeout = (settings.WHATSAPP_GRAPH_CONNECT_TIMEOUT, settings.WHATSAPP_GRAPH_READ_TIMEOUT)

    def url(self, path):
        return f"{self.base_url}/{self.version}/{path.lstrip('/')}"

    # The endpoints.

    def send_message(self, phone_number_id, payload):
        """POST /{phone-number-id}/messages; returns Meta's answer (`messages[0].id` is the wamid)."""
        return self.request("POST", self.url(f"{phone_number_id}/messages"), json=payload).json()

    def mark_read(self, phone_number_id, wamid, *, typing=False):
        """Tell the customer their message (and every earlier one) was read: two blue ticks; with `typing`,
        show them the typing indicator too (until we answer, or 25 seconds: Meta's typing indicators page)."""
        payload = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        if typing:
            payload["typing_indicator"] = {"type": "text"}
        self.request("POST", self.url(f"{phone_number_id}/messages"), json=payload)

    def upload_media(self, phone_number_id, content, mime_type, filename):
        """POST /{phone-number-id}/media as multipart; returns the media id to send by."""
        response = self.request(
            "POST",
            self.url(f"{phone_number_id}/media"),
            data={"messaging_product": "whatsapp", "type": mime_type},
            files={"file": (filename, content, mime_type)},
        )
        return str(response.json()["id"])

    def get_media(self, media_id, phone_number_id=None):
        """GET /{media-id}: where to download it (the URL lives 5 minutes) and what it is."""
        params = {"phone_number_id": phone_number_id} if phone_number_id else None
        body = self.request("GET", self.url(str(media_id)), params=params).json()
        return MediaInfo(
            id=str(body.get("id", media_id)),
            url=body["url"],
            mime_type=body.get("mime_type", ""),
            sha256=body.get("sha256", ""),
            file_size=int(body.get("file_size") or 0),
        )

    def download_media(self, url, *, max_bytes=MAX_DOWNLOAD_BYTES):
        """GET the media URL from get_media() with the bearer token; the bytes and their type.

        Redirects are followed by hand, at most MAX_REDIRECTS, each hop checked like the first URL: the token
        and the request go to the Graph host or Meta's media hosts only, never to an address a redirect names.
        """
        for _ in range(MAX_REDIRECTS + 1):
            self._refuse_foreign_url(url)
            response = self.request("GET", url, stream=True, allow_redirects=False)
            if not response.is_redirect:
                break
            response.close()
            url = urljoin(url, response.headers["Location"])
        else:
            raise GraphRequestError("Too many redirects downloading media", details=url)
        with response:
            mime_type = response.headers.get("Content-Type", "application/octet-stream").split(";")[0].strip().lower()
            if mime_type in NOT_MEDIA_TYPES:
                raise GraphRequestError("The media URL did not answer with a file", details=f"{mime_type} from {url}")
            declared = response.headers.get("Content-Length", "")
            if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                raise GraphRequestError("Media file too large", details=f"{declared} bytes, more than {max_bytes}")
            chunks, size = [], 0
            for chunk in response.iter_content(chunk_size=64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise GraphRequestError("Media file too large", details=f"more than {max_bytes} bytes")
                chunks.append(chunk)
        return DownloadedMedia(content=b"".join(chunks), mime_type=mime_type)

    def list_message_templates(self, business_account_id):
        """Every template of the business account (all statuses), following Meta's paging."""
        fields = "id,name,language,status,category,parameter_format,components"
        return self._every_page(self.url(f"{business_account_id}/message_templates"), {"fields": fields, "limit": 100})

    def list_catalog_products(self, catalog_id):
        """Every product item of a Meta commerce catalog (GET /{catalog-id}/products), following Meta's paging.

        Each is a dict of Meta's product item fields: id, retailer_id, name, description, price (formatted
        with its currency, e.g. "$25.50"), currency, image_url, availability ("in stock", "out of stock"...).
        """
        fields = "id,retailer_id,name,description,price,currency,image_url,availability"
        return self._every_page(self.url(f"{catalog_id}/products"), {"fields": fields, "limit": 100})

    def _every_page(self, url, params):
        """The `data` of a GET and of every page its `paging.next` links lead to."""
        items = []
        while url:
            body = self.request("GET", url, params=params).json()
            items.extend(body.get("data", []))
            url = (body.get("paging") or {}).get("next")
            params = None  # the `next` link carries them
            if url:
                self._refuse_foreign_url(url)
        return items

    # The transport.

    def request(self, method, url, **kwargs):
        """One call, retried while the failure is transient; raises a GraphError when it gives up."""
        headers = {"Authorization": f"Bearer {self.access_token}"}
        attempt = 0
        while True:
            attempt += 1
            try:
                response = _session().request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except requests.ConnectTimeout as exc:
                # Nothing was sent: unlike a read timeout, another attempt cannot make a duplicate.
                logger.info("Graph API %s %s: %s", method, urlsplit(url).path, exc)
                error = GraphConnectionError(
                    "Could not connect to Meta in time",
                    details=f"No connection within {self.timeout[0]:g} seconds; try again in a moment.",
                )
            except requests.Timeout as exc:
                logger.info("Graph API %s %s: %s", method, urlsplit(url).path, exc)
                error = GraphConnectionError(
                    "Meta did not answer in time",
                    details=f"No answer within {self.timeout[1]:g} seconds; try again in a moment.",
                )
            except requests.ConnectionError as exc:
                logger.info("Graph API %s %s: %s", method, urlsplit(url).path, exc)
                error = GraphConnectionError(
                    "Could not connect to Meta", details="Meta's servers could not be reached; try again in a moment."
                )
            else:
                if response.ok:
                    return response
                error = error_from_response(response)
                response.close()
            wait = self._wait_before_retry(error, attempt)
            if wait is None:
                raise error
            logger.warning(
                "Graph API %s %s failed (%s); attempt %d of %d, retrying in %.2fs",
                method,
                urlsplit(url).path,
                error.describe(),
                attempt,
                self.max_attempts,
                wait,
            )
            time.sleep(wait)

    def _wait_before_retry(self, error, attempt):
        """Seconds to wait before the next attempt, or None to give up now."""
        if not error.retryable or attempt >= self.max_attempts:
            return None
        if error.retry_after is not None:
            # Meta said when; waiting longer than we allow a call to take means giving up now.
            return error.retry_after if error.retry_after <= settings.WHATSAPP_GRAPH_BACKOFF_MAX else None
        return backoff_delay(attempt)

    def _refuse_foreign_url(self, url):
        """The bearer token goes to the configured Graph host, or to Meta's own hosts over HTTPS; nowhere else."""
        parts, base = urlsplit(url), urlsplit(self.base_url)
        if (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
            return
        host = (parts.hostname or "").lower()
        if parts.scheme == "https" and any(host == d or host.endswith("." + d) for d in META_MEDIA_DOMAINS):
            return
        raise GraphRequestError("Refusing to send the access token to a host that is not Meta's", details=url)


def client_for(configuration):
    """The Graph client for a WhatsAppConfiguration (its decrypted access token)."""
    try:
        token = configuration.access_token()
    except DecryptionError as exc:
        raise GraphAuthError("The stored access token cannot be decrypted", details=str(exc)) from exc
    return GraphClient(token)
