"""Delivery statuses of our outbound messages, from the `statuses` array of Meta's messages webhook.

`apply_status_update(agent_tables, status)` moves an outbound message forward (sent → delivered →
read, or failed with Meta's error) and never back: statuses arrive late, twice, or out of order.
"""

import datetime as dt
import enum

from django.db.models import Q

from agents import conversations

from .inbound import MalformedMessage

# How far along each status is. `played` (a voice note was listened to) says it was read.
# `failed` only ends a message that was not delivered: a late failure never undoes a delivery.
RANK = {None: 0, "queued": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}
KNOWN = {"sent": "sent", "delivered": "delivered", "read": "read", "played": "read", "failed": "failed"}
FAILABLE = (None, "queued", "sent")


class StatusOutcome(enum.Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"  # not forward of what the message already has (late or repeated)
    UNKNOWN_MESSAGE = "unknown message"


def timestamp_of(raw):
    """A payload's Unix time (a string of digits, or a number) as an aware UTC datetime."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise MalformedMessage(f"timestamp {raw!r} is not a Unix time")
    try:
        return dt.datetime.fromtimestamp(int(raw), tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise MalformedMessage(f"timestamp {raw!r} is not a Unix time") from None


def _first_error(status):
    errors = status.get("errors")
    error = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
    code = error.get("code")
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    title = error.get("title") or error.get("message")
    detail = data.get("details") or error.get("message")
    return {
        "error_code": code if isinstance(code, int) and not isinstance(code, bool) and abs(code) < 2**31 else None,
        "error_title": title if isinstance(title, str) else None,
        "error_detail": detail if isinstance(detail, str) else None,
    }


def pricing_of(status):
    """The message columns of a status's `pricing` object (billable, category, pricing_model, type), or {}.

    Meta sends it with one status of each message (sent, or delivered/read): kept whichever comes.
    """
    pricing = status.get("pricing")
    if not isinstance(pricing, dict):
        return {}
    billable = pricing.get("billable")
    found = {"pricing_billable": billable if isinstance(billable, bool) else None}
    for key, column, limit in (("category", "pricing_category", 32), ("pricing_model", "pricing_model", 16)):
        value = pricing.get(key)
        found[column] = value.strip()[:limit] if isinstance(value, str) and value.strip() else None
    kind = pricing.get("type")
    found["pricing_type"] = kind.strip()[:32] if isinstance(kind, str) and kind.strip() else None
    return found if any(value is not None for value in found.values()) else {}


def parse_status(status):
    """(wamid, our status, its time) of one `statuses` object; raises MalformedMessage."""
    wamid, name = status.get("id"), status.get("status")
    if not isinstance(wamid, str) or not wamid.strip():
        raise MalformedMessage("a status needs the message id it is about")
    if not isinstance(name, str) or name not in KNOWN:
        raise MalformedMessage(f"unknown status {name!r}")
    return wamid.strip(), KNOWN[name], timestamp_of(status.get("timestamp"))


def apply_status_update(agent_tables, status):
    """Apply one status object (as Meta shapes it) to the agent's outbound message with that wamid.

    One conditional UPDATE: concurrent deliveries of statuses for the same message can only move it
    forward. A failure keeps Meta's error code, title and details for the agent to see.
    """
    wamid, new_status, at = parse_status(status)
    outbound = agent_tables.Message.objects.outbound().filter(wamid=wamid)
    if new_status == "failed":
        earlier = [name for name in FAILABLE if name is not None]
        changes = {"status": "failed", "status_at": at, **_first_error(status)}
    else:
        earlier = [name for name, rank in RANK.items() if name is not None and rank < RANK[new_status]]
        changes = {"status": new_status, "status_at": at}
    pricing = pricing_of(status)
    updated = outbound.filter(Q(status__in=earlier) | Q(status__isnull=True)).update(**changes, **pricing)
    if updated and new_status == "failed":
        conversations.note_failed_sends(agent_tables, outbound.values_list("pk", flat=True))
    if updated:
        return StatusOutcome.APPLIED
    # A late status moves nothing, but what the message cost is worth keeping all the same.
    if (pricing and outbound.update(**pricing)) or outbound.exists():
        return StatusOutcome.UNCHANGED
    return StatusOutcome.UNKNOWN_MESSAGE
