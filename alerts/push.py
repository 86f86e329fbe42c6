"""Web Push: the browsers a seller subscribed, and a notification to each when a customer writes.

A push leaves from the worker (alerts.tasks), never from the webhook's request. What it carries is
encrypted for the browser alone (RFC 8291), so the push service (Google, Mozilla, Apple, Microsoft)
relays ciphertext; still, by default it holds no word of the message: only "New message from <first
name>" and the conversation's address. The text goes only when the seller turns it on (AlertSettings).
"""

import base64
import binascii
import json
import logging

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from pywebpush import WebPushException, webpush

from agents import tables
from agents.customers import first_name
from agents.models import Agent
from whatsapp import inbound

from .models import AlertSettings, PushSubscription

log = logging.getLogger(__name__)

# Every message a customer writes, except WhatsApp's own notices (a changed number).
ALERTED_TYPES = tuple(wa_type for wa_type in inbound.HANDLERS if wa_type != "system")
# The push service answers these for a subscription that is gone for good.
GONE = (404, 410)
# A notification about a message is worth nothing a day later: the push service may drop it then.
TIME_TO_LIVE = 24 * 60 * 60
TEXT_LIMIT = 200


def push_configured():
    return bool(settings.WEBPUSH_VAPID_PRIVATE_KEY)


# The seller's choices.


def alert_settings_of(agent, user):
    """The user's alert settings for `agent` (unsaved defaults when never changed)."""
    return AlertSettings.objects.filter(agent=agent, user=user).first() or AlertSettings(agent=agent, user=user)


def save_alert_settings(agent, user, *, show_message_text):
    AlertSettings.objects.update_or_create(agent=agent, user=user, defaults={"show_message_text": show_message_text})


# Subscriptions.


def _key_bytes(value, length, what):
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != length:
        raise ValueError(f"The browser's {what} is not one a browser makes.")
    return raw


def check_keys(p256dh, auth):
    """ValueError with a sentence unless `p256dh` is an uncompressed P-256 point and `auth` 16 bytes."""
    if _key_bytes(p256dh, 65, "public key")[0] != 4:
        raise ValueError("The browser's public key is not one a browser makes.")
    _key_bytes(auth, 16, "authentication secret")


def subscribe(agent, user, *, endpoint, p256dh, auth):
    """Save this browser's subscription for the user and agent (a browser that subscribes again replaces it)."""
    subscription, _ = PushSubscription.objects.update_or_create(
        agent=agent, endpoint=endpoint, defaults={"user": user, "p256dh": p256dh, "auth": auth}
    )
    return subscription


def unsubscribe(agent, user, endpoint):
    """Forget this browser's subscription; only the user's own, for the current agent. Returns whether it was."""
    deleted, _ = PushSubscription.objects.filter(agent=agent, user=user, endpoint=endpoint).delete()
    return bool(deleted)


def subscriptions_of(agent):
    """The browsers that hear of the agent's messages: those its user subscribed."""
    return PushSubscription.objects.filter(agent=agent, user_id=agent.user_id).order_by("id")


# Sending.


def notification_for(message, *, show_text):
    """What the browser shows for an inbound `message`: a title, a body, the conversation it opens."""
    name = first_name(message.customer)
    conversation = reverse("conversation", args=[message.customer_id])
    if show_text:
        body = (message.caption or message.message or "")[:TEXT_LIMIT]
    else:
        body = "Open the conversation to read it."
    return {
        "title": f"New message from {name}" if name else "New message",
        "body": body,
        "url": conversation,
        "tag": f"conversation-{message.customer_id}",
    }


def push_new_message(agent_id, message_id):
    """Push the inbound message to every browser the agent's user subscribed; forget the ones gone.

    Returns a summary for the task's result. A message already read (the seller had the page open)
    is not pushed.
    """
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or not push_configured():
        return "push is off"
    message = tables.for_agent(agent).Message.objects.select_related("customer").filter(pk=message_id).first()
    if message is None or message.is_read:
        return "already read"
    subscriptions = list(subscriptions_of(agent))
    show_text = alert_settings_of(agent, agent.user).show_message_text if subscriptions else False
    payload = json.dumps(notification_for(message, show_text=show_text))
    sent = gone = failed = 0
    for subscription in subscriptions:
        outcome = send_push(subscription, payload, topic=f"c{message.customer_id}")
        sent, gone, failed = sent + (outcome == "sent"), gone + (outcome == "gone"), failed + (outcome == "failed")
    return f"{sent} sent, {gone} gone, {failed} failed"


def send_push(subscription, payload, *, topic):
    """Encrypt `payload` for the subscription's browser and hand it to its push service: "sent", "gone"
    (the service forgot the browser: the subscription is deleted) or "failed" (logged, kept)."""
    try:
        webpush(
            subscription_info={
                "endpoint": subscription.endpoint,
                "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
            },
            data=payload,
            vapid_private_key=settings.WEBPUSH_VAPID_PRIVATE_KEY,
            # A dict of its own each time: webpush writes the audience (the endpoint's origin) into it.
            vapid_claims={"sub": settings.WEBPUSH_SUBJECT},
            ttl=TIME_TO_LIVE,
            # High urgency wakes a phone; a newer push about the same conversation replaces one still waiting.
            headers={"Urgency": "high", "Topic": topic},
            timeout=settings.WEBPUSH_TIMEOUT,
        )
    except WebPushException as error:
        status = getattr(error.response, "status_code", None)
        if status in GONE:
            with transaction.atomic():
                subscription.delete()
            return "gone"
        log.warning("push to subscription %s failed: %s", subscription.pk, status or error)
        return "failed"
    except OSError as error:  # requests' connection errors and timeouts
        log.warning("push to subscription %s failed: %s", subscription.pk, error)
        return "failed"
    PushSubscription.objects.filter(pk=subscription.pk).update(last_pushed_at=timezone.now())
    return "sent"


def generate_vapid_keys():
    """A new VAPID key pair as the settings take it: (public, private), base64url without padding."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def encode(raw):
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return encode(public), encode(private)
