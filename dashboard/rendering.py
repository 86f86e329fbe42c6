"""How a stored message reads in the dashboard: its kind, text, media, location, contacts, order...

Everything is read from the message's `payload` (the webhook's message object for inbound messages,
the request body we posted for outbound ones) with whatsapp.payloads, Meta's shapes' one parser,
falling back to the contract's columns (`message`, `media_type`, `media_url`, `caption`) for rows
written without a payload. What is left here is presentation: how each kind reads for the seller.
"""

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode, urlsplit

from django.utils.html import escape
from django.utils.safestring import mark_safe

from whatsapp import payloads

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
    "products": ("🛍", "Products"),
    "buttons": ("🔘", "Message with reply buttons"),
    "button": ("↩", "Button reply"),
    "template": ("📋", "Template"),
    "system": ("ℹ", "Notice"),
    "unsupported": ("⚠", "Unsupported message"),
}


# The interactive product messages we send, and what the thread calls them.
PRODUCT_MESSAGE_TYPES = {"product": "Product", "product_list": "Product list", "catalog_message": "Catalog"}


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
class Described:
    """What the dashboard shows for one message."""

    kind: str  # text, image, video, audio, document, sticker, location, contacts, order, reaction...
    text: str = ""  # the body (or caption for media)
    media: Media | None = None
    location: payloads.Location | None = None  # with both coordinates
    contacts: list = field(default_factory=list)  # [payloads.Contact], each with a name to show
    cart: payloads.Cart | None = None
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
    def map_url(self):
        latitude, longitude = f"{self.location.latitude:.6f}", f"{self.location.longitude:.6f}"
        query = urlencode({"mlat": latitude, "mlon": longitude})
        return f"https://www.openstreetmap.org/?{query}#map=17/{latitude}/{longitude}"

    @property
    def location_url(self):
        """The web address shared with the location, when a browser may follow it."""
        return safe_url(self.location.url) if self.location else None

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
    if message.direction == "inbound" and message.error_title:
        # Meta could not deliver it (whatsapp.inbound): the stored sentence says what happened.
        return Described(kind="unsupported", text=message.message or message.error_title)
    body = payload.get(kind)
    describer = DESCRIBERS.get(kind)
    if describer is not None:
        return describer(message, body, kind)
    # A type we do not know (Meta adds some): its message text, which intake always fills.
    return Described(kind=kind, text=message.message or "", detail=kind)


# Messages an order can be read out of: a text, and a photo's, video's, voice note's or document's caption.
READABLE_KINDS = ("text", "image", "video", "audio", "document")


def readable_text(message, described=None):
    """The words of a customer's message that "Make an order from this" reads, or "" when it has none."""
    if message.direction != "inbound":
        return ""
    described = described or describe(message)
    return described.text.strip() if described.kind in READABLE_KINDS else ""


def _text(message, body, kind):
    return Described(kind="text", text=payloads.body_text(body) or message.message or "")


def _media(message, body, kind):
    sent = payloads.media(body)
    caption = message.caption or sent.caption
    media = Media(
        kind=kind,
        available=bool(message.media_url),
        mime_type=message.media_mime_type or sent.mime_type,
        filename=sent.filename,
        voice=kind == "audio" and sent.voice,
    )
    text = caption or ""
    # Rows without a payload keep the caption (or a placeholder) in `message`.
    if not text and message.message and not message.payload and message.message != kind:
        text = message.message
    return Described(kind=kind, text=text, media=media)


def _location(message, body, kind):
    location = payloads.location(body)
    if location.latitude is None:
        return Described(kind="location", text=message.message or "")
    return Described(kind="location", location=location)


def _contacts(message, body, kind):
    cards = [
        replace(card, name=card.name or (card.phones[0].number if card.phones else "Contact"))
        for card in payloads.contacts(body)
    ]
    return Described(kind="contacts", contacts=cards, text="" if cards else message.message or "")


def _order(message, body, kind):
    cart = payloads.cart(body)
    return Described(kind="order", text=cart.note or "", cart=cart)


def _reaction(message, body, kind):
    return Described(kind="reaction", emoji=payloads.reaction(body).emoji or "")


def _interactive(message, body, kind):
    if isinstance(body, dict) and body.get("type") in PRODUCT_MESSAGE_TYPES:
        # One we sent: its row's text names the products (whatsapp.send wrote them from the catalog).
        return Described(kind="products", text=message.message or "", detail=PRODUCT_MESSAGE_TYPES[body["type"]])
    sent = payloads.reply_buttons(body)
    if sent is not None:  # one we sent: its text and the buttons the customer can tap
        return Described(
            kind="buttons", text=sent.body or message.message or "", buttons=sent.titles, detail=sent.footer
        )
    reply = payloads.reply(body)
    return Described(kind="interactive", text=reply.title or message.message or "", detail=reply.description)


def _button(message, body, kind):
    return Described(kind="button", text=payloads.button_text(body) or message.message or "")


def _template(message, body, kind):
    return Described(kind="template", text=message.message or "", detail=payloads.template_name(body))


def _system(message, body, kind):
    return Described(kind="system", text=payloads.system(body).body or message.message or "")


def _unsupported(message, body, kind):
    return Described(
        kind="unsupported",
        text=payloads.first_error_title(message.payload) or "This message type cannot be shown here.",
        detail=payloads.unsupported_kind(body),
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


# WhatsApp's formatting in a bubble: *bold*, _italic_, ~strike~, ```monospace``` and web links.

_MONO = re.compile(r"```(.+?)```", re.S)
_URL = re.compile(r"\bhttps?://[^\s<>\"'`]+", re.I)
_URL_TRAILING = ".,;:!?)]}'\""
# A marker opens after a start, a space or punctuation and before a non-space; it closes after a non-space
# and before an end, a space or punctuation (so snake_case_names and 2*3*4 stay as they are).
_STYLES = [
    (
        re.compile(
            rf"(?<![\w{re.escape(mark)}]){re.escape(mark)}(?=\S)([^\n]*?\S){re.escape(mark)}(?![\w{re.escape(mark)}])"
        ),
        tag,
    )
    for mark, tag in (("*", "strong"), ("_", "em"), ("~", "s"))
]


def whatsapp_markup(text):
    """`text` as safe HTML with WhatsApp's formatting. Every piece of the text is escaped first and only then
    wrapped in tags of ours, so nothing the customer wrote can become markup."""
    pieces = []
    position = 0
    for match in _MONO.finditer(text or ""):
        pieces.append(_styled(text[position : match.start()]))
        pieces.append(f"<code>{escape(match.group(1))}</code>")
        position = match.end()
    pieces.append(_styled((text or "")[position:]))
    return mark_safe("".join(pieces).replace("\n", "<br>"))  # noqa: S308 (built from escaped pieces only)


def _styled(text):
    """Escaped text with its links made clickable and its bold, italic and strike-through applied."""
    pieces = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_URL_TRAILING)
        pieces.append(_emphasis(escape(text[position : match.start()])))
        pieces.append(f'<a href="{escape(url)}" target="_blank" rel="noopener nofollow">{escape(url)}</a>')
        position = match.start() + len(url)
    pieces.append(_emphasis(escape(text[position:])))
    return "".join(pieces)


def _emphasis(escaped):
    for pattern, tag in _STYLES:
        escaped = pattern.sub(rf"<{tag}>\1</{tag}>", escaped)
    return escaped
