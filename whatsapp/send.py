"""Sending WhatsApp messages from an agent's inbox: text, media, templates, resends and read receipts.

The public API (the dashboard calls these; the names are stable):

    send_text(agent, customer, text, *, sent_by, idempotency_key, reply_to_wamid=None) -> Message
    send_media(agent, customer, upload, *, caption="", sent_by, idempotency_key, reply_to_wamid=None) -> Message
    send_reaction(agent, message, emoji, *, sent_by) -> Message
    reply_target(agent_tables, customer, message_id) -> the wamid to quote, or None
    send_template(agent, customer, template, values, *, sent_by, idempotency_key) -> Message
    send_buttons(agent, customer, body, buttons, *, header="", footer="", sent_by, idempotency_key) -> Message
    send_products(agent, customer, sections, *, header="", body="", footer="", sent_by, idempotency_key) -> Message
    send_catalog(agent, customer, body, *, footer="", thumbnail_retailer_id="", sent_by, idempotency_key) -> Message
    resend(agent, message, *, sent_by) -> Message
    window(agent_tables, customer) -> Window(is_open, closes_at, last_inbound_at)
    send_read_receipt(agent, wamid) -> None
    read_conversation(agent, customer) -> the newest inbound wamid marked read, or None
    approved_templates(agent) -> MessageTemplate queryset (what the composer offers)
    request_template_sync(agent) -> None
    failure_reason(message) -> "Re-engagement message: More than 24 hours have passed..." or ""

`agent` is an agents.models.Agent; `customer` and `message` are rows of that agent's tables
(agents.tables.for_agent(agent)); `sent_by` is the User sending (or None for the system);
`upload` is a Django File (an UploadedFile from a form); `template` a whatsapp.models.MessageTemplate
(or its id) and `values` maps each of its message_templates.template_fields() keys to text;
`buttons` is a list of up to three (id, title) pairs: the reply buttons of an interactive message,
whose id comes back in the customer's `button_reply` when they tap one. `sections` is a list of
(title, [(product_retailer_id, name)]) from the agent's Meta catalog: one product makes a single-product
message, more a multi-product message (up to 30 products in up to 10 sections, under a header).

Every send function refuses bad input with SendError, whose str() is a sentence for the agent, and then
changes nothing. Free-form messages (text, media, reply buttons) are refused outside the 24-hour
customer service window (SendError.code == "window_closed"): only templates may be sent then.

How a send goes: the outbound row is written first (status `queued`, the request body in `payload`),
its send task is enqueued in the same transaction, and the call returns the row. The task (the worker,
or at once under TASKS_BACKEND=immediate) uploads media if any, calls the Graph API, and leaves the row
`sent` with Meta's wamid, or `failed` with Meta's error_code/error_title/error_detail; the webhook moves
it on to delivered and read. A failed message can be resent (same row, queued again).

The idempotency key (e.g. a UUID rendered into the compose form) makes a double-clicked Send or a
retried request return the first message instead of sending twice.

Rows beside the contract's meaning: `media_url` holds the storage name of the file sent (pages turn
it into a URL with the default storage); `status_at` of a queued row is when a worker took it (NULL
until then), which lets a send abandoned by a killed worker be taken again after SEND_LEASE.
"""

import logging
import os
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from agents import conversations, tables
from crm.inputs import object_id

from . import hooks, message_templates, tasks
from .configuration import configuration_for_agent
from .customers import has_phone_number
from .delivery import _NO_CONFIGURATION
from .models import MessageTemplate

logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# How long a worker may hold a send before another may take it (longer than any send can take).
MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
# Interactive reply-button messages (documentation/whatsapp/messages/interactive-reply-buttons-messages).
MAX_BUTTONS = 3
MAX_BUTTON_TITLE_LENGTH = 20
MAX_BUTTON_ID_LENGTH = 256
MAX_INTERACTIVE_BODY_LENGTH = 1024
MAX_INTERACTIVE_HEADER_LENGTH = 60
MAX_INTERACTIVE_FOOTER_LENGTH = 60
MAX_IDEMPOTENCY_KEY_LENGTH = 200
# Product messages (documentation/whatsapp/catalogs/sell-products-and-services/share-products).
MAX_PRODUCT_LIST_ITEMS = 30
MAX_PRODUCT_LIST_SECTIONS = 10
MAX_SECTION_TITLE_LENGTH = 24
NO_CATALOG = (
    "Link your Meta catalog first (Products page): WhatsApp shows products from the catalog of your "
    "WhatsApp Business Account."
)
# An outbound message the app sent on its own (a greeting, an away message, a stop confirmation) has an
# idempotency key that starts with this; the thread says "Automatic reply" for it.
AUTOMATIC = "auto:"

MB = 1024 * 1024
_OFFICE_ZIP = (b"PK\x03\x04",)
_OFFICE_OLE = (b"\xd0\xcf\x11\xe0",)
# The Cloud API's media (documentation/whatsapp/business-phone-numbers/media): by file extension,
# (MIME type, media type, largest size, how the file starts when we can tell).
MEDIA_BY_EXTENSION = {
    ".jpg": ("image/jpeg", "image", 5 * MB, (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", "image", 5 * MB, (b"\xff\xd8\xff",)),
    ".png": ("image/png", "image", 5 * MB, (b"\x89PNG\r\n\x1a\n",)),
    ".mp4": ("video/mp4", "video", 16 * MB, None),
    ".3gp": ("video/3gpp", "video", 16 * MB, None),
    ".aac": ("audio/aac", "audio", 16 * MB, None),
    ".amr": ("audio/amr", "audio", 16 * MB, (b"#!AMR",)),
    ".mp3": ("audio/mpeg", "audio", 16 * MB, None),
    ".m4a": ("audio/mp4", "audio", 16 * MB, None),
    ".ogg": ("audio/ogg", "audio", 16 * MB, (b"OggS",)),
    ".txt": ("text/plain", "document", 100 * MB, None),
    ".pdf": ("application/pdf", "document", 100 * MB, (b"%PDF-",)),
    ".xls": ("application/vnd.ms-excel", "document", 100 * MB, _OFFICE_OLE),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "document", 100 * MB, _OFFICE_ZIP),
    ".doc": ("application/msword", "document", 100 * MB, _OFFICE_OLE),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "document",
        100 * MB,
        _OFFICE_ZIP,
    ),
    ".ppt": ("application/vnd.ms-powerpoint", "document", 100 * MB, _OFFICE_OLE),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "document",
        100 * MB,
        _OFFICE_ZIP,
    ),
}
_ISO_MEDIA = (".mp4", ".3gp", ".m4a")  # MPEG-4 family: "ftyp" at byte 4


class SendError(ValueError):
    """A send refused before anything was written; str() says why, for the agent. `code` for programs."""

    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Window:
    """The 24-hour customer service window: free-form messages are allowed while it is open."""

    is_open: bool
    closes_at: object  # datetime, or None when the customer never wrote
    last_inbound_at: object


def window(agent_tables, customer, *, now=None):
    """Whether the customer wrote within the last 24 hours, and when that window closes."""
    last_inbound_at = (
        agent_tables.Message.objects.inbound()
        .filter(customer_id=customer.pk)
        .order_by("-timestamp")
        .values_list("timestamp", flat=True)
        .first()
    )
    if last_inbound_at is None:
        return Window(False, None, None)
    closes_at = last_inbound_at + WINDOW
    return Window((now or timezone.now()) < closes_at, closes_at, last_inbound_at)


# Sending.


def send_text(agent, customer, text, *, sent_by, idempotency_key, reply_to_wamid=None):
    """Queue a text message to the customer; returns its row (status queued)."""
    agent_tables = _tables(agent, customer)
    text = (text or "").strip()
    if not text:
        raise SendError("Type a message first.", "empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise SendError(
            f"A WhatsApp message can be at most {MAX_TEXT_LENGTH:,} characters; this one has {len(text):,}.",
            "too_long",
        )
    _require_open_window(agent_tables, customer)
    payload = _with_context(_payload(customer, "text", {"body": text, "preview_url": "http" in text}), reply_to_wamid)
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message=text,
        wa_type="text",
        payload=payload,
        context_wamid=reply_to_wamid or None,
    )


def send_media(agent, customer, upload, *, caption="", sent_by, idempotency_key, reply_to_wamid=None):
    """Queue an image, video, audio or document (a Django File) with an optional caption."""
    agent_tables = _tables(agent, customer)
    filename = get_valid_filename(os.path.basename(getattr(upload, "name", "") or "")) if upload else ""
    if not filename:
        raise SendError("Choose a file to send.", "no_file")
    mime_type, media_type, max_size, signatures = _media_rules(filename)
    size = upload.size
    if not size:
        raise SendError(f"{filename} is empty.", "empty_file")
    if size > max_size:
        raise SendError(
            f"{filename} is {size / MB:.1f} MB; WhatsApp accepts {media_type} files up to {max_size // MB} MB.",
            "too_large",
        )
    _require_signature(upload, filename, mime_type, signatures)
    caption = (caption or "").strip()
    if caption and media_type == "audio":
        raise SendError("Audio messages cannot have a caption.", "caption_not_allowed")
    if len(caption) > MAX_CAPTION_LENGTH:
        raise SendError(f"A caption can be at most {MAX_CAPTION_LENGTH:,} characters.", "too_long")
    _require_open_window(agent_tables, customer)
    existing = _existing(agent_tables, customer, idempotency_key)
    if existing is not None:
        return existing  # before storing the file, so a double submit leaves no orphan behind
    content = {}
    if caption:
        content["caption"] = caption
    if media_type == "document":
        content["filename"] = filename
    stored_name = default_storage.save(f"whatsapp/outbound/{agent.agent_prefix}/{uuid.uuid4().hex}/{filename}", upload)
    try:
        message = _queue(
            agent,
            agent_tables,
            customer,
            idempotency_key,
            sent_by,
            message=caption or filename,
            wa_type=media_type,
            payload=_with_context(_payload(customer, media_type, content), reply_to_wamid),
            context_wamid=reply_to_wamid or None,
            media_type=media_type,
            media_url=stored_name,
            media_mime_type=mime_type,
            caption=caption or None,
        )
    except BaseException:
        default_storage.delete(stored_name)
        raise
    if message.media_url != stored_name:  # a concurrent double submit won: its file is the one sent
        default_storage.delete(stored_name)
    return message


# The reactions the inbox offers (documentation/whatsapp/messages/reaction-messages); "" takes ours back.
REACTIONS = ("👍", "❤️", "😂", "😮", "😢", "🙏")


def send_reaction(agent, message, emoji, *, sent_by):
    """React to a customer's message with one of REACTIONS ("" removes our reaction); returns the queued row."""
    agent_tables = tables.for_agent(agent)
    _require_own_row(agent_tables.Message, message, "message")
    if emoji not in (*REACTIONS, ""):
        raise SendError(f"React with one of {' '.join(REACTIONS)}.", "reaction")
    if message.direction != "inbound" or message.wa_type == "reaction" or not message.wamid:
        raise SendError("You can react only to a message the customer sent (not to a reaction).", "reaction")
    customer = message.customer
    _require_open_window(agent_tables, customer)
    payload = _payload(customer, "reaction", {"message_id": message.wamid, "emoji": emoji})
    return _queue(
        agent,
        agent_tables,
        customer,
        uuid.uuid4().hex,
        sent_by,
        message=f"Reacted {emoji}" if emoji else "Removed a reaction",
        wa_type="reaction",
        payload=payload,
        context_wamid=message.wamid,
    )


def reply_target(agent_tables, customer, message_id):
    """The wamid of the customer's conversation message `message_id` (text from a form) to quote in a reply;
    None when no message is named; SendError when it is not one of this conversation's sent messages."""
    if not message_id:
        return None
    target = object_id(message_id)
    wamid = (
        agent_tables.Message.objects.filter(pk=target, customer_id=customer.pk)
        .exclude(wa_type="reaction")
        .values_list("wamid", flat=True)
        .first()
        if target
        else None
    )
    if not wamid:
        raise SendError("The message you reply to is not in this conversation (or was never sent).", "reply_to")
    return wamid


def send_template(agent, customer, template, values, *, sent_by, idempotency_key):
    """Queue an approved template with the agent's values for its variables (allowed outside the window)."""
    agent_tables = _tables(agent, customer)
    template = _approved_template(agent, template)
    if template.category == "AUTHENTICATION" and not has_phone_number(customer):
        raise SendError(
            f"{customer.name} has not shared a phone number with you (they use a WhatsApp username), and WhatsApp "
            "sends authentication templates such as one-time codes only to a phone number. Ask them for their "
            "number, or send another kind of message.",
            "needs_phone_number",
        )
    for guard in hooks.template_guards():
        guard(agent, customer, template)
    try:
        cleaned = message_templates.clean_values(template, values)
    except message_templates.TemplateError as error:
        raise SendError(str(error), "template") from None
    content = {"name": template.name, "language": {"code": template.language}}
    components = message_templates.template_components(template, cleaned)
    if components:
        content["components"] = components
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message=message_templates.render(template, cleaned),
        wa_type="template",
        payload=_payload(customer, "template", content),
    )


def send_buttons(agent, customer, body, buttons, *, header="", footer="", sent_by, idempotency_key):
    """Queue an interactive message with up to three reply buttons, [(id, title)], under `body`.

    The customer's tap comes back through the webhook as an `interactive` `button_reply` carrying the
    button's id, with this message's wamid as its context.
    """
    agent_tables = _tables(agent, customer)
    body, header, footer = (body or "").strip(), (header or "").strip(), (footer or "").strip()
    if not body:
        raise SendError("A message with buttons needs a text above its buttons.", "empty")
    _check_lengths(body=body, header=header, footer=footer, body_name="The text above the buttons")
    reply_buttons = _reply_buttons(buttons)
    _require_open_window(agent_tables, customer)
    content = {"type": "button", "body": {"text": body}, "action": {"buttons": reply_buttons}}
    if header:
        content["header"] = {"type": "text", "text": header}
    if footer:
        content["footer"] = {"text": footer}
    titles = " · ".join(button["reply"]["title"] for button in reply_buttons)
    text = "\n".join(filter(None, [header, body, footer])) + f"\n[{titles}]"
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message=text,
        wa_type="interactive",
        payload=_payload(customer, "interactive", content),
    )


def send_order_details(agent, customer, body, parameters, *, footer="", sent_by, idempotency_key):
    """Queue an `order_details` interactive message: the order with a "Review and pay" button, paid in
    WhatsApp through the seller's payment configuration (documentation/whatsapp/payments/payments-in/pg).

    `parameters` is the action's `parameters` object (reference_id, type, payment_settings, currency,
    total_amount, order), built by the caller; Meta answers the payment through the `statuses` webhook.
    """
    return _send_order_message(
        agent, customer, "order_details", "review_and_pay", body, parameters, footer, sent_by, idempotency_key
    )


def send_order_status(agent, customer, body, parameters, *, sent_by, idempotency_key):
    """Queue an `order_status` interactive message: the new status of an order sent as `order_details`
    (`parameters`: its reference_id and order {status, description})."""
    return _send_order_message(
        agent, customer, "order_status", "review_order", body, parameters, "", sent_by, idempotency_key
    )


def _send_order_message(agent, customer, kind, action, body, parameters, footer, sent_by, idempotency_key):
    agent_tables = _tables(agent, customer)
    body, footer = (body or "").strip(), (footer or "").strip()
    if not body:
        raise SendError("An order message needs a text.", "empty")
    _check_lengths(body=body, footer=footer)
    _require_open_window(agent_tables, customer)
    content = {"type": kind, "body": {"text": body}, "action": {"name": action, "parameters": parameters}}
    if footer:
        content["footer"] = {"text": footer}
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message="\n".join(filter(None, [body, footer])),
        wa_type="interactive",
        payload=_payload(customer, "interactive", content),
    )


def send_products(agent, customer, sections, *, header="", body="", footer="", sent_by, idempotency_key):
    """Queue a product message: one product (interactive `product`) or several (`product_list`) from the
    agent's Meta catalog. `sections` is [(title, [(product_retailer_id, name)])]; a title may be empty for
    a single section."""
    agent_tables = _tables(agent, customer)
    catalog_id = _catalog_id(agent)
    header, body, footer = (header or "").strip(), (body or "").strip(), (footer or "").strip()
    sections = [(str(title or "").strip(), list(products)) for title, products in sections or () if products]
    products = [product for _, section in sections for product in section]
    if not products:
        raise SendError("Choose at least one product to send.", "no_products")
    _check_lengths(body=body, header=header, footer=footer)
    if len(products) == 1:
        ((retailer_id, name),) = products
        content = {"type": "product", "action": {"catalog_id": catalog_id, "product_retailer_id": retailer_id}}
        lines = [f"🛍 {name}"]
    else:
        if len(products) > MAX_PRODUCT_LIST_ITEMS:
            raise SendError(
                f"A message can show at most {MAX_PRODUCT_LIST_ITEMS} products; {len(products)} were chosen.",
                "too_many",
            )
        if len(sections) > MAX_PRODUCT_LIST_SECTIONS:
            raise SendError(f"A message can have at most {MAX_PRODUCT_LIST_SECTIONS} sections.", "too_many")
        if not header or not body:
            raise SendError(
                "A message with several products needs a header and a text (WhatsApp asks for both).", "empty"
            )
        if len(sections) == 1 and not sections[0][0]:
            sections = [(header[:MAX_SECTION_TITLE_LENGTH].strip(), sections[0][1])]
        for title, _ in sections:
            if not title or len(title) > MAX_SECTION_TITLE_LENGTH:
                raise SendError(
                    f"Each section needs a title of 1 to {MAX_SECTION_TITLE_LENGTH} characters.", "too_long"
                )
        content = {
            "type": "product_list",
            "header": {"type": "text", "text": header},
            "action": {
                "catalog_id": catalog_id,
                "sections": [
                    {
                        "title": title,
                        "product_items": [{"product_retailer_id": retailer_id} for retailer_id, _ in section],
                    }
                    for title, section in sections
                ],
            },
        }
        lines = [f"🛍 {name}" for name in (name for _, name in products)]
    if body:
        content["body"] = {"text": body}
    if footer:
        content["footer"] = {"text": footer}
    _require_open_window(agent_tables, customer)
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message="\n".join(filter(None, [header, body, *lines, footer])),
        wa_type="interactive",
        payload=_payload(customer, "interactive", content),
    )


def send_catalog(agent, customer, body, *, footer="", thumbnail_retailer_id="", sent_by, idempotency_key):
    """Queue a catalog message: the text `body` and a View catalog button that opens the agent's catalog."""
    agent_tables = _tables(agent, customer)
    _catalog_id(agent)
    body, footer = (body or "").strip(), (footer or "").strip()
    if not body:
        raise SendError("Write a text to go with the catalog.", "empty")
    _check_lengths(body=body, footer=footer)
    action = {"name": "catalog_message"}
    if thumbnail_retailer_id:
        action["parameters"] = {"thumbnail_product_retailer_id": thumbnail_retailer_id}
    content = {"type": "catalog_message", "body": {"text": body}, "action": action}
    if footer:
        content["footer"] = {"text": footer}
    _require_open_window(agent_tables, customer)
    return _queue(
        agent,
        agent_tables,
        customer,
        idempotency_key,
        sent_by,
        message="\n".join(filter(None, [body, footer])) + "\n[View catalog]",
        wa_type="interactive",
        payload=_payload(customer, "interactive", content),
    )


def _catalog_id(agent):
    configuration = configuration_for_agent(agent)
    if configuration is None:
        raise SendError(_NO_CONFIGURATION, "no_configuration")
    if not configuration.catalog_id:
        raise SendError(NO_CATALOG, "no_catalog")
    return configuration.catalog_id


def _check_lengths(body_name="The text", **texts):
    """SendError when an interactive message's body, header or footer is longer than WhatsApp allows."""
    limits = {
        "body": MAX_INTERACTIVE_BODY_LENGTH,
        "header": MAX_INTERACTIVE_HEADER_LENGTH,
        "footer": MAX_INTERACTIVE_FOOTER_LENGTH,
    }
    names = {"body": body_name, "header": "The header", "footer": "The footer"}
    for what, text in texts.items():
        if len(text) > limits[what]:
            raise SendError(
                f"{names[what]} can be at most {limits[what]:,} characters; this one has {len(text):,}.", "too_long"
            )


def _reply_buttons(buttons):
    """Meta's `action.buttons` for [(id, title)], or SendError saying what is wrong with them."""
    buttons = list(buttons or [])
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise SendError(f"A message can have 1 to {MAX_BUTTONS} reply buttons.", "buttons")
    reply_buttons, titles, ids = [], set(), set()
    for button_id, title in buttons:
        button_id, title = str(button_id or ""), str(title or "").strip()
        if not button_id or button_id != button_id.strip() or len(button_id) > MAX_BUTTON_ID_LENGTH:
            raise SendError(
                f"Each button needs an id of 1 to {MAX_BUTTON_ID_LENGTH} characters without spaces around it.",
                "buttons",
            )
        if not title or len(title) > MAX_BUTTON_TITLE_LENGTH:
            raise SendError(f"A button's label must have 1 to {MAX_BUTTON_TITLE_LENGTH} characters.", "buttons")
        if title.lower() in titles or button_id in ids:
            raise SendError("Each button needs a label and an id of its own.", "buttons")
        titles.add(title.lower())
        ids.add(button_id)
        reply_buttons.append({"type": "reply", "reply": {"id": button_id, "title": title}})
    return reply_buttons


def resend(agent, message, *, sent_by):
    """Queue a failed outbound message again (same row); returns it, queued."""
    agent_tables = tables.for_agent(agent)
    _require_own_row(agent_tables.Message, message, "message")
    if message.direction != "outbound" or message.status != "failed":
        raise SendError("Only a message that failed to send can be sent again.", "not_failed")
    if message.wa_type != "template":
        _require_open_window(agent_tables, message.customer)
    Message = agent_tables.Message
    with transaction.atomic(using=agent_tables.database):
        # Only a failed row moves back to queued: a second click finds it queued and changes nothing.
        requeued = Message.objects.filter(pk=message.pk, status="failed").update(
            status="queued",
            status_at=None,
            timestamp=timezone.now(),
            wamid=None,
            media_id=None,
            error_code=None,
            error_title=None,
            error_detail=None,
            sent_by=_user_id(sent_by),
        )
        message = Message.objects.get(pk=message.pk)
        if requeued:
            conversations.note_new_message(agent_tables, message)
            _enqueue_send(agent, agent_tables, message)
    return message


# Read receipts.


def send_read_receipt(agent, wamid, *, typing=False):
    """Tell the customer (in the background, best effort) that `wamid` and everything before it was read;
    with `typing`, that the seller is typing an answer too."""
    if wamid:
        tasks.enqueue_on_commit(tasks.send_read_receipt, "default", agent.id, wamid, typing)


def read_conversation(agent, customer):
    """The agent opened the conversation: mark its inbound messages read here and on the customer's phone,
    where the typing indicator shows that an answer is coming (the conversation had unread messages)."""
    agent_tables = _tables(agent, customer)
    wamid = conversations.mark_conversation_read(agent_tables, customer)
    if wamid:
        _note_typing_shown(agent, customer)
    send_read_receipt(agent, wamid, typing=True)
    return wamid


# Meta dismisses the typing indicator after 25 seconds (or with our answer): one per conversation that long.
TYPING_INDICATOR_SECONDS = 25


def _typing_key(agent, customer):
    return f"whatsapp:typing:{agent.id}:{customer.pk}"


def _note_typing_shown(agent, customer):
    cache.set(_typing_key(agent, customer), True, TYPING_INDICATOR_SECONDS)


def show_typing(agent, customer):
    """The seller is typing in the composer: show the customer the typing indicator, at most once per
    TYPING_INDICATOR_SECONDS per conversation, on the read receipt of their newest message.

    Returns whether a typing indicator was sent; none when the customer never wrote (nothing to mark read).
    """
    agent_tables = _tables(agent, customer)
    wamid = (
        agent_tables.Message.objects.inbound()
        .filter(customer_id=customer.pk, wamid__isnull=False)
        .order_by("-timestamp", "-id")
        .values_list("wamid", flat=True)
        .first()
    )
    if wamid is None or not cache.add(_typing_key(agent, customer), True, TYPING_INDICATOR_SECONDS):
        return False
    send_read_receipt(agent, wamid, typing=True)
    return True


# Templates.


def approved_templates(agent):
    """The approved templates of the agent's WhatsApp number, by name."""
    configuration = configuration_for_agent(agent)
    if configuration is None:
        return MessageTemplate.objects.none()
    return configuration.templates.approved()


def request_template_sync(agent):
    """Refresh the agent's templates from Meta in the background."""
    configuration = configuration_for_agent(agent)
    if configuration is None:
        raise SendError(_NO_CONFIGURATION, "no_configuration")
    tasks.enqueue_on_commit(tasks.sync_templates, "default", configuration.pk)


def failure_reason(message):
    """What went wrong with a failed message, in Meta's words, for the agent ("" unless it failed).

    The one sentence every page shows under a message that was not sent.
    """
    if message.status != "failed":
        return ""
    title, detail = message.error_title or "WhatsApp refused this message", message.error_detail or ""
    return f"{title}: {detail}" if detail and detail != title else title


# Internals.


def _tables(agent, customer):
    agent_tables = tables.for_agent(agent)
    _require_own_row(agent_tables.Customer, customer, "customer")
    return agent_tables


def _require_own_row(model, row, what):
    # Compare tables, not classes: an agent's classes are rebuilt after a cache eviction.
    if getattr(getattr(row, "_meta", None), "db_table", None) != model._meta.db_table or row.pk is None:
        raise SendError(f"This {what} does not belong to this agent.", "not_found")


def _require_open_window(agent_tables, customer):
    if not window(agent_tables, customer).is_open:
        raise SendError(
            "More than 24 hours have passed since this customer last wrote, so WhatsApp only allows an "
            "approved template now. Choose a template to start the conversation again.",
            "window_closed",
        )


def _payload(customer, wa_type, content):
    """The request body of a message to the customer: to their number in `to`, or, for a customer known only
    by a business-scoped user id (a username adopter), to that id in `recipient` (Meta's BSUID guide)."""
    address = {"to": customer.phone} if has_phone_number(customer) else {"recipient": customer.phone}
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        **address,
        "type": wa_type,
        wa_type: content,
    }


def _with_context(payload, reply_to_wamid):
    """The payload as a contextual reply quoting `reply_to_wamid` (documentation/whatsapp/messages/contextual-replies)."""
    if reply_to_wamid:
        payload["context"] = {"message_id": reply_to_wamid}
    return payload


def _user_id(user):
    return getattr(user, "pk", None)


def _check_idempotency_key(idempotency_key):
    if not isinstance(idempotency_key, str) or not idempotency_key.strip():
        raise SendError("The form is missing its idempotency key; reload the page and send again.", "no_key")
    if len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise SendError("The idempotency key is too long.", "no_key")
    return idempotency_key.strip()


def _existing(agent_tables, customer, idempotency_key):
    key = _check_idempotency_key(idempotency_key)
    message = agent_tables.Message.objects.filter(idempotency_key=key).first()
    if message is not None and message.customer_id != customer.pk:
        raise SendError("This idempotency key was already used for another conversation.", "key_reused")
    return message


def _queue(agent, agent_tables, customer, idempotency_key, sent_by, **fields):
    """Write the queued outbound row and enqueue its send, once per idempotency key."""
    existing = _existing(agent_tables, customer, idempotency_key)
    if existing is not None:
        return existing
    if configuration_for_agent(agent) is None:
        raise SendError(_NO_CONFIGURATION, "no_configuration")
    Message = agent_tables.Message
    database = agent_tables.database
    with transaction.atomic(using=database):
        try:
            with transaction.atomic(using=database):
                message = Message.objects.create(
                    customer=customer,
                    direction="outbound",
                    timestamp=timezone.now(),
                    is_read=True,
                    status="queued",
                    status_at=None,
                    idempotency_key=idempotency_key.strip(),
                    sent_by=_user_id(sent_by),
                    **fields,
                )
        except IntegrityError:
            # The same key committed by a concurrent request (a double click): that one is the message.
            existing = _existing(agent_tables, customer, idempotency_key)
            if existing is None:
                raise
            return existing
        conversations.note_new_message(agent_tables, message)
        _enqueue_send(agent, agent_tables, message)
    return message


def _enqueue_send(agent, agent_tables, message):
    tasks.enqueue_on_commit(tasks.send_message, agent_tables.database, agent.id, message.pk)


def _media_rules(filename):
    extension = os.path.splitext(filename)[1].lower()
    rules = MEDIA_BY_EXTENSION.get(extension)
    if rules is None:
        kinds = ", ".join(sorted(MEDIA_BY_EXTENSION))
        raise SendError(
            f"WhatsApp cannot send {extension or 'this kind of'} files. Send one of: {kinds}.", "unsupported_type"
        )
    return rules


def _require_signature(upload, filename, mime_type, signatures):
    """Refuse a file whose content is not what its name says (Meta would refuse it with 131053)."""
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    extension = os.path.splitext(filename)[1].lower()
    if extension in _ISO_MEDIA:
        matches = head[4:8] == b"ftyp"
    else:
        matches = signatures is None or any(head.startswith(signature) for signature in signatures)
    if not matches:
        raise SendError(f"{filename} is not a valid {mime_type} file.", "unsupported_type")


def _approved_template(agent, template):
    configuration = configuration_for_agent(agent)
    if configuration is None:
        raise SendError(_NO_CONFIGURATION, "no_configuration")
    template_id = getattr(template, "pk", template)
    template_id = object_id(str(template_id))
    found = configuration.templates.filter(pk=template_id).first() if template_id else None
    if found is None:
        raise SendError("This template does not belong to this WhatsApp number.", "not_found")
    if found.status != MessageTemplate.APPROVED:
        raise SendError(
            f"The template {found.name} is {found.status.lower()}; only approved templates can be sent.", "template"
        )
    return found
