"""Keeps secrets out of the logs: a logging filter that every handler in settings.LOGGING carries.

It replaces the app's own secrets (SECRET_KEY, the WhatsApp app secret and verify token, the
encryption keys), every access token this process has decrypted, bearer tokens and
`access_token=` parameters with [REDACTED], in the message and in any traceback text.
Code should not log secrets in the first place; this is the net under it.
"""

import logging
import re
import threading
from collections import OrderedDict

from django.conf import settings

REDACTED = "[REDACTED]"
# The most tokens remembered per process; the oldest are forgotten first.
REMEMBERED_TOKENS = 10_000
# Shorter strings are too likely to be ordinary words to be worth redacting.
MINIMUM_SECRET_LENGTH = 8

_PATTERNS = [
    # An Authorization header or its value: "Bearer EAAG...".
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9\-._~+/]+=*"), r"\1" + REDACTED),
    # access_token=... in a URL or form body.
    (re.compile(r"(?i)(access_token=)[^&\s'\"]+"), r"\1" + REDACTED),
    # A stored (encrypted) token.
    (re.compile(r"fernet:[A-Za-z0-9\-_=]+"), "fernet:" + REDACTED),
]
# Remembered tokens made of these characters (Meta's are letters and digits) are found by looking up
# each such word of a log line; any other token is searched for as a substring.
_WORD = re.compile(rf"[A-Za-z0-9_\-]{{{MINIMUM_SECRET_LENGTH},}}")

_word_tokens = OrderedDict()
_other_tokens = OrderedDict()
_tokens_lock = threading.Lock()


def remember_secret(value):
    """Redact `value` from every log line this process writes from now on (e.g. a decrypted token)."""
    if not value or len(value) < MINIMUM_SECRET_LENGTH:
        return
    tokens = _word_tokens if _WORD.fullmatch(value) else _other_tokens
    with _tokens_lock:
        tokens[value] = None
        tokens.move_to_end(value)
        while len(tokens) > REMEMBERED_TOKENS:
            tokens.popitem(last=False)


def _configured_secrets():
    if not settings.configured:
        # gunicorn's own log lines come before Django is set up: nothing of the app's to hide yet.
        return []
    values = [
        settings.SECRET_KEY,
        *settings.SECRET_KEY_FALLBACKS,
        settings.WHATSAPP_APP_SECRET,
        settings.WHATSAPP_VERIFY_TOKEN,
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    return sorted((value for value in values if value and len(value) >= MINIMUM_SECRET_LENGTH), key=len, reverse=True)


def redact(text):
    """`text` with every known secret and token-shaped credential replaced by [REDACTED]."""
    for secret in _configured_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if _word_tokens:
        # One pass over the words of the text, not one search per remembered token.
        text = _WORD.sub(lambda match: REDACTED if match.group() in _word_tokens else match.group(), text)
    for token in list(_other_tokens):
        text = text.replace(token, REDACTED)
    return text


class RedactSecretsFilter(logging.Filter):
    """Rewrites a record's message (and traceback) with secrets redacted; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record):
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
