"""The X-Hub-Signature-256 header Meta puts on every webhook: HMAC-SHA256 of the raw body with the app secret.

`sign()` makes one (tests, the benchmark and any local fake of Meta use it); `is_valid_signature()` checks
one in constant time.
"""

import hashlib
import hmac
import re

HEADER = "X-Hub-Signature-256"
META_KEY = "HTTP_X_HUB_SIGNATURE_256"
_WELL_FORMED = re.compile(r"sha256=[0-9a-f]{64}")


def sign(body, secret):
    """The header value Meta would send for `body` (bytes) signed with `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_well_formed(header_value):
    """Whether the header has the shape `sha256=<64 hex digits>`; checking it costs nothing."""
    return bool(header_value) and _WELL_FORMED.fullmatch(header_value.lower()) is not None


def is_valid_signature(body, header_value, secret):
    """Whether `header_value` is the signature of `body` under `secret`, compared in constant time."""
    if not secret or not is_well_formed(header_value):
        return False
    return hmac.compare_digest(sign(body, secret), header_value.lower())
