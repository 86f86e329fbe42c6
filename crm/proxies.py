"""What to believe of the headers a reverse proxy adds. Nothing, unless the environment says so.

A client can send any X-Forwarded-For or X-Forwarded-Proto it likes; only the entries added by
proxies we run (TRUSTED_PROXY_COUNT of them, settings.py) are taken as true.
"""

import ipaddress

from django.conf import settings


def _valid_ip(text):
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request):
    """The address the request came from, as the outermost trusted proxy saw it.

    With no trusted proxy that is REMOTE_ADDR. Each proxy appends the address it received the
    request from to X-Forwarded-For, so with N trusted proxies the client is the N-th entry
    from the right; anything left of it was written by the client and is ignored.
    """
    remote = _valid_ip(request.META.get("REMOTE_ADDR", ""))
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    forwarded = [entry for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
    if len(forwarded) < proxies:
        return remote
    return _valid_ip(forwarded[-proxies]) or remote
