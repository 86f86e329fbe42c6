"""Where a message's media is: a file in Django storage, or (rarely) a web address.

Intake and sending keep the file's storage name in `media_url` (older rows may hold the storage's
URL instead, e.g. /media/<name>). The dashboard never links to storage directly: it serves the file
through a view that first finds the message among the session's agent's own messages.
"""

import mimetypes
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings

from .rendering import safe_url

# Types a browser may show inline from our origin; anything else (SVG, HTML...) is a download.
INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf")
INLINE_PREFIXES = ("audio/", "video/")


def storage_name(media_url):
    """The storage name `media_url` refers to, or None when it is a web address or unusable."""
    if not isinstance(media_url, str) or not media_url.strip():
        return None
    parts = urlsplit(media_url.strip())
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    media_prefix = "/" + settings.MEDIA_URL.strip("/") + "/"
    if path.startswith(media_prefix):
        path = path[len(media_prefix) :]
    elif path.startswith("/"):
        return None
    normalized = posixpath.normpath(path)
    if normalized.startswith(("..", "/")) or normalized in (".", ""):
        return None
    return normalized


def web_address(media_url):
    """`media_url` when it is an http(s) address the browser may be sent to, else None."""
    url = safe_url(media_url)
    return url if url and urlsplit(url).scheme in ("http", "https") else None


def content_type(message, name):
    declared = (message.media_mime_type or "").split(";", 1)[0].strip().lower()
    return declared or mimetypes.guess_type(name)[0] or "application/octet-stream"


def shown_inline(mime_type):
    return mime_type in INLINE_TYPES or mime_type.startswith(INLINE_PREFIXES)
