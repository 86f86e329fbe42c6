"""The live parts of the pages (inbox list, open thread, an order's messages) poll every few seconds;
a token of what a part shows lets the answer be "nothing changed" (204) without rendering anything."""

import hashlib

from django.http import HttpResponse

NOTHING_CHANGED = 204


def poll_token(shown):
    """A digest of what a live part shows, given as values with a stable repr: equal tokens, equal parts."""
    digest = hashlib.blake2b(digest_size=12)
    for value in shown:
        digest.update(repr(value).encode())
    return digest.hexdigest()


def nothing_changed(*, reload=False):
    """The answer to a poll whose token is still the browser's; `reload` when the part is too far behind
    to patch, so that htmx reloads the whole page."""
    response = HttpResponse(status=NOTHING_CHANGED)
    if reload:
        response["HX-Refresh"] = "true"
    return response
