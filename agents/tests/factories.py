"""Rows written the way intake and sending write them, for the dashboard tests."""

import datetime as dt
import itertools

from agents import conversations

NOON = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)
_numbers = itertools.count(1)


def customer(t, name="Ana Lima", phone=None, **fields):
    phone = phone or f"+1555{next(_numbers):07d}"
    return t.Customer.objects.create(name=name, phone=phone, **fields)


def message(t, who, text="hello", *, direction="inbound", at=None, wa_type="text", payload=None, **fields):
    """A message stored the way intake and sending store them (payload as Meta shapes it)."""
    if payload is None and wa_type == "text":
        payload = {"type": "text", "text": {"body": text}}
    fields.setdefault("wamid", f"wamid.TEST{next(_numbers):08d}")
    if direction == "outbound":
        fields.setdefault("status", "sent")
        fields.setdefault("is_read", True)
    row = t.Message.objects.create(
        customer=who,
        message=text,
        direction=direction,
        timestamp=at or NOON,
        wa_type=wa_type,
        payload=payload,
        **fields,
    )
    conversations.note_new_message(t, row)
    return row
