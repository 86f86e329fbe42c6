"""The customer's side of WhatsApp, played by the fake Graph API through its control API (/_fake/).

A sandbox customer's message goes to the fake, which posts it to this app's webhook signed, exactly
as Meta would; the fake also keeps what the customer's phone shows, and can make the next sends fail.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings

from crm.phones import to_e164
from fakegraph.server import FAILURES

TIMEOUT = 10


class SandboxError(Exception):
    """The fake Graph API is not reachable or refused the request; str() says what to do."""


@dataclass(frozen=True)
class ChatMessage:
    wamid: str
    from_customer: bool
    type: str
    text: str
    media_id: str
    status: str
    sent_at: datetime
    buttons: tuple = ()  # (id, title) of the reply buttons under a message from the shop
    products: tuple = ()  # (section title, (CatalogProduct...)) of a product message from the shop
    review_and_pay: object = None  # ReviewAndPay of an order_details message from the shop


@dataclass(frozen=True)
class ReviewAndPay:
    """What the customer reviews and pays under an order_details message, and how their payment went."""

    total: str  # "INR 210.00"
    paid: str  # "" (not yet), "success", "pending" or "failed"


@dataclass(frozen=True)
class CatalogProduct:
    """A product of the shop's Meta catalog as the customer's phone shows it."""

    retailer_id: str
    name: str
    price: str  # as Meta formats it, with its currency ("$25.50")
    currency: str
    in_stock: bool
    description: str = ""


@dataclass(frozen=True)
class FailureChoice:
    label: str
    error: str  # the fake Graph API's failure kind
    every_attempt: bool = False  # fail each retry too, so that the message fails
    later: bool = False  # accept the send, then report it failed by status webhook, as Meta often does


# The failures a person can ask for.
FAILURE_CHOICES = {
    "500": FailureChoice("Server error (HTTP 500): retried, then given up", "500", every_attempt=True),
    "429": FailureChoice("Rate limit hit (HTTP 429, #130429): retried, then given up", "429", every_attempt=True),
    "timeout": FailureChoice(
        "No answer (timeout): retried, then given up; takes a few seconds", "timeout", every_attempt=True
    ),
    "190": FailureChoice("Access token expired (#190): not retried", "190"),
    "131047": FailureChoice("More than 24 hours since the customer wrote (#131047): not retried", "131047"),
    "131026": FailureChoice("Message undeliverable (#131026): not retried", "131026"),
    "131026-later": FailureChoice(
        "Message undeliverable, reported after it was sent (#131026 by webhook)", "131026", later=True
    ),
    "500-once": FailureChoice("One server error (HTTP 500): the automatic retry gets the message through", "500"),
}
assert all(choice.error in FAILURES for choice in FAILURE_CHOICES.values())


def _control(method, path, **kwargs):
    url = settings.WHATSAPP_GRAPH_URL.rstrip("/") + "/_fake/" + path
    try:
        response = requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.RequestException:
        raise SandboxError(
            f"The fake Graph API is not answering at {settings.WHATSAPP_GRAPH_URL}. "
            "Start it with `python manage.py run_fake_graph` (make run starts it for you)."
        ) from None
    if not response.ok:
        raise SandboxError(f"The fake Graph API refused the request: {response.text[:300]}")
    return response


def wa_id(phone):
    """WhatsApp's id for a phone number: its E.164 digits without the plus."""
    return to_e164(phone).lstrip("+")


def connect_number(configuration, webhook_url):
    """Tell the fake where this number's webhooks go (this app's own webhook) and how it is shown."""
    _control(
        "POST",
        "phone_numbers",
        json={
            "phone_number_id": configuration.phone_number_id,
            "display_phone_number": configuration.whatsapp_number,
            "business_account_id": configuration.business_account_id or "",
            "webhook_url": webhook_url,
        },
    )


def send_as_customer(configuration, phone, name, *, text="", image=None):
    """The customer writes (text, or an image with `text` as its caption); returns the message's wamid."""
    message = {"phone_number_id": configuration.phone_number_id, "wa_id": wa_id(phone), "name": name}
    if image is not None:
        media_id = _control("POST", "media", data=image.read(), headers={"Content-Type": image.content_type}).json()[
            "id"
        ]
        message.update({"media_id": media_id, "caption": text or None})
    else:
        message["text"] = text
    return _control("POST", "customer_messages", json=message).json()["wamid"]


def conversation(configuration, phone):
    """The chat as the customer's phone shows it, oldest first; product messages with their products."""
    params = {"phone_number_id": configuration.phone_number_id, "wa_id": wa_id(phone)}
    messages = _control("GET", "conversation", params=params).json()["messages"]
    products = catalog(configuration) if any(m.get("products") for m in messages) else {}
    return [
        ChatMessage(
            wamid=m["wamid"],
            from_customer=m["from_customer"],
            type=m["type"],
            text=m.get("text") or "",
            media_id=m.get("media_id") or "",
            status=m["status"],
            sent_at=datetime.fromtimestamp(m["timestamp"], UTC),
            buttons=tuple((b["id"], b["title"]) for b in m.get("buttons") or []),
            review_and_pay=_review_and_pay(m),
            products=tuple(
                (
                    section["title"],
                    tuple(
                        products[retailer_id]
                        for retailer_id in (section["product_retailer_ids"] or products)
                        if retailer_id in products
                    ),
                )
                for section in m.get("products") or []
            ),
        )
        for m in messages
    ]


def _review_and_pay(message):
    details = message.get("order_details")
    if not details:
        return None
    total = details["total_amount"]
    amount = f"{details['currency']} {total['value'] // total['offset']}.{total['value'] % total['offset']:02d}"
    return ReviewAndPay(total=amount, paid=message.get("payment_status") or "")


def pay(configuration, phone, wamid, outcome):
    """The customer pays the order_details message `wamid` ("success"), or fails to ("failed")."""
    return _control(
        "POST",
        "customer_payments",
        json={
            "phone_number_id": configuration.phone_number_id,
            "wa_id": wa_id(phone),
            "wamid": wamid,
            "outcome": outcome,
        },
    ).json()["transaction_id"]


def catalog(configuration):
    """{retailer id: CatalogProduct} of the Meta catalog linked to the shop's number (empty without one)."""
    if not configuration.catalog_id:
        return {}
    return {
        item["retailer_id"]: CatalogProduct(
            retailer_id=item["retailer_id"],
            name=item.get("name", ""),
            price=item.get("price", ""),
            currency=item.get("currency", ""),
            in_stock=item.get("availability", "in stock") == "in stock",
            description=item.get("description", ""),
        )
        for item in _control("GET", f"catalogs/{configuration.catalog_id}").json()["data"]
    }


def send_cart(configuration, phone, name, items, *, text=""):
    """The customer sends their cart, [(retailer id, quantity)], as Meta's `order` message; returns its wamid."""
    if not configuration.catalog_id:
        raise SandboxError("The shop's number has no Meta catalog linked, so there is nothing to order from.")
    order = {
        "phone_number_id": configuration.phone_number_id,
        "wa_id": wa_id(phone),
        "name": name,
        "catalog_id": configuration.catalog_id,
        "product_items": [{"product_retailer_id": sku, "quantity": quantity} for sku, quantity in items],
        "text": text,
    }
    return _control("POST", "customer_orders", json=order).json()["wamid"]


def tap_button(configuration, phone, wamid, button_id):
    """The customer taps a reply button under the shop's message `wamid`; returns the reply's wamid."""
    return _control(
        "POST",
        "customer_replies",
        json={
            "phone_number_id": configuration.phone_number_id,
            "wa_id": wa_id(phone),
            "wamid": wamid,
            "button_id": button_id,
        },
    ).json()["wamid"]


def mark_seen(configuration, phone):
    """The customer has the chat open: the shop's messages turn read (and Meta reports it)."""
    _control("POST", "customer_reads", json={"phone_number_id": configuration.phone_number_id, "wa_id": wa_id(phone)})


def make_sends_fail(choice, messages):
    """Make the next `messages` message sends fail as `choice` (a FAILURE_CHOICES key) describes."""
    failure = FAILURE_CHOICES[choice]
    calls = messages * (settings.WHATSAPP_GRAPH_MAX_ATTEMPTS if failure.every_attempt else 1)
    _control(
        "POST", "failures", json={"count": calls, "error": failure.error, "sends_only": True, "later": failure.later}
    )


def pending_failures():
    return _control("GET", "failures").json()["pending"]


def clear_failures():
    _control("DELETE", "failures")


def media(media_id):
    """The bytes and MIME type of media the fake holds (sent by the shop or by a customer)."""
    response = _control("GET", f"media/{media_id}")
    return response.content, response.headers.get("Content-Type", "application/octet-stream")
