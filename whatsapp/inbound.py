"""What an inbound WhatsApp message says, in words an agent can read, whatever its type.

`describe(message)` turns one object of a webhook's `messages` array (as Meta sends it) into the
fields of a message row: a readable `message` (never empty), the contract's `media_type`, a caption,
the replied-to or reacted-to message id and the media to download, read with whatsapp.payloads.
Pure functions: no database. Here is what intake refuses (MalformedMessage) and how the row reads.
"""

from dataclasses import dataclass

from babel.numbers import is_currency

from agents.shop import default_shop, format_money, format_number

from . import payloads

# WhatsApp message types whose object carries a downloadable media asset, and the contract's
# media_type for each (a voice note is audio; the contract has no separate value for it).
MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "document": "document", "sticker": "sticker"}


class MalformedMessage(ValueError):
    """The message object lacks what its type requires (kept on the event as the item's error)."""


@dataclass(frozen=True)
class InboundContent:
    wa_type: str
    message: str
    media_type: str = "none"
    caption: str | None = None
    context_wamid: str | None = None
    media_id: str | None = None
    media_mime_type: str | None = None
    # Set when Meta marks the message with errors (it could not deliver its content to us).
    error_code: int | None = None
    error_title: str | None = None
    error_detail: str | None = None

    @property
    def undeliverable(self):
        return self.error_title is not None


def clean(value):
    """`value` with every string made storable: no NUL characters, no lone surrogates.

    PostgreSQL's text and jsonb refuse both; a payload is otherwise kept exactly as sent.
    """
    if isinstance(value, str):
        if value.isascii():
            return value.replace("\x00", "")
        return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    if isinstance(value, dict):
        return {clean(key): clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def _object(message, key):
    value = message.get(key)
    if not isinstance(value, dict):
        raise MalformedMessage(f"a {message.get('type')!r} message needs a {key!r} object")
    return value


def _with_caption(label, caption):
    return f"{label}: {caption}" if caption else label


def _text_message(message):
    body = _object(message, "text").get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedMessage("a text message's body must be a string")
    return InboundContent("text", payloads.text(body) or "(empty message)")


def _media_message(message):
    wa_type = message["type"]
    media = payloads.media(_object(message, wa_type))
    if wa_type == "audio":
        label = "Voice message" if media.voice else "Audio"
    elif wa_type == "document":
        label = f"Document ({media.filename})" if media.filename else "Document"
    elif wa_type == "sticker":
        label = "Animated sticker" if media.animated else "Sticker"
    else:
        label = wa_type.capitalize()
    return InboundContent(
        wa_type,
        _with_caption(label, media.caption),
        media_type=MEDIA_TYPES[wa_type],
        caption=media.caption,
        media_id=media.id,
        media_mime_type=media.mime_type,
    )


def _location_message(message):
    location = payloads.location(_object(message, "location"))
    place = ", ".join(part for part in (location.name, location.address) if part)
    if location.latitude is not None:
        place = f"{place} ({location.latitude:.6f}, {location.longitude:.6f})".strip()
    return InboundContent("location", "Location: " + (place or "shared a location"))


def _contact_line(contact):
    details = ", ".join(phone.number for phone in contact.phones)
    if contact.name and details:
        return f"{contact.name} ({details})"
    return contact.name or details or None


def _contacts_message(message):
    cards = message.get("contacts")
    if not isinstance(cards, list):
        raise MalformedMessage("a 'contacts' message needs a 'contacts' list")
    lines = [line for line in map(_contact_line, payloads.contacts(cards)) if line]
    label = "Contact" if len(cards) == 1 else f"{len(cards)} contacts"
    return InboundContent("contacts", f"{label}: " + "; ".join(lines) if lines else f"{label} shared")


def _interactive_message(message):
    reply = payloads.reply(_object(message, "interactive"))
    kind = reply.kind or "unknown"
    if kind == "button_reply" and reply.title:
        text = f"Button reply: {reply.title}"
    elif kind == "list_reply" and reply.title:
        text = f"List reply: {reply.title}" + (f" ({reply.description})" if reply.description else "")
    elif kind == "nfm_reply":
        text = "Form reply: " + (reply.title or "submitted")
    else:
        text = f"Interactive reply ({kind})" + (f": {reply.title}" if reply.title else "")
    return InboundContent("interactive", text, context_wamid=payloads.context_wamid(message))


def _button_message(message):
    label = payloads.button_text(_object(message, "button"))
    if label is None:
        raise MalformedMessage("a 'button' message needs the button's text")
    return InboundContent("button", f"Button: {label}", context_wamid=payloads.context_wamid(message))


def _reaction_message(message):
    reaction = payloads.reaction(_object(message, "reaction"))
    if reaction.message_id is None:
        raise MalformedMessage("a reaction needs the id of the message it reacts to")
    # Meta sends a reaction without an emoji when the customer takes theirs back.
    text = f"Reacted {reaction.emoji}" if reaction.emoji else "Removed a reaction"
    return InboundContent("reaction", text, context_wamid=reaction.message_id)


def _order_message(message, shop):
    """A cart, its amounts in the cart's currency written the shop's way ("2 × mug at 8,50 €")."""
    cart = payloads.cart(_object(message, "order"))
    if not cart.lines:
        raise MalformedMessage("an order needs at least one product item with a quantity")

    def amount(value):
        if cart.currency and is_currency(cart.currency):
            return format_money(value, shop, cart.currency)
        return " ".join(filter(None, [format_number(value, shop), cart.currency]))

    items = "; ".join(
        f"{line.quantity} × {line.product_retailer_id}"
        + (f" at {amount(line.price)}" if line.price is not None else "")
        for line in cart.lines
    )
    text = f"Order: {items}"
    if cart.total is not None:
        text += f". Total {amount(cart.total)}"
    return InboundContent("order", text + (f". Note: {cart.note}" if cart.note else ""))


def _system_message(message):
    system = payloads.system(_object(message, "system"))
    return InboundContent("system", system.body or f"System notice ({system.kind or 'unknown'})")


def _unsupported_message(message):
    kind = payloads.unsupported_kind(message.get("unsupported"))
    return InboundContent("unsupported", f"Unsupported message ({kind})" if kind else "Unsupported message")


HANDLERS = {
    "text": _text_message,
    **dict.fromkeys(MEDIA_TYPES, _media_message),
    "location": _location_message,
    "contacts": _contacts_message,
    "interactive": _interactive_message,
    "button": _button_message,
    "reaction": _reaction_message,
    "system": _system_message,
    "unsupported": _unsupported_message,
}


def _undeliverable_message(message, wa_type, error):
    """A placeholder for a message Meta could not hand over (131051 unsupported type, 131000...): what happened."""
    kind = payloads.unsupported_kind(message.get("unsupported")) if wa_type == "unsupported" else wa_type
    sentence = "The customer sent a message" + (f" ({kind})" if kind and kind != "unsupported" else "")
    sentence += f" that WhatsApp could not deliver here: {error.title}"
    sentence += f" (error {error.code})." if error.code is not None else "."
    if error.details and error.details != error.title:
        sentence += f" {error.details}"
    sentence += " Ask them to send it again, or another way, if it matters."
    return InboundContent(
        (wa_type or "unsupported")[:32],
        sentence[:2000],
        context_wamid=payloads.context_wamid(message),
        error_code=error.code,
        error_title=error.title,
        error_detail=error.details,
    )


def describe(message, shop=None, value_errors=()):
    """The readable fields of one inbound message object (already passed through `clean`), amounts written
    the way of `shop` (the receiving agent's; the default shop's when None).

    An unknown type is kept as a placeholder naming it, never dropped. A message Meta marks with errors
    (its own `errors`, else those of the notification's value) becomes a placeholder saying what happened.
    """
    wa_type = payloads.text(message.get("type"))
    error = payloads.first_error(message.get("errors")) or payloads.first_error(list(value_errors))
    if error is not None:
        return _undeliverable_message(message, wa_type, error)
    if wa_type is None:
        raise MalformedMessage("the message has no type")
    if wa_type == "order":
        content = _order_message(message, shop or default_shop())
    elif wa_type in HANDLERS:
        content = HANDLERS[wa_type](message)
    else:
        return InboundContent(wa_type[:32], f"Unsupported message type: {wa_type}"[:1000])
    if content.context_wamid is None and (context := payloads.context_wamid(message)):
        content = InboundContent(**{**content.__dict__, "context_wamid": context})
    return content
