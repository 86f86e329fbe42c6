"""Logs as one JSON object per line (LOG_FORMAT=json), for log collectors; plain text otherwise.

Used by Django's LOGGING (crm/settings.py) and by gunicorn's (crm/gunicorn.py), so the app's
records and the access log come out alike.
"""

import json
import logging
import traceback
from datetime import UTC, datetime

# Attributes every LogRecord has: anything else on a record came from `extra=` and is kept.
_STANDARD_ATTRIBUTES = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
# gunicorn's access-log atoms worth a field of their own.
_ACCESS_FIELDS = {
    "h": "remote",
    "m": "method",
    "U": "path",
    "q": "query",
    "s": "status",
    "B": "bytes",
    "M": "duration_ms",
    "a": "user_agent",
}


class JSONFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update({field: record.args.get(atom) for atom, field in _ACCESS_FIELDS.items()})
        else:
            entry.update({key: value for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES})
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info))
        return json.dumps(entry, default=str)


def _formatters(log_format):
    if log_format == "json":
        return {"default": {"()": JSONFormatter}}
    return {"default": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}}


def django_logging(log_format, level):
    """The LOGGING setting: everything to standard error, in `log_format` (json or text)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": _formatters(log_format),
        # Every handler redacts secrets and access tokens from what it writes (crm/log_redaction.py).
        "filters": {"redact_secrets": {"()": "crm.log_redaction.RedactSecretsFilter"}},
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": "default", "filters": ["redact_secrets"]}
        },
        "root": {"handlers": ["console"], "level": level},
        # axes reports failures and lockouts as warnings; its info lines are bookkeeping. WeasyPrint logs seven
        # progress steps for every PDF (an invoice) at info, and what it cannot render as warnings.
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            "axes": {"level": "WARNING"},
            "weasyprint": {"level": "WARNING"},
        },
    }


def gunicorn_logconfig(log_format, level):
    """gunicorn's logconfig_dict: its error and access logs in the same format as the app's."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "default",
        "stream": "ext://sys.stdout",
        "filters": ["redact_secrets"],
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": _formatters(log_format),
        "filters": {"redact_secrets": {"()": "crm.log_redaction.RedactSecretsFilter"}},
        "handlers": {"console": handler},
        "loggers": {
            "gunicorn.error": {"handlers": ["console"], "level": level.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": "INFO", "propagate": False},
        },
    }
