"""What an inbound WhatsApp message says, in words an agent can read, whatever its type.

`describe(message)` turns one object of a webhook's `messages` array (as Meta sends it) into the
fields of a message row: a readable `message` (never empty), the contract's `media_type`, a caption,
the replied-to or reacted-to message id and the media to download. Pure functions: no database.
Shapes follow Meta's webhook reference (webhooks/reference/messages/*).
"""

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

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


def _text(value):
    """A stripped non-empty string, or None."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _object(message, key):
    value = message.get(key)
    if not isinstance(value, dict):
        raise MalformedMessage(f"a {message.get('type')!r} message needs a {key!r} object")
    return value


def _context_wamid(message):
    context = message.get("context")
    return _text(context.get("id")) if isinstance(context, dict) else None


def _with_caption(label, caption):
    return f"{label}: {caption}" if caption else label


def _text_message(message):
    body = _object(message, "text").get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedMessage("a text message's body must be a string")
    return InboundContent("text", _text(body) or "(empty message)")


def _media_message(message):
    wa_type = message["type"]
    media = _object(message, wa_type)
    caption = _text(media.get("caption"))
    if wa_type == "audio":
        label = "Voice message" if media.get("voice") is True else "Audio"
    elif wa_type == "document":
        filename = _text(media.get("filename"))
        label = f"Document ({filename})" if filename else "Document"
    elif wa_type == "sticker":
        label = "Animated sticker" if media.get("animated") is True else "Sticker"
    else:
        label = wa_type.capitalize()
    return InboundContent(
        wa_type,
        _with_caption(label, caption),
        media_type=MEDIA_TYPES[wa_type],
        caption=caption,
        media_id=_text(media.get("id")),
        media_mime_type=_text(media.get("mime_type")),
    )


def _number(value):
    """A JSON number a float can hold, or None (JSON integers have no size limit)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return value if math.isfinite(float(value)) else None
    except OverflowError:
        return None


def _location_message(message):
    location = _object(message, "location")
    place = ", ".join(part for part in (_text(location.get("name")), _text(location.get("address"))) if part)
    latitude, longitude = _number(location.get("latitude")), _number(location.get("longitude"))
    if latitude is not None and longitude is not None:
        place = f"{place} ({latitude:.6f}, {longitude:.6f})".strip()
    return InboundContent("location", "Location: " + (place or "shared a location"))


def _contact_line(contact):
    if not isinstance(contact, dict):
        return None
    name = contact.get("name") if isinstance(contact.get("name"), dict) else {}
    full_name = _text(name.get("formatted_name")) or " ".join(
        part for part in (_text(name.get("first_name")), _text(name.get("last_name"))) if part
    )
    phones = contact.get("phones") if isinstance(contact.get("phones"), list) else []
    phones = [_text(phone.get("phone")) or _text(phone.get("wa_id")) for phone in phones if isinstance(phone, dict)]
    details = ", ".join(phone for phone in phones if phone)
    if full_name and details:
        return f"{full_name} ({details})"
    return full_name or details or None


def _contacts_message(message):
    contacts = message.get("contacts")
    if not isinstance(contacts, list):
        raise MalformedMessage("a 'contacts' message needs a 'contacts' list")
    lines = [line for line in map(_contact_line, contacts) if line]
    label = "Contact" if len(contacts) == 1 else f"{len(contacts)} contacts"
    return InboundContent("contacts", f"{label}: " + "; ".join(lines) if lines else f"{label} shared")


def _interactive_message(message):
    interactive = _object(message, "interactive")
    kind = _text(interactive.get("type")) or "unknown"
    reply = interactive.get(kind) if isinstance(interactive.get(kind), dict) else {}
    title = _text(reply.get("title"))
    if kind == "button_reply" and title:
        text = f"Button reply: {title}"
    elif kind == "list_reply" and title:
        description = _text(reply.get("description"))
        text = f"List reply: {title}" + (f" ({description})" if description else "")
    elif kind == "nfm_reply":
        text = "Form reply: " + (_text(reply.get("body")) or _text(reply.get("name")) or "submitted")
    else:
        text = f"Interactive reply ({kind})" + (f": {title}" if title else "")
    return InboundContent("interactive", text, context_wamid=_context_wamid(message))


def _button_message(message):
    button = _object(message, "button")
    label = _text(button.get("text")) or _text(button.get("payload"))
    if label is None:
        raise MalformedMessage("a 'button' message needs the button's text")
    return InboundContent("button", f"Button: {label}", context_wamid=_context_wamid(message))


def _reaction_message(message):
    reaction = _object(message, "reaction")
    target = _text(reaction.get("message_id"))
    if target is None:
        raise MalformedMessage("a reaction needs the id of the message it reacts to")
    emoji = _text(reaction.get("emoji"))
    # Meta sends a reaction without an emoji when the customer takes theirs back.
    text = f"Reacted {emoji}" if emoji else "Removed a reaction"
    return InboundContent("reaction", text, context_wamid=target)


def cart_lines(order):
    """The lines of an `order` object: [(product_retailer_id, quantity, unit price, currency)].

    Prices come as JSON numbers; they are returned as Decimals (exact for money). Lines that do not
    say what and how many are left out.
    """
    items = order.get("product_items") if isinstance(order, dict) else None
    lines = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        product, quantity = _text(item.get("product_retailer_id")), _number(item.get("quantity"))
        if product is None or quantity is None or quantity <= 0:
            continue
        try:
            price = Decimal(str(_number(item.get("item_price")) or 0))
        except InvalidOperation:
            price = Decimal(0)
        lines.append((product, int(quantity), price, _text(item.get("currency")) or ""))
    return lines


def _order_message(message):
    order = _object(message, "order")
    lines = cart_lines(order)
    if not lines:
        raise MalformedMessage("an order needs at least one product item with a quantity")
    currencies = {currency for *_, currency in lines}
    currency = f" {currencies.pop()}" if len(currencies) == 1 else ""
    items = "; ".join(f"{quantity} × {product} at {price}{currency}" for product, quantity, price, _ in lines)
    text = f"Order: {items}"
    if len(currencies) <= 1 and currency:
        total = sum(quantity * price for _, quantity, price, _ in lines)
        text += f". Total {total}{currency}"
    note = _text(order.get("text"))
    return InboundContent("order", text + (f". Note: {note}" if note else ""))


def _system_message(message):
    system = _object(message, "system")
    body = _text(system.get("body")) or f"System notice ({_text(system.get('type')) or 'unknown'})"
    return InboundContent("system", body)


def _unsupported_message(message):
    detail = message.get("unsupported") if isinstance(message.get("unsupported"), dict) else {}
    kind = _text(detail.get("type"))
    return InboundContent("unsupported", f"Unsupported message ({kind})" if kind else "Unsupported message")


HANDLERS = {
    "text": _text_message,
    **dict.fromkeys(MEDIA_TYPES, _media_message),
    "location": _location_message,
    "contacts": _contacts_message,
    "interactive": _interactive_message,
    "button": _button_message,
    "reaction": _reaction_message,
    "order": _order_message,
    "system": _system_message,
    "unsupported": _unsupported_message,
}


def describe(message):
    """The readable fields of one inbound message object (already passed through `clean`).

    An unknown type is kept as a placeholder naming it, never dropped.
    """
    wa_type = _text(message.get("type"))
    if wa_type is None:
        raise MalformedMessage("the message has no type")
    handler = HANDLERS.get(wa_type)
    if handler is None:
        return InboundContent(wa_type[:32], f"Unsupported message type: {wa_type}"[:1000])
    content = handler(message)
    if content.context_wamid is None and (context := _context_wamid(message)):
        content = InboundContent(**{**content.__dict__, "context_wamid": context})
    return content
