"""Reading Meta's message objects: the one parser of what a message's payload holds, whatever its type.

Intake (whatsapp.inbound), the dashboard's rendering and orders' carts read payloads through these
functions only. Payloads come from outside: each function takes any JSON value and never raises,
returning None (or an empty value) for what is missing or not of the documented type.
Shapes follow Meta's webhook reference (webhooks/reference/messages/*) and, for what we send, the
Cloud API's message objects.
"""

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

# A number written as a string ("12", "8.50"), as Meta's reference quotes a cart's values: plain
# decimals only, never "NaN", "Infinity", "1e400" or "1_000".
_DECIMAL_STRING = re.compile(r"-?\d{1,30}(\.\d{1,30})?")


def text(value):
    """A stripped non-empty string, or None (numbers are not texts)."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def number(value):
    """A JSON number (or a string spelling one in plain decimals) as an exact Decimal, or None.

    Booleans are not numbers (JSON's true arrives as Python's True, an int), nor are NaN and the
    infinities: Meta sends none of them.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _DECIMAL_STRING.fullmatch(value.strip()):
        return Decimal(value.strip())
    return None


def whole_number(value):
    """`number(value)` as an int when it is whole (2 and 2.0, not 2.5), else None."""
    found = number(value)
    return int(found) if found is not None and found == found.to_integral_value() else None


def _get(data, *path):
    """data[path[0]][path[1]]... or None when a step is missing or not an object (a list for an int)."""
    for key in path:
        if isinstance(data, dict) and isinstance(key, str):
            data = data.get(key)
        elif isinstance(data, list) and isinstance(key, int) and -len(data) <= key < len(data):
            data = data[key]
        else:
            return None
    return data


def _objects(value):
    """The objects of a JSON array (anything else in it skipped); [] when `value` is not an array."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def context_wamid(message):
    """The id of the message this one replies to (a message object's `context`), or None."""
    return text(_get(message, "context", "id"))


def first_error_title(message):
    """The title of the first of a message's `errors` (Meta's reason an unsupported message is one)."""
    return text(_get(message, "errors", 0, "title"))


class Error(NamedTuple):
    code: int | None
    title: str  # Meta's title, else its message
    details: str | None  # `error_data.details`


def first_error(errors):
    """The first of an `errors` array (a message's, a value's, a status's) that says something, or None."""
    for error in _objects(errors):
        title = text(error.get("title")) or text(error.get("message"))
        code = whole_number(error.get("code")) if not isinstance(error.get("code"), str) else None
        if title or code is not None:
            return Error(
                code=code if code is not None and abs(code) < 2**31 else None,
                title=title or "Unknown error",
                details=text(_get(error, "error_data", "details")),
            )
    return None


def body_text(body):
    """A text message's body (`text.body`)."""
    return text(_get(body, "body"))


@dataclass(frozen=True)
class Media:
    """An image, video, audio, document or sticker: the asset's id to download, and how it is shown."""

    id: str | None
    mime_type: str | None
    caption: str | None
    filename: str | None
    voice: bool  # an audio recorded as a voice note
    animated: bool  # an animated sticker


def media(body):
    return Media(
        id=text(_get(body, "id")),
        mime_type=text(_get(body, "mime_type")),
        caption=text(_get(body, "caption")),
        filename=text(_get(body, "filename")),
        voice=_get(body, "voice") is True,
        animated=_get(body, "animated") is True,
    )


@dataclass(frozen=True)
class Location:
    latitude: float | None  # both coordinates, in range, or neither
    longitude: float | None
    name: str | None
    address: str | None
    url: str | None  # as sent: check it before linking to it


def location(body):
    latitude, longitude = number(_get(body, "latitude")), number(_get(body, "longitude"))
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        latitude = longitude = None
    return Location(
        latitude=None if latitude is None else float(latitude),
        longitude=None if longitude is None else float(longitude),
        name=text(_get(body, "name")),
        address=text(_get(body, "address")),
        url=text(_get(body, "url")),
    )


class Phone(NamedTuple):
    label: str  # "MOBILE", "WORK"...; "" when not said
    number: str  # as written on the card, else the WhatsApp id
    wa_id: str | None  # set when the number is on WhatsApp


@dataclass(frozen=True)
class Contact:
    """A shared contact card."""

    name: str | None  # the formatted name, else first and last
    phones: list = field(default_factory=list)  # [Phone]
    emails: list = field(default_factory=list)
    organization: str | None = None


def _contact(card):
    name = text(_get(card, "name", "formatted_name")) or " ".join(
        filter(None, [text(_get(card, "name", "first_name")), text(_get(card, "name", "last_name"))])
    )
    phones = [
        Phone(text(phone.get("type")) or "", number, text(phone.get("wa_id")))
        for phone in _objects(_get(card, "phones"))
        if (number := text(phone.get("phone")) or text(phone.get("wa_id")))
    ]
    emails = [email for card_email in _objects(_get(card, "emails")) if (email := text(card_email.get("email")))]
    organization = " · ".join(filter(None, [text(_get(card, "org", "company")), text(_get(card, "org", "title"))]))
    return Contact(name=name or None, phones=phones, emails=emails, organization=organization or None)


def contacts(body):
    """The cards of a `contacts` message (its body is the array of cards)."""
    return [_contact(card) for card in _objects(body)]


@dataclass(frozen=True)
class Reply:
    """A customer's answer to an interactive message: a tapped reply button, a list row, a submitted form."""

    kind: str | None  # "button_reply", "list_reply", "nfm_reply", or a kind Meta adds later
    id: str | None  # the id we gave the button or row
    title: str | None  # the button's or row's title; a form's body, else its name
    description: str | None  # a list row's description


def reply(body):
    """The reply of an inbound `interactive` message."""
    kind = text(_get(body, "type"))
    answer = _get(body, kind) if kind else None
    return Reply(
        kind=kind,
        id=text(_get(answer, "id")),
        title=text(_get(answer, "title")) or text(_get(answer, "body")) or text(_get(answer, "name")),
        description=text(_get(answer, "description")),
    )


@dataclass(frozen=True)
class ReplyButtons:
    """An interactive message with reply buttons, as we send it."""

    body: str | None
    header: str | None
    footer: str | None
    titles: list  # the buttons' titles, in order


def reply_buttons(body):
    """The content of an outbound `interactive` message of type "button", or None for another kind."""
    if text(_get(body, "type")) != "button":
        return None
    buttons = _get(body, "action", "buttons")
    return ReplyButtons(
        body=text(_get(body, "body", "text")),
        header=text(_get(body, "header", "text")),
        footer=text(_get(body, "footer", "text")),
        titles=[title for button in _objects(buttons) if (title := text(_get(button, "reply", "title")))],
    )


def button_text(body):
    """What a tapped template quick-reply button (a `button` message) says: its text, else its payload."""
    return text(_get(body, "text")) or text(_get(body, "payload"))


class Reaction(NamedTuple):
    message_id: str | None  # the message reacted to
    emoji: str | None  # None: the customer took their reaction back


def reaction(body):
    return Reaction(text(_get(body, "message_id")), text(_get(body, "emoji")))


def template_name(body):
    """The name of a template we sent."""
    return text(_get(body, "name"))


class System(NamedTuple):
    kind: str | None  # "user_changed_number", "user_changed_user_id"...
    body: str | None  # Meta's sentence about it


def system(body):
    return System(text(_get(body, "type")), text(_get(body, "body")))


def unsupported_kind(body):
    """What Meta calls the message type it does not support (`unsupported.type`, e.g. "edit")."""
    return text(_get(body, "type"))


class CartLine(NamedTuple):
    product_retailer_id: str
    quantity: int  # at least 1
    price: Decimal | None  # the unit price (`item_price`), None when not a number
    currency: str  # "" when not said

    @property
    def total(self):
        return None if self.price is None else self.price * self.quantity


@dataclass(frozen=True)
class Cart:
    """The body of an `order` message: the products a customer put in their cart, and their note."""

    lines: list  # [CartLine]
    note: str | None

    @property
    def currency(self):
        """The currency the lines are priced in, or None when they name none or several."""
        currencies = {line.currency for line in self.lines if line.currency}
        return next(iter(currencies)) if len(currencies) == 1 else None

    @property
    def total(self):
        """What the lines cost together, or None when a price is missing or the currencies differ."""
        currencies = {line.currency for line in self.lines if line.currency}
        totals = [line.total for line in self.lines]
        if not totals or None in totals or len(currencies) > 1:
            return None
        return sum(totals)


def cart_lines(body):
    """The lines of a cart: those that say which product and how many (a whole number, at least 1).

    Any other entry of `product_items` is no line, for the message's text, its page and its draft order alike.
    """
    lines = []
    for item in _objects(_get(body, "product_items")):
        product, quantity = text(item.get("product_retailer_id")), whole_number(item.get("quantity"))
        if product is not None and quantity is not None and quantity >= 1:
            lines.append(CartLine(product, quantity, number(item.get("item_price")), text(item.get("currency")) or ""))
    return lines


def cart(body):
    return Cart(lines=cart_lines(body), note=text(_get(body, "text")))
