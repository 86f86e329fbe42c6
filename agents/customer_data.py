"""Everything the shop holds about one customer, on the customer's request: exported as one archive, or erased.

The archive is a zip: `customer.json`, `messages.json` (every message with Meta's payload), `orders.json`
(each order with its items and history) and the media files the messages and the profile picture name.
Erasing deletes the customer's orders (their items and history go with them), messages and row in one
transaction, their media files once it commits, and tells the apps above (agents.signals.customer_erased:
whatsapp drops the raw webhook events and media downloads that name the customer). Both are audited.
"""

import contextlib
import json
import posixpath
import tempfile
import zipfile

from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.forms.models import model_to_dict

import audit

from . import labels, notes
from .signals import customer_erased

ARCHIVE_SPOOL_BYTES = 16 * 1024 * 1024  # kept in memory up to this size, then on disk


def _rows(queryset):
    return [model_to_dict(row, fields=[field.attname for field in row._meta.concrete_fields]) for row in queryset]


def _media_names(agent_tables, customer):
    """The storage names of the customer's files: their messages' media and the profile picture."""
    names = set(
        agent_tables.Message.objects.filter(customer=customer)
        .exclude(media_url=None)
        .exclude(media_url="")
        .values_list("media_url", flat=True)
    )
    if customer.profile_image_url:
        names.add(customer.profile_image_url)
    return sorted(name for name in names if "://" not in name)


def customer_archive(agent_tables, customer, *, actor, request=None):
    """A file object (at its start) holding the customer's zip archive; the export is audited."""
    messages = agent_tables.Message.objects.filter(customer=customer).order_by("timestamp", "id")
    orders = []
    for order in agent_tables.Order.objects.filter(customer=customer).order_by("created_at", "id"):
        entry = _rows([order])[0]
        entry["items"] = _rows(order.items.order_by("id"))
        entry["history"] = _rows(order.events.order_by("created_at", "id"))
        orders.append(entry)
    # Handed open to the response, which closes it once sent.
    archive = tempfile.SpooledTemporaryFile(max_size=ARCHIVE_SPOOL_BYTES)  # noqa: SIM115
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, content in (
            ("customer.json", _rows([customer])[0]),
            ("messages.json", _rows(messages.iterator(chunk_size=2000))),
            ("orders.json", orders),
            ("notes.json", _rows(notes.notes_on(agent_tables.agent_id, customer))),
            ("labels.json", labels.label_names_by_customer(agent_tables.agent_id).get(customer.pk, [])),
        ):
            zipped.writestr(name, json.dumps(content, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        missing = []
        for stored in _media_names(agent_tables, customer):
            try:
                with default_storage.open(stored, "rb") as media:
                    zipped.writestr(f"media/{posixpath.basename(stored)}", media.read())
            except OSError:
                missing.append(stored)
        if missing:
            zipped.writestr("media/MISSING.txt", "Files named by messages but no longer stored:\n" + "\n".join(missing))
    audit.record("customer.exported", actor=actor, target=customer, request=request, messages=messages.count())
    archive.seek(0)
    return archive


def erase_customer(agent, agent_tables, customer, *, actor, request=None):
    """Delete everything about `customer`; returns {what: how many} that was deleted."""
    files = _media_names(agent_tables, customer)
    with transaction.atomic(using=agent_tables.database):
        orders = agent_tables.Order.objects.filter(customer=customer)
        counts = {"orders": orders.count(), "messages": agent_tables.Message.objects.filter(customer=customer).count()}
        message_ids = list(agent_tables.Message.objects.filter(customer=customer).values_list("id", flat=True))
        order_ids = list(orders.values_list("id", flat=True))
        # The orders' items and history, and the customer's messages, go with them (ON DELETE CASCADE).
        orders.delete()
        # The audit entry names the customer by id only: their name and number are what is being erased.
        audit.record(
            "customer.erased",
            actor=actor,
            target=None,
            request=request,
            agent=agent.agent_prefix,
            customer_id=customer.pk,
            **counts,
            media_files=len(files),
        )
        counts["notes"] = notes.forget_customer(agent, customer.pk)
        counts["labels"] = labels.forget_customer(agent, customer.pk)
        for _receiver, erased in customer_erased.send(
            sender=type(customer), agent=agent, customer=customer, message_ids=message_ids, order_ids=order_ids
        ):
            counts.update(erased or {})
        agent_tables.Customer.objects.filter(pk=customer.pk).delete()
        transaction.on_commit(lambda: _delete_files(files), using=agent_tables.database)
    counts["media_files"] = len(files)
    return counts


def _delete_files(names):
    for name in names:
        with contextlib.suppress(OSError):  # already gone: nothing of the customer is left there
            default_storage.delete(name)
