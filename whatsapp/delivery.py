"""Delivering what sending queued: the worker's side of whatsapp.send, run by whatsapp.tasks.

Each function is idempotent and given ids, never rows: a retried or duplicated task sends nothing twice
(a send is claimed under a lease before the Graph API is called).
"""

import logging
import os
from datetime import timedelta

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from agents import conversations, tables
from agents.models import Agent
from agents.moving import is_held

from .configuration import configuration_for_agent
from .graph import GraphError, client_for

logger = logging.getLogger(__name__)

# How long a worker holds a send before another may take it over (the first worker died mid-task).
SEND_LEASE = timedelta(minutes=15)
_NO_CONFIGURATION = "This agent has no active WhatsApp number connected. An admin connects one in the admin."


def deliver(agent_id, message_id):
    """Send a queued outbound message through the Graph API; returns what became of it."""
    agent = Agent.objects.filter(pk=agent_id).first()
    if agent is None or not agent.table_version:
        return "agent gone"
    agent_tables = tables.for_agent(agent)
    Message = agent_tables.Message
    if not _claim(Message, message_id):
        return "not queued"  # sent already, failed, gone, or another worker holds it
    if is_held(agent_id):
        # After the claim: a move that began before it waits for this claim to go (agents.moving).
        Message.objects.filter(pk=message_id, status="queued").update(status_at=None)
        return "held: the agent is moving; sent once the move releases it"
    message = Message.objects.get(pk=message_id)
    configuration = configuration_for_agent(agent)
    if configuration is None:
        _record_failure(agent_tables, message_id, None, "No WhatsApp number connected", _NO_CONFIGURATION)
        return "failed"
    payload = dict(message.payload)
    try:
        client = client_for(configuration)
        if message.media_type != "none":
            payload[message.wa_type] = {**payload[message.wa_type], "id": _media_id(client, configuration, message)}
        response = client.send_message(configuration.phone_number_id, payload)
    except GraphError as error:
        _record_failure(agent_tables, message_id, error.code, error.title, error.details)
        return "failed"
    except OSError as error:  # the stored file is gone or unreadable
        _record_failure(agent_tables, message_id, None, "The attached file could not be read", str(error))
        return "failed"
    wamid = response["messages"][0]["id"]
    with transaction.atomic(using=agent_tables.database):
        # Should Meta echo our own send (smb_message_echoes) before we record its wamid, the echo gives way.
        Message.objects.filter(wamid=wamid, direction="outbound", idempotency_key__isnull=True).exclude(
            pk=message_id
        ).delete()
        Message.objects.filter(pk=message_id, status="queued").update(
            status="sent",
            status_at=timezone.now(),
            wamid=wamid,
            payload=payload,
        )
    return "sent"


def deliver_read_receipt(agent_id, wamid, typing=False):
    agent = Agent.objects.filter(pk=agent_id).first()
    configuration = configuration_for_agent(agent) if agent else None
    if configuration is None:
        return "no configuration"
    try:
        client_for(configuration).mark_read(configuration.phone_number_id, wamid, typing=typing)
    except GraphError as error:
        # Best effort: the customer misses blue ticks, nothing else is lost.
        logger.warning("Read receipt for %s not sent: %s", wamid, error.describe())
        return "failed"
    return "sent"


def _claim(Message, message_id):
    """Take a queued send for this worker: only one worker holds it until SEND_LEASE passes."""
    now = timezone.now()
    return (
        Message.objects.filter(
            Q(status_at__isnull=True) | Q(status_at__lt=now - SEND_LEASE),
            pk=message_id,
            direction="outbound",
            status="queued",
        ).update(status_at=now)
        == 1
    )


def _record_failure(agent_tables, message_id, code, title, detail):
    agent_tables.Message.objects.filter(pk=message_id, status="queued").update(
        status="failed",
        status_at=timezone.now(),
        error_code=code,
        error_title=title or "Not sent",
        error_detail=detail or None,
    )
    conversations.note_failed_sends(agent_tables, [message_id])


def _media_id(client, configuration, message):
    """Upload the message's file to Meta once; a retried task reuses the media id already stored."""
    if message.media_id:
        return message.media_id
    with default_storage.open(message.media_url, "rb") as stored:
        content = stored.read()
    media_id = client.upload_media(
        configuration.phone_number_id, content, message.media_mime_type, os.path.basename(message.media_url)
    )
    type(message).objects.filter(pk=message.pk).update(media_id=media_id)
    return media_id
