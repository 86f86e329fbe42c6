"""Coexistence with the WhatsApp Business app: a number onboarded from the app keeps working from the phone.

What the seller sends from the phone comes as `smb_message_echoes` (stored by intake as outbound messages, once
per wamid); the chat history Meta shares at onboarding comes as `history` chunks, imported here in the
background, idempotently and resumably; the app's address book comes as `smb_app_state_sync` contacts, which
become or rename customers. Shapes: webhooks/reference/{smb_message_echoes,history,smb_app_state_sync}.
"""

import datetime as dt
import json
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Max, Q, Sum
from django.tasks import task
from django.utils import timezone

from agents import tables as agent_tables
from agents.conversations import note_new_messages
from crm import rls

from . import customers, inbound, payloads, statuses
from .models import HistoryImport, WebhookEvent
from .tasks import enqueue_on_commit

log = logging.getLogger(__name__)

MEDIA_PLACEHOLDER = "media_placeholder"
# history_context.status of a message in the history, as our delivery statuses.
HISTORY_STATUSES = {
    "PENDING": "sent",
    "SENT": "sent",
    "DELIVERED": "delivered",
    "READ": "read",
    "PLAYED": "read",
    "ERROR": "failed",
}
BATCH_SIZE = 2000


def describe_sent(message):
    """The readable fields of a message the business sent (an echo, or one of the history): the types are
    those of sending, not of receiving, so a template or an interactive message reads as what it is."""
    wa_type = payloads.text(message.get("type")) or "unknown"
    if wa_type == MEDIA_PLACEHOLDER:
        return inbound.InboundContent(
            MEDIA_PLACEHOLDER, "Media message (WhatsApp shares the files of the last 14 days only)"
        )
    if wa_type == "template":
        name = payloads.template_name(message.get("template"))
        return inbound.InboundContent("template", f"Template {name}" if name else "Template")
    if wa_type == "interactive":
        buttons = payloads.reply_buttons(message.get("interactive"))
        if buttons is not None and buttons.body:
            return inbound.InboundContent("interactive", buttons.body)
    try:
        return inbound.describe(message)
    except inbound.MalformedMessage:
        return inbound.InboundContent(wa_type[:32], f"A {wa_type} message sent from the WhatsApp Business app")


def _digits(value):
    return "".join(ch for ch in value if ch.isdigit()) if isinstance(value, str) else ""


# History ----------------------------------------------------------------------------------------


def record_history(agent, event_id, change_index, value):
    """Queue the import of each chunk of a `history` value; returns notices for the event's summary.

    A chunk delivered again is the same import (one per phase and chunk order): queued again only when it
    did not finish. A chunk with `errors` says the business declined to share its history.
    """
    notices = []
    for chunk_index, chunk in enumerate(value.get("history") or [] if isinstance(value.get("history"), list) else []):
        if not isinstance(chunk, dict):
            continue
        error = payloads.first_error(chunk.get("errors"))
        if error is not None:
            notices.append(f"history not shared: {error.title} ({error.code})")
            continue
        metadata = chunk.get("metadata") if isinstance(chunk.get("metadata"), dict) else {}
        phase, order = payloads.whole_number(metadata.get("phase")), payloads.whole_number(metadata.get("chunk_order"))
        if phase is None or order is None or not (0 <= phase < 2**31 and 0 <= order < 2**31):
            notices.append("a history chunk without its phase and chunk order was ignored")
            continue
        progress = min(max(payloads.whole_number(metadata.get("progress")) or 0, 0), 100)
        pointer = {"event_id": event_id, "change_index": change_index, "chunk_index": chunk_index}
        history, created = HistoryImport.objects.get_or_create(
            agent=agent,
            phase=phase,
            chunk_order=order,
            defaults={**pointer, "progress": progress, "total": _count(chunk)},
        )
        if not created and history.state != HistoryImport.State.FAILED:
            notices.append(f"history phase {phase} chunk {order} already received")
            continue
        HistoryImport.objects.filter(pk=history.pk).update(**pointer, state=HistoryImport.State.QUEUED, error="")
        enqueue_on_commit(import_history, "default", history.pk)
        notices.append(f"history phase {phase} chunk {order} queued for import ({progress}%)")
    return notices


def _count(chunk):
    threads = chunk.get("threads") if isinstance(chunk.get("threads"), list) else []
    return sum(len(t["messages"]) for t in threads if isinstance(t, dict) and isinstance(t.get("messages"), list))


@task()
def import_history(history_id):
    with rls.unrestricted():  # which agent's chunk it is, before working as that agent
        history = HistoryImport.objects.filter(pk=history_id).select_related("agent").first()
    if history is None or history.state == HistoryImport.State.DONE:
        return "nothing to do"
    with rls.agent_scope(history.agent_id):
        try:
            return import_history_chunk(history)
        except Exception as error:
            # What was stored stays; resume_history_imports() takes the chunk up again where it stopped.
            HistoryImport.objects.filter(pk=history.pk).update(
                state=HistoryImport.State.FAILED, error=f"{error.__class__.__name__}: {error}"[:2000]
            )
            raise


# An import still "importing" after this long lost its worker.
STALLED_AFTER = dt.timedelta(minutes=10)


def resume_history_imports(now=None):
    """Queue again the imports that failed or whose worker stopped (the periodic upkeep); returns how many."""
    now = now or timezone.now()
    stopped = HistoryImport.objects.filter(
        Q(state=HistoryImport.State.FAILED) | Q(state=HistoryImport.State.IMPORTING, updated_at__lt=now - STALLED_AFTER)
    )
    with rls.unrestricted():  # the clock looks at every agent's imports
        ids = list(stopped.values_list("pk", flat=True))
    with rls.unrestricted(), transaction.atomic():
        HistoryImport.objects.filter(pk__in=ids).update(state=HistoryImport.State.QUEUED)
        for history_id in ids:
            enqueue_on_commit(import_history, "default", history_id)
    return len(ids)


class HistoryUnavailable(Exception):
    pass


def import_history_chunk(history):
    """Store a chunk's messages in the agent's tables with their original times, from `history.imported` on,
    a batch per transaction (bulk inserts, each wamid once); returns what became of it."""
    try:
        value, chunk = _chunk(history)
    except HistoryUnavailable as error:
        HistoryImport.objects.filter(pk=history.pk).update(state=HistoryImport.State.FAILED, error=str(error))
        return "failed"
    tables = agent_tables.for_agent(history.agent)
    business_number = _digits((value.get("metadata") or {}).get("display_phone_number"))
    entries = [
        (thread.get("id"), message)
        for thread in chunk.get("threads") or []
        if isinstance(thread, dict) and isinstance(thread.get("messages"), list)
        for message in thread["messages"]
        if isinstance(message, dict)
    ]
    HistoryImport.objects.filter(pk=history.pk).update(state=HistoryImport.State.IMPORTING, total=len(entries))
    known = _thread_customers(tables, {thread_id for thread_id, _ in entries})
    skipped = 0
    for start in range(history.imported, len(entries), BATCH_SIZE):
        batch = entries[start : start + BATCH_SIZE]
        rows = []
        for thread_id, message in batch:
            row = _history_row(tables, known.get(thread_id), business_number, message)
            skipped += row is None
            if row is not None:
                rows.append(row)
        with transaction.atomic(using=tables.database):
            _store_batch(tables, rows)
        HistoryImport.objects.filter(pk=history.pk).update(imported=start + len(batch))
    error = f"{skipped} message{'s' if skipped != 1 else ''} could not be read" if skipped else ""
    HistoryImport.objects.filter(pk=history.pk).update(
        state=HistoryImport.State.DONE, imported=len(entries), error=error
    )
    return "done"


def _chunk(history):
    event = WebhookEvent.objects.filter(pk=history.event_id).first()
    if event is None:
        raise HistoryUnavailable("the webhook event holding this chunk is gone; Meta's next delivery brings it back")
    try:
        payload = json.loads(event.body)
        changes = [change for entry in payload["entry"] for change in entry["changes"]]
        value = changes[history.change_index]["value"]
        return value, value["history"][history.chunk_index]
    except (ValueError, KeyError, IndexError, TypeError) as error:
        raise HistoryUnavailable(f"the chunk is not in its webhook event ({error.__class__.__name__})") from None


def _thread_customers(tables, thread_ids):
    """{thread id: customer} for the threads' WhatsApp users, created when new (named after their number)."""
    senders = {}
    for thread_id in thread_ids:
        phone = customers.phone_or_none(thread_id)
        user_id = None if phone else customers.user_id_or_none(thread_id)
        if phone or user_id:
            senders[thread_id] = customers.Sender(phone=phone, wa_user_id=user_id)
    known = customers.customers_for(tables, list(senders.values()))
    found = {}
    for thread_id, sender in senders.items():
        customer = known.get(sender)
        if customer is None:
            customer = known[sender] = customers.find_or_create_customer(tables, sender)
        found[thread_id] = customer
    return found


def _history_row(tables, customer, business_number, message):
    """A message row for one message of the history, or None when it cannot be read."""
    message = inbound.clean(message)
    wamid = message.get("id")
    if customer is None or not isinstance(wamid, str) or not wamid.strip() or len(wamid) > 256:
        return None
    try:
        timestamp = statuses.timestamp_of(message.get("timestamp"))
    except inbound.MalformedMessage:
        return None
    sent = "to" in message or (business_number and _digits(message.get("from")) == business_number)
    try:
        content = describe_sent(message) if sent else inbound.describe(message)
    except inbound.MalformedMessage:
        return None
    context = message.get("history_context") if isinstance(message.get("history_context"), dict) else {}
    return tables.Message(
        customer=customer,
        message=content.message,
        direction="outbound" if sent else "inbound",
        timestamp=timestamp,
        is_read=True,
        media_type=content.media_type,
        caption=content.caption,
        wamid=wamid.strip(),
        wa_type=content.wa_type,
        payload=message,
        context_wamid=content.context_wamid,
        media_id=content.media_id,
        media_mime_type=content.media_mime_type,
        status=HISTORY_STATUSES.get(context.get("status"), "sent") if sent else None,
        status_at=timestamp if sent else None,
    )


def _store_batch(tables, rows):
    """Insert a batch (a wamid stored before is skipped) and move the customers' last message time forward."""
    tables.Message.objects.bulk_create(rows, ignore_conflicts=True)
    note_new_messages(tables, rows)


def replace_media_placeholders(tables, value):
    """The separate `history` notification with the content of media messages the history held as
    placeholders: the placeholder rows get it (and their file is downloaded). Returns how many."""
    replaced = 0
    for message in value.get("messages") or [] if isinstance(value.get("messages"), list) else []:
        if not isinstance(message, dict) or not isinstance(message.get("id"), str):
            continue
        message = inbound.clean(message)
        try:
            content = inbound.describe(message)
        except inbound.MalformedMessage:
            continue
        replaced += tables.Message.objects.filter(wamid=message["id"], wa_type=MEDIA_PLACEHOLDER).update(
            message=content.message,
            wa_type=content.wa_type,
            media_type=content.media_type,
            caption=content.caption,
            media_id=content.media_id,
            media_mime_type=content.media_mime_type,
            payload=message,
        )
    return replaced


@dataclass(frozen=True)
class HistoryProgress:
    progress: int  # Meta's overall percentage, of the furthest chunk received
    imported: int
    total: int
    importing: bool  # some chunk still waits or is being imported
    failed: int

    @property
    def done(self):
        return not self.importing and not self.failed and self.progress >= 100


def history_progress(agent):
    """How far the import of the WhatsApp Business app's history is, or None when none was shared (one query)."""
    waiting = Q(state__in=[HistoryImport.State.QUEUED, HistoryImport.State.IMPORTING])
    figures = HistoryImport.objects.filter(agent=agent).aggregate(
        progress=Max("progress"),
        imported=Sum("imported"),
        total=Sum("total"),
        waiting=Count("id", filter=waiting),
        failed=Count("id", filter=Q(state=HistoryImport.State.FAILED)),
    )
    if figures["progress"] is None:
        return None
    return HistoryProgress(
        progress=figures["progress"],
        imported=figures["imported"] or 0,
        total=figures["total"] or 0,
        importing=bool(figures["waiting"]),
        failed=figures["failed"],
    )


# The app's address book ----------------------------------------------------------------------------


def apply_state_sync(tables, value):
    """Contacts the seller added or edited in the WhatsApp Business app become customers, or give a customer
    known only by their number the name of the address book. A removed contact stays a customer (their
    conversations and orders are the seller's records). Returns how many customers were created or renamed."""
    changed = 0
    for item in value.get("state_sync") or [] if isinstance(value.get("state_sync"), list) else []:
        if not isinstance(item, dict) or item.get("type") != "contact" or item.get("action") != "add":
            continue
        contact = inbound.clean(item.get("contact")) if isinstance(item.get("contact"), dict) else {}
        phone = customers.phone_or_none(contact.get("phone_number"))
        if phone is None:
            continue
        name = payloads.text(contact.get("full_name")) or payloads.text(contact.get("first_name"))
        sender = customers.Sender(phone=phone, wa_user_id=None, profile_name=name[:200] if name else None)
        existing = customers.customers_for(tables, [sender]).get(sender)
        if existing is None:
            customers.find_or_create_customer(tables, sender)
            changed += 1
        elif name and existing.name != name and existing.name.strip().lstrip("+") in ("", phone.lstrip("+")):
            tables.Customer.objects.filter(pk=existing.pk).update(name=name[:200])
            changed += 1
    return changed
