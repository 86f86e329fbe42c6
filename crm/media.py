"""Where a page or a task gets the URL of a stored media file: one helper for every caller.

On the file system (the default) that is MEDIA_URL + name, served by the app only in development.
On S3 the objects are private and the URL is presigned: it works for MEDIA_URL_EXPIRY seconds (or
`expires_in`), so render it into the page that shows the file, never store it.
"""

from django.core.files.storage import default_storage


def media_url(name, *, expires_in=None):
    """A URL a browser can fetch the stored file `name` from; None when there is no file."""
    if not name:
        return None
    if expires_in is not None and hasattr(default_storage, "querystring_expire"):
        return default_storage.url(name, expire=expires_in)
    return default_storage.url(name)
