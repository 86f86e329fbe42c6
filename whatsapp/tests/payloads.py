"""Webhook payloads shaped like the examples in Meta's messages webhook reference, and a signed poster.

Values (ids, numbers, wamids, texts) are the ones Meta's examples use, so a reader can hold a test
next to the documentation page it comes from.
"""

import json

from django.conf import settings

from whatsapp import signatures

BUSINESS_ACCOUNT_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
WA_ID = "16505551234"
PHONE = "+16505551234"
NAME = "Sheena Nelson"
BSUID = "user.9373795779eb6441c8adb2eaee5b848e7dd174ddd302d7db62142f4722d574b6"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA="
OUR_WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQUFERjg0NDEzNDdFODU3MUMxMAA="
TIMESTAMP = "1749416383"


def notification(*values, field="messages"):
    """The envelope Meta posts: one entry whose changes carry the given values."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": BUSINESS_ACCOUNT_ID,
                "changes": [{"value": value, "field": field} for value in values],
            }
        ],
    }


def contact(wa_id=WA_ID, name=NAME, user_id=None, username=None):
    profile = {"name": name} if name is not None else {}
    if username:
        profile.update({"username": username, "country_code": "US"})
    entry = {"profile": profile, "wa_id": wa_id}
    if user_id:
        entry["user_id"] = user_id
    return entry


def value(messages=(), statuses=(), contacts=None, phone_number_id=PHONE_NUMBER_ID):
    result = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_PHONE_NUMBER, "phone_number_id": phone_number_id},
    }
    if messages:
        result["contacts"] = [contact()] if contacts is None else contacts
        result["messages"] = list(messages)
    if statuses:
        result["statuses"] = list(statuses)
    return result


def message(kind, content, wamid=WAMID, from_=WA_ID, timestamp=TIMESTAMP, **extra):
    return {"from": from_, "id": wamid, "timestamp": timestamp, "type": kind, kind: content, **extra}


def text(body="Does it come in another color?", **extra):
    return message("text", {"body": body}, **extra)


def status(name, wamid=OUR_WAMID, timestamp="1750030073", recipient=WA_ID, **extra):
    return {"id": wamid, "status": name, "timestamp": timestamp, "recipient_id": recipient, **extra}


def failed_status(wamid=OUR_WAMID, timestamp="1751142888"):
    return status(
        "failed",
        wamid=wamid,
        timestamp=timestamp,
        errors=[
            {
                "code": 131049,
                "title": "This message was not delivered to maintain healthy ecosystem engagement.",
                "message": "This message was not delivered to maintain healthy ecosystem engagement.",
                "error_data": {
                    "details": "In order to maintain a healthy ecosystem engagement, the message failed to be delivered."
                },
                "href": "/documentation/business-messaging/whatsapp/support/error-codes",
            }
        ],
    )


def encode(payload):
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def post(client, payload, secret=None, signature=None, **headers):
    """POST a payload (a dict, or bytes as they are) to the webhook, signed with the app secret."""
    body = encode(payload)
    if signature is None:
        signature = signatures.sign(body, secret or settings.WHATSAPP_APP_SECRET)
    if signature:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post("/whatsapp/webhook/", data=body, content_type="application/json", **headers)
