"""How a stored message reads in the dashboard: its kind, text, media, location, contacts, order...

Everything is taken from the message's `payload` as Meta shapes it (the webhook's message object
for inbound messages, the request body we posted for outbound ones), falling back to the contract's
columns (`message`, `media_type`, `media_url`, `caption`) for rows written without a payload.
Payloads come from outside: every lookup here tolerates a missing or oddly typed field.
"""

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode, urlsplit

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")

# (icon, label) shown in previews and for media without a caption.
KIND_LABELS = {
    "image": ("📷", "Photo"),
    "video": ("🎥", "Video"),
    "audio": ("🎵", "Audio"),
    "voice": ("🎤", "Voice message"),
    "document": ("📄", "Document"),
    "sticker": ("💟", "Sticker"),
    "location": ("📍", "Location"),
    "contacts": ("👤", "Contact"),
    "order": ("🛒", "Order"),
    "reaction": ("❤", "Reaction"),
    "interactive": ("↩", "Reply"),
    "buttons": ("🔘", "Message with reply buttons"),
    "button": ("↩", "Button reply"),
    "template": ("📋", "Template"),
    "system": ("ℹ", "Notice"),
    "unsupported": ("⚠", "Unsupported message"),
}


def dig(data, *path):
    """data[path[0]][path[1]]... or None when any step is missing or not a mapping/list."""
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def text_at(data, *path):
    value = dig(data, *path)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) and value.strip() else None


def safe_url(url):
    """`url` if a browser may follow it from our pages (http, https or a path on this site), else None."""
    if not isinstance(url, str) or not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme in ("http", "https") and parts.netloc:
        return url.strip()
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url.strip()
    return None


@dataclass
class Media:
    """A message's media. Pages show it through the message_media view, which checks who asks."""

    kind: str
    available: bool  # downloaded (or, outbound, stored): media_url is set
    mime_type: str | None = None
    filename: str | None = None
    voice: bool = False


@dataclass
class Location:
    latitude: float
    longitude: float
    name: str | None
    address: str | None
    url: str | None

    @property
    def map_url(self):
        query = urlencode({"mlat": f"{self.latitude:.6f}", "mlon": f"{self.longitude:.6f}"})
        return f"https://www.openstreetmap.org/?{query}#map=17/{self.latitude:.6f}/{self.longitude:.6f}"


@dataclass
class Contact:
    name: str
    phones: list = field(default_factory=list)  # [(label, number, wa_id)]
    emails: list = field(default_factory=list)
    organization: str | None = None


@dataclass
class OrderLine:
    product: str
    quantity: int
    price: Decimal | None
    currency: str | None

    @property
    def total(self):
        return None if self.price is None else self.price * self.quantity


@dataclass
class Described:
    """What the dashboard shows for one message."""

    kind: str  # text, image, video, audio, document, sticker, location, contacts, order, reaction...
    text: str = ""  # the body (or caption for media)
    media: Media | None = None
    location: Location | None = None
    contacts: list = field(default_factory=list)
    order_lines: list = field(default_factory=list)
    emoji: str | None = None  # reactions; "" means the reaction was removed
    detail: str | None = None  # a second line: list-reply description, template name, unsupported type
    buttons: list = field(default_factory=list)  # the reply buttons' labels of an interactive message we sent

    @property
    def icon(self):
        if self.media and self.media.voice:
            return KIND_LABELS["voice"][0]
        return KIND_LABELS.get(self.kind, ("", ""))[0]

    @property
    def label(self):
        if self.media and self.media.voice:
            return KIND_LABELS["voice"][1]
        return KIND_LABELS.get(self.kind, ("", self.kind.title()))[1]

    @property
    def is_notice(self):
        return self.kind == "system"

    @property
    def order_total(self):
        totals = [line.total for line in self.order_lines]
        return sum(totals) if totals and None not in totals else None

    @property
    def order_currency(self):
        currencies = {line.currency for line in self.order_lines if line.currency}
        return currencies.pop() if len(currencies) == 1 else None

    def preview(self, limit=90):
        """One line for the inbox: icon and kind for media and the like, then the text."""
        if self.kind == "reaction":
            text = f"Reacted {self.emoji}" if self.emoji else "Removed a reaction"
        elif self.kind == "text":
            text = self.text
        elif self.kind == "location":
            place = self.location and (self.location.name or self.location.address)
            text = " · ".join(filter(None, [self.label, place]))
        elif self.kind == "document" and self.media and self.media.filename and not self.text:
            text = f"{self.icon} {self.media.filename}"
        elif self.kind == "contacts" and self.contacts:
            text = f"{self.icon} {', '.join(contact.name for contact in self.contacts)}"
        else:
            text = " ".join(filter(None, [self.icon, self.text or self.label]))
        text = " ".join(text.split())
        return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def describe(message):
    """The Described view of a message row."""
    payload = message.payload if isinstance(message.payload, dict) else {}
    kind = message.wa_type or payload.get("type") or None
    if not isinstance(kind, str) or not kind:
        media_type = message.media_type or "none"
        kind = media_type if media_type in MEDIA_KINDS else "text"
    body = payload.get(kind)
    describer = DESCRIBERS.get(kind)
    if describer is not None:
        return describer(message, body, kind)
    # A type we do not know (Meta adds some): its message text, which intake always fills.
    return Described(kind=kind, text=message.message or "", detail=kind)


def _text(message, body, kind):
    return Described(kind="text", text=text_at(body, "body") or message.message or "")


def _media(message, body, kind):
    caption = message.caption or text_at(body, "caption")
    media = Media(
        kind=kind,
        available=bool(message.media_url),
        mime_type=message.media_mime_type or text_at(body, "mime_type"),
        filename=text_at(body, "filename"),
        voice=kind == "audio" and dig(body, "voice") is True,
    )
    text = caption or ""
    # Rows without a payload keep the caption (or a placeholder) in `message`.
    if not text and message.message and not message.payload and message.message != kind:
        text = message.message
    return Described(kind=kind, text=text, media=media)


def _number(value):
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN


def _location(message, body, kind):
    latitude, longitude = _number(dig(body, "latitude")), _number(dig(body, "longitude"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return Described(kind="location", text=message.message or "")
    location = Location(
        latitude=latitude,
        longitude=longitude,
        name=text_at(body, "name"),
        address=text_at(body, "address"),
        url=safe_url(dig(body, "url")),
    )
    return Described(kind="location", location=location)


def _contact(card):
    name = text_at(card, "name", "formatted_name") or " ".join(
        filter(None, [text_at(card, "name", "first_name"), text_at(card, "name", "last_name")])
    )
    phones = [
        (text_at(phone, "type") or "", text_at(phone, "phone") or text_at(phone, "wa_id"), text_at(phone, "wa_id"))
        for phone in (dig(card, "phones") or [])
        if isinstance(phone, dict) and (text_at(phone, "phone") or text_at(phone, "wa_id"))
    ]
    emails = [text_at(email, "email") for email in (dig(card, "emails") or []) if text_at(email, "email")]
    organization = " · ".join(filter(None, [text_at(card, "org", "company"), text_at(card, "org", "title")])) or None
    return Contact(
        name=name or (phones[0][1] if phones else "Contact"), phones=phones, emails=emails, organization=organization
    )


def _contacts(message, body, kind):
    cards = [_contact(card) for card in (body if isinstance(body, list) else []) if isinstance(card, dict)]
    return Described(kind="contacts", contacts=cards, text="" if cards else message.message or "")


def _decimal(value):
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _order(message, body, kind):
    lines = []
    for item in dig(body, "product_items") or []:
        quantity = dig(item, "quantity")
        if isinstance(quantity, str) and quantity.isdigit():
            quantity = int(quantity)
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            continue
        lines.append(
            OrderLine(
                product=text_at(item, "product_retailer_id") or "Item",
                quantity=quantity,
                price=_decimal(dig(item, "item_price")),
                currency=text_at(item, "currency"),
            )
        )
    return Described(kind="order", text=text_at(body, "text") or "", order_lines=lines)


def _reaction(message, body, kind):
    emoji = dig(body, "emoji")
    return Described(kind="reaction", emoji=emoji if isinstance(emoji, str) else "")


def _interactive(message, body, kind):
    reply_type = text_at(body, "type") or ""
    if reply_type == "button":  # one we sent: its text and the buttons the customer can tap
        buttons = [text_at(button, "reply", "title") for button in dig(body, "action", "buttons") or []]
        return Described(
            kind="buttons",
            text=text_at(body, "body", "text") or message.message or "",
            buttons=[title for title in buttons if title],
            detail=text_at(body, "footer", "text"),
        )
    reply = dig(body, reply_type) if reply_type else None
    title = text_at(reply, "title") or text_at(body, "nfm_reply", "body") or message.message or ""
    return Described(kind="interactive", text=title, detail=text_at(reply, "description"))


def _button(message, body, kind):
    return Described(kind="button", text=text_at(body, "text") or text_at(body, "payload") or message.message or "")


def _template(message, body, kind):
    return Described(kind="template", text=message.message or "", detail=text_at(body, "name"))


def _system(message, body, kind):
    return Described(kind="system", text=text_at(body, "body") or message.message or "")


def _unsupported(message, body, kind):
    reason = text_at(message.payload, "errors", 0, "title") if isinstance(message.payload, dict) else None
    return Described(
        kind="unsupported", text=reason or "This message type cannot be shown here.", detail=text_at(body, "type")
    )


DESCRIBERS = {
    "text": _text,
    **dict.fromkeys(MEDIA_KINDS, _media),
    "location": _location,
    "contacts": _contacts,
    "order": _order,
    "reaction": _reaction,
    "interactive": _interactive,
    "button": _button,
    "template": _template,
    "system": _system,
    "unsupported": _unsupported,
}
