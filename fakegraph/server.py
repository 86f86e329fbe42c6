"""A local stand-in for Meta's Graph API (WhatsApp Cloud API), for the test suite and the demo.

It speaks Meta's JSON on the endpoints the app uses (send messages and read receipts, upload,
look up and download media, list message templates, list a commerce catalog's products), records
every request, can be told to fail the next calls the way Meta fails (429 with Retry-After, 500, a
timeout, a dropped connection, 190, 131047, 131026...), and plays the customers' side: a customer's
message (or tap on a reply button of the app's interactive message, or a cart) is posted to the app's
webhook signed with the app secret, exactly as Meta posts it, and each message the app sends moves
sent -> delivered -> read through status webhooks.

Run it with `manage.py run_fake_graph` (the demo does); tests get one from the `fake_graph`
fixture. Tests drive it through its methods; other processes (the sandbox page) through the
small JSON control API under /_fake/.

For fault tests it tells the two kinds of timeout apart, as a client meets them: `refuse_connections(seconds)`
stops accepting connections with its listen queue full, so a client's connect times out and nothing reaches it
(unambiguous); `fail_next(error="timeout_after_accepting")` accepts a message and never answers, so the client's
read timeout fires although the customer got it (ambiguous). `fail_at_random(rate, errors)` makes a share of
all calls fail with any of these, and `accepted_messages()` says what it really accepted.
"""

import base64
import copy
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import random
import re
import secrets
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

logger = logging.getLogger(__name__)

VERSION_PATTERN = re.compile(r"v\d+\.\d+")
DOWNLOAD_PATH = "/whatsapp_business/attachments/"

# The Cloud API's supported media (documentation/whatsapp/business-phone-numbers/media).
MB = 1024 * 1024
MEDIA_LIMITS = {
    "audio/aac": 16 * MB,
    "audio/amr": 16 * MB,
    "audio/mpeg": 16 * MB,
    "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB,
    "text/plain": 100 * MB,
    "application/pdf": 100 * MB,
    "application/vnd.ms-excel": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/msword": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
    "image/jpeg": 5 * MB,
    "image/png": 5 * MB,
    "image/webp": 500 * 1024,
    "video/3gpp": 16 * MB,
    "video/mp4": 16 * MB,
}
MEDIA_MESSAGE_TYPES = ("image", "video", "audio", "document", "sticker")


def meta_error(code, title, details=None, *, error_type="OAuthException"):
    """Meta's error body: {"error": {"message": "(#code) title", "type", "code", "error_data", "fbtrace_id"}}."""
    error = {"message": f"(#{code}) {title}", "type": error_type, "code": code}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


# What `fail_next(error=...)` makes the next calls answer: (HTTP status, body).
FAILURES = {
    "429": (429, (130429, "Rate limit hit", "Cloud API message throughput has been reached.")),
    "500": (500, (131000, "Something went wrong", "Message failed to send due to an unknown error.")),
    "503": (503, (2, "Service temporarily unavailable", "Temporary due to downtime or due to being overloaded.")),
    "190": (401, (190, "Access token has expired", "Your access token has expired. Get a new access token.")),
    "131047": (
        400,
        (
            131047,
            "Re-engagement message",
            "More than 24 hours have passed since the recipient last replied to the sender number.",
        ),
    ),
    "131026": (
        400,
        (
            131026,
            "Message Undeliverable",
            "Unable to deliver message. The recipient phone number is not a WhatsApp phone number, "
            "or has not accepted the latest Terms of Service.",
        ),
    ),
    "100": (400, (100, "Invalid parameter", "The request included one or more unsupported or misspelled parameters.")),
    "131009": (400, (131009, "Parameter value is not valid", "One or more parameter values are invalid.")),
    # No answer at all: the client's read timeout fires; or the connection is dropped. Nothing is accepted.
    "timeout": None,
    "connection": None,
    # The message is accepted (the customer gets it) but the answer never comes: the read timeout fires.
    "timeout_after_accepting": None,
}
# What fail_at_random() draws from by default; "connect_timeout" refuses the next connection (refuse_connections).
RANDOM_FAILURES = ("429", "500", "connect_timeout", "timeout_after_accepting")
FAILURE_CHOICES = tuple(FAILURES)

DEMO_TEMPLATES = [
    {
        "name": "hello_world",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "id": "900000000000001",
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Hello World"},
            {
                "type": "BODY",
                "text": "Welcome and congratulations!! This message demonstrates your ability to "
                "send a WhatsApp message notification from the Cloud API, hosted by Meta.",
            },
            {"type": "FOOTER", "text": "WhatsApp Business Platform sample message"},
        ],
    },
    {
        "name": "order_update",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "POSITIONAL",
        "id": "900000000000002",
        "components": [
            {
                "type": "BODY",
                "text": "Hi {{1}}, your order {{2}} is now {{3}}. Thank you for shopping with us!",
                "example": {"body_text": [["Maria", "#1042", "on its way"]]},
            },
            {"type": "FOOTER", "text": "Reply to this message if you have any question"},
        ],
    },
    {
        "name": "items_on_hold",
        "language": "en_US",
        "status": "APPROVED",
        "category": "UTILITY",
        "parameter_format": "NAMED",
        "id": "900000000000003",
        "components": [
            {
                "type": "BODY",
                "text": "Hello {{first_name}}, we are holding your items until {{date}}. "
                "Reply here to confirm your order.",
                "example": {
                    "body_text_named_params": [
                        {"param_name": "first_name", "example": "Pablo"},
                        {"param_name": "date", "example": "Friday"},
                    ]
                },
            },
        ],
    },
    {
        "name": "spring_sale",
        "language": "en_US",
        "status": "PENDING",
        "category": "MARKETING",
        "parameter_format": "POSITIONAL",
        "id": "900000000000004",
        "components": [
            {"type": "BODY", "text": "Our spring sale starts {{1}}!", "example": {"body_text": [["Monday"]]}},
        ],
    },
]

# The catalog every catalog id serves until set_catalog() says otherwise: Meta's product item fields
# (id, retailer_id, name, description, price formatted with its currency, currency, image_url, availability).
DEMO_CATALOG = [
    {
        "id": "7100000000000001",
        "retailer_id": "linen-shirt-m",
        "name": "Linen shirt (M)",
        "description": "Washed linen, relaxed fit.",
        "price": "$39.90",
        "currency": "USD",
        "image_url": "https://shop.example/img/linen-shirt.jpg",
        "availability": "in stock",
    },
    {
        "id": "7100000000000002",
        "retailer_id": "vase-blue",
        "name": "Blue vase",
        "description": "Hand-thrown stoneware, 25 cm.",
        "price": "$25.50",
        "currency": "USD",
        "image_url": "https://shop.example/img/vase-blue.jpg",
        "availability": "in stock",
    },
    {
        "id": "7100000000000003",
        "retailer_id": "gift-wrap",
        "name": "Gift wrap",
        "description": "Recycled paper and ribbon.",
        "price": "$3.00",
        "currency": "USD",
        "image_url": "",
        "availability": "out of stock",
    },
]
# Interactive product messages (documentation/whatsapp/catalogs/sell-products-and-services/share-products).
MAX_PRODUCT_LIST_SECTIONS = 10
MAX_PRODUCT_LIST_ITEMS = 30
PRODUCT_MESSAGE_TYPES = ("product", "product_list", "catalog_message")


def sign(body, app_secret):
    """The X-Hub-Signature-256 header value Meta sends: sha256=<hex HMAC-SHA256 of the raw body>."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def new_wamid():
    return "wamid.HBgL" + base64.b64encode(secrets.token_bytes(24)).decode()


def new_media_id():
    return str(10**15 + secrets.randbelow(9 * 10**15))


def digits(phone):
    return "".join(ch for ch in str(phone or "") if ch.isdigit())


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict
    authorization: str
    json: object = None
    form: dict = field(default_factory=dict)
    file: object = None  # (filename, content_type, content) of an upload
    at: float = field(default_factory=time.monotonic)  # when it arrived

    @property
    def endpoint(self):
        """The path without the version: "/1234/messages", "/1234/media", "/<media id>"."""
        parts = self.path.strip("/").split("/")
        return "/" + "/".join(parts[1:]) if parts and VERSION_PATTERN.fullmatch(parts[0]) else self.path


@dataclass
class Failure:
    error: str
    retry_after: object = None
    delay: float = 0.0
    path: str = ""
    sends_only: bool = False
    # Accept the send, then report the failure in a `failed` status webhook (as Meta does for 131026).
    later: bool = False

    def applies_to(self, request):
        if self.path not in request.path:
            return False
        return not (self.sends_only or self.later or self.error == "timeout_after_accepting") or (
            request.method == "POST"
            and request.path.endswith("/messages")
            and isinstance(request.json, dict)
            and request.json.get("status") != "read"
        )


@dataclass
class Chaos:
    """fail_at_random()'s settings, and the fate already drawn for the next call."""

    rate: float
    errors: tuple
    rng: random.Random
    retry_after: tuple
    connect_hold: float
    delay: float
    next_failure: object = None


class _Server(ThreadingHTTPServer):
    """The fake's HTTP server; while its door is closed (refuse_connections), it accepts no connection."""

    daemon_threads = True
    request_queue_size = 16

    def __init__(self, address, handler, fake):
        self.fake = fake
        super().__init__(address, handler)

    def get_request(self):
        self.fake._wait_until_the_door_opens()
        return super().get_request()


@dataclass
class Media:
    content: bytes
    mime_type: str
    phone_number_id: str = ""

    @property
    def sha256(self):
        return base64.b64encode(hashlib.sha256(self.content).digest()).decode()


class FakeGraphAPI:
    """The fake server and its state. start() serves it on a thread; stop() ends it."""

    def __init__(
        self, *, host="127.0.0.1", port=0, app_secret="", webhook_url=None, status_delays=(0.3, 0.8), timeout_delay=35.0
    ):
        self.app_secret = app_secret
        self.webhook_url = webhook_url
        # Seconds after a send until its `sent` and `delivered` status webhooks.
        self.status_delays = status_delays
        # How long a "timeout" failure keeps the caller waiting (longer than its read timeout).
        self.timeout_delay = timeout_delay
        self._lock = threading.RLock()
        self._server = _Server((host, port), _handler_for(self), self)
        self._door_closed_until = 0.0
        self._queue_fillers = []  # our own connections that keep the listen queue full while the door is closed
        self._threads = []
        self._outbox = []  # heap of (due, seq, url, body) webhook deliveries
        self._outbox_ready = threading.Condition(self._lock)
        self._sequence = itertools.count()
        self._delivering = 0
        self._running = False
        self.reset()

    # Lifecycle.

    @property
    def url(self):
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._running = True
        for target in (self._server.serve_forever, self._deliver_webhooks):
            thread = threading.Thread(target=target, name=f"fake-graph-{target.__name__}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        with self._lock:
            self._running = False
            self._door_closed_until = 0.0
            self._outbox_ready.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def reset(self):
        """Forget everything: requests, media, messages, failures, pending webhooks."""
        with self._lock:
            self.requests = []
            self.media = {}
            self.messages = {}  # wamid -> the message sent to a customer, with its status
            self.read_receipts = []
            self.failures = []
            self.templates = {}  # business account id -> templates; unknown accounts get DEMO_TEMPLATES
            self.catalogs = {}  # catalog id -> product items; unknown catalogs get DEMO_CATALOG
            self.phone_numbers = {}  # phone number id -> {display_phone_number, business_account_id, webhook_url}
            self.conversations = {}  # (phone number id, customer wa_id) -> [chat entries]
            self.customer_names = {}
            self.deliveries = []  # every webhook posted: {url, payload, status}
            self.injected = Counter()  # faults made by fail_next, fail_at_random and refuse_connections, by kind
            self.chaos = None
            self._door_closed_until = 0.0
            self._outbox.clear()

    # What tests (and the control API) use to steer it.

    def fail_next(self, count=1, error="500", *, retry_after=None, delay=None, path="", sends_only=False, later=False):
        """Make the next `count` Graph calls fail with `error`: those whose path contains `path`, or
        with sends_only the message sends alone (not read receipts, uploads or lookups). With `later`,
        the next sends are accepted and then reported `failed` with that error by status webhook."""
        if error not in FAILURES or (later and FAILURES[error] is None):
            raise ValueError(f"unknown failure {error!r}; one of {', '.join(FAILURES)} (or refuse_connections())")
        delay = self.timeout_delay if delay is None else delay
        with self._lock:
            for _ in range(count):
                self.failures.append(Failure(error, retry_after, delay, path, sends_only, later))

    def fail_at_random(
        self, rate=0.2, errors=RANDOM_FAILURES, *, seed=None, retry_after=("0", "1"), delay=None, connect_hold=0.3
    ):
        """Make each Graph call fail with probability `rate`, with one of `errors` (FAILURES keys or
        "connect_timeout") drawn at random; a 429 says Retry-After with one of `retry_after`. A connect timeout
        is drawn for the call after the one being answered: the door closes for `connect_hold` seconds (longer
        than the client's connect timeout) before that answer goes out. Failures fail_next() queued come first."""
        unknown = [error for error in errors if error not in FAILURES and error != "connect_timeout"]
        if unknown:
            raise ValueError(f"unknown failures {unknown}")
        with self._lock:
            self.chaos = Chaos(
                rate,
                tuple(errors),
                random.Random(seed),
                tuple(retry_after),
                connect_hold,
                delay=self.timeout_delay if delay is None else delay,
            )
            self.chaos.next_failure = self._draw_failure()

    def refuse_connections(self, seconds):
        """Accept no connection for `seconds`, the listen queue kept full: a client's connect times out
        (its request never arrives; nothing is recorded or accepted). Returns once the door is closed."""
        with self._lock:
            self._door_closed_until = max(self._door_closed_until, time.monotonic() + seconds)
            self.injected["connect_timeout"] += 1
            address = self._server.server_address[:2]
            while len(self._queue_fillers) < 256:
                filler = socket.socket()
                filler.settimeout(0.05)
                try:
                    filler.connect(address)
                except OSError:  # the queue is full: this connect was dropped, as a client's will be
                    filler.close()
                    break
                self._queue_fillers.append(filler)

    def accepted_messages(self):
        """Every message send the fake accepted (the customer got it), oldest first: copies of its entries,
        with `answer_withheld` set where the client was never told (timeout_after_accepting)."""
        with self._lock:
            return [copy.deepcopy(entry) for entry in self.messages.values()]

    def add_media(self, content, mime_type, *, media_id=None, phone_number_id=""):
        """Store media as if a customer had sent it; returns its media id."""
        media_id = media_id or new_media_id()
        with self._lock:
            self.media[media_id] = Media(content, mime_type, phone_number_id)
        return media_id

    def set_templates(self, business_account_id, templates):
        with self._lock:
            self.templates[str(business_account_id)] = copy.deepcopy(templates)

    def set_catalog(self, catalog_id, products):
        """What GET /{catalog_id}/products answers from now on (Meta's product item fields)."""
        with self._lock:
            self.catalogs[str(catalog_id)] = copy.deepcopy(products)

    def catalog(self, catalog_id):
        with self._lock:
            return copy.deepcopy(self.catalogs.get(str(catalog_id), DEMO_CATALOG))

    def register_phone_number(
        self, phone_number_id, *, display_phone_number="", business_account_id="", webhook_url=None
    ):
        """Where this number's webhooks go (else the server-wide webhook_url) and how it is shown."""
        with self._lock:
            self.phone_numbers[str(phone_number_id)] = {
                "display_phone_number": digits(display_phone_number),
                "business_account_id": str(business_account_id or ""),
                "webhook_url": webhook_url,
            }

    def sent_messages(self, phone_number_id=None):
        """Message payloads the app sent (not read receipts), oldest first."""
        with self._lock:
            return [
                copy.deepcopy(r.json)
                for r in self.requests
                if r.method == "POST"
                and r.endpoint.endswith("/messages")
                and isinstance(r.json, dict)
                and "status" not in r.json
                and (phone_number_id is None or r.endpoint == f"/{phone_number_id}/messages")
            ]

    def calls(self, endpoint_suffix=""):
        """Recorded Graph calls (not control calls) whose endpoint ends with `endpoint_suffix`."""
        with self._lock:
            return [r for r in self.requests if r.endpoint.endswith(endpoint_suffix)]

    def customer_sends(
        self, phone_number_id, wa_id, *, name="", text=None, media_id=None, caption=None, context_wamid=None
    ):
        """A customer writes to the business: the signed `messages` webhook goes to the app. Returns the wamid."""
        wa_id = digits(wa_id)
        phone_number_id = str(phone_number_id)
        wamid = new_wamid()
        now = int(time.time())
        message = {"from": wa_id, "id": wamid, "timestamp": str(now)}
        if context_wamid:
            message["context"] = {"from": self._display_number(phone_number_id), "id": context_wamid}
        with self._lock:
            if media_id is not None:
                media = self.media.get(media_id)
                if media is None:
                    raise ValueError(f"unknown media id {media_id!r}")
                kind = _message_type_for(media.mime_type)
                body = {
                    "mime_type": media.mime_type,
                    "sha256": media.sha256,
                    "id": media_id,
                    "url": f"{self.url}{DOWNLOAD_PATH}?{urlencode({'mid': media_id})}",
                }
                if caption:
                    body["caption"] = caption
                message.update({"type": kind, kind: body})
            elif text:
                message.update({"type": "text", "text": {"body": text}})
            else:
                raise ValueError("a customer message needs text or media")
            if name:
                self.customer_names[wa_id] = name
            profile_name = self.customer_names.get(wa_id, name or wa_id)
            self._chat(phone_number_id, wa_id).append(
                {
                    "wamid": wamid,
                    "from_customer": True,
                    "type": message["type"],
                    "text": text or caption or "",
                    "media_id": media_id,
                    "status": "delivered",
                    "timestamp": now,
                }
            )
            value = {
                "messaging_product": "whatsapp",
                "metadata": self._metadata(phone_number_id),
                "contacts": [{"profile": {"name": profile_name}, "wa_id": wa_id}],
                "messages": [message],
            }
            self._queue_webhook(phone_number_id, value, delay=0)
        return wamid

    def customer_taps(self, phone_number_id, wa_id, wamid, button_id):
        """The customer taps a reply button of the business's message `wamid`: the `button_reply` webhook
        goes to the app, as Meta sends it. Returns the reply's wamid."""
        phone_number_id, wa_id = str(phone_number_id), digits(wa_id)
        with self._lock:
            chat = self._chat(phone_number_id, wa_id)
            message = next((entry for entry in chat if entry["wamid"] == wamid and not entry["from_customer"]), None)
            if message is None:
                raise ValueError(f"no message {wamid!r} was sent to {wa_id}")
            button = next((b for b in message.get("buttons") or [] if b["id"] == button_id), None)
            if button is None:
                raise ValueError(f"message {wamid!r} has no button {button_id!r}")
            reply_wamid = new_wamid()
            now = int(time.time())
            chat.append(
                {
                    "wamid": reply_wamid,
                    "from_customer": True,
                    "type": "interactive",
                    "text": button["title"],
                    "media_id": None,
                    "buttons": [],
                    "status": "delivered",
                    "timestamp": now,
                    "context": wamid,
                }
            )
            reply = {
                "context": {"from": self._display_number(phone_number_id), "id": wamid},
                "from": wa_id,
                "id": reply_wamid,
                "timestamp": str(now),
                "type": "interactive",
                "interactive": {"type": "button_reply", "button_reply": {"id": button["id"], "title": button["title"]}},
            }
            value = {
                "messaging_product": "whatsapp",
                "metadata": self._metadata(phone_number_id),
                "contacts": [{"profile": {"name": self.customer_names.get(wa_id, wa_id)}, "wa_id": wa_id}],
                "messages": [reply],
            }
            self._queue_webhook(phone_number_id, value, delay=0)
        return reply_wamid

    def customer_pays(self, phone_number_id, wa_id, wamid, outcome="success", *, times=1):
        """The customer answers the business's order_details message `wamid`: pays it ("success"), starts
        paying ("pending") or fails to ("failed"). Meta's payment status webhook goes to the app `times` times
        (a re-delivery), as payments-in/pg documents it. Returns the transaction id."""
        if outcome not in ("success", "pending", "failed"):
            raise ValueError(f"a payment succeeds, is pending or fails, not {outcome!r}")
        phone_number_id, wa_id = str(phone_number_id), digits(wa_id)
        with self._lock:
            message = next(
                (e for e in self._chat(phone_number_id, wa_id) if e["wamid"] == wamid and e.get("order_details")),
                None,
            )
            if message is None:
                raise ValueError(f"no order_details message {wamid!r} was sent to {wa_id}")
            details = message["order_details"]
            transaction_id = f"pay_{secrets.token_hex(8)}"
            now = int(time.time())
            transaction = {
                "id": transaction_id,
                "pg_transaction_id": f"pg_{secrets.token_hex(8)}",
                "type": details["payment_settings"][0]["payment_gateway"]["type"],
                "status": outcome,
                "created_timestamp": now,
                "updated_timestamp": now,
            }
            if outcome == "failed":
                transaction["error"] = {"code": "payment_declined", "reason": "The bank declined the payment."}
            else:
                transaction["method"] = {"type": "upi"}
            status = {
                "id": secrets.token_urlsafe(20),
                "recipient_id": wa_id,
                "type": "payment",
                "status": "captured" if outcome == "success" else "pending",
                "payment": {
                    "reference_id": details["reference_id"],
                    "amount": dict(details["total_amount"]),
                    "currency": details["currency"],
                    "transaction": transaction,
                },
                "timestamp": str(now),
            }
            message["payment_status"] = outcome
            value = {"messaging_product": "whatsapp", "metadata": self._metadata(phone_number_id), "statuses": [status]}
            for _ in range(times):
                self._queue_webhook(phone_number_id, copy.deepcopy(value), delay=0)
        return transaction_id

    def customer_orders(self, phone_number_id, wa_id, catalog_id, items, *, text="", name=""):
        """The customer sends their cart: the `order` webhook goes to the app, as Meta sends it. `items` are
        (product_retailer_id, quantity); each line's price and currency come from the catalog. Returns the wamid."""
        phone_number_id, wa_id = str(phone_number_id), digits(wa_id)
        products = {product["retailer_id"]: product for product in self.catalog(catalog_id)}
        product_items = []
        for retailer_id, quantity in items:
            product = products.get(retailer_id)
            if product is None:
                raise ValueError(f"catalog {catalog_id} has no product {retailer_id!r}")
            product_items.append(
                {
                    "product_retailer_id": retailer_id,
                    "quantity": int(quantity),
                    "item_price": float(_price_amount(product.get("price"))),
                    "currency": product.get("currency", ""),
                }
            )
        if not product_items:
            raise ValueError("an order needs at least one product")
        wamid = new_wamid()
        now = int(time.time())
        order = {"catalog_id": str(catalog_id), "product_items": product_items}
        if text:
            order["text"] = text
        with self._lock:
            if name:
                self.customer_names[wa_id] = name
            lines = ", ".join(
                f"{item['quantity']} × {products[item['product_retailer_id']]['name']}" for item in product_items
            )
            self._chat(phone_number_id, wa_id).append(
                {
                    "wamid": wamid,
                    "from_customer": True,
                    "type": "order",
                    "text": f"Cart: {lines}" + (f"\n{text}" if text else ""),
                    "media_id": None,
                    "status": "delivered",
                    "timestamp": now,
                }
            )
            value = {
                "messaging_product": "whatsapp",
                "metadata": self._metadata(phone_number_id),
                "contacts": [{"profile": {"name": self.customer_names.get(wa_id, wa_id)}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(now), "type": "order", "order": order}],
            }
            self._queue_webhook(phone_number_id, value, delay=0)
        return wamid

    def customer_reads(self, phone_number_id, wa_id):
        """The customer opens the chat: every message delivered to them turns read (blue ticks)."""
        phone_number_id, wa_id = str(phone_number_id), digits(wa_id)
        with self._lock:
            for entry in self._chat(phone_number_id, wa_id):
                if not entry["from_customer"] and entry["status"] in ("sent", "delivered"):
                    # Never before the delivered webhook: read comes after delivered, as on a phone.
                    delay = max(0.0, entry.get("delivered_due", 0.0) - time.monotonic()) + 0.05
                    self._set_status(phone_number_id, entry, "read", delay=delay)

    def conversation(self, phone_number_id, wa_id):
        """The chat as the customer's phone shows it, oldest first (copies)."""
        with self._lock:
            return copy.deepcopy(self._chat(str(phone_number_id), digits(wa_id)))

    def wait_for_webhooks(self, timeout=10.0):
        """Block until every queued webhook has been delivered (or the timeout passes); True if all were."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._outbox or self._delivering:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._outbox_ready.wait(min(remaining, 0.05))
        return True

    # Internals shared by the handler.

    def _chat(self, phone_number_id, wa_id):
        return self.conversations.setdefault((phone_number_id, wa_id), [])

    def _display_number(self, phone_number_id):
        return self.phone_numbers.get(phone_number_id, {}).get("display_phone_number") or phone_number_id

    def _metadata(self, phone_number_id):
        return {"display_phone_number": self._display_number(phone_number_id), "phone_number_id": phone_number_id}

    def _webhook_url_for(self, phone_number_id):
        return self.phone_numbers.get(phone_number_id, {}).get("webhook_url") or self.webhook_url

    def _business_account_for(self, phone_number_id):
        return self.phone_numbers.get(phone_number_id, {}).get("business_account_id") or "0"

    def _templates_for(self, business_account_id):
        return self.templates.get(str(business_account_id), DEMO_TEMPLATES)

    def _queue_webhook(self, phone_number_id, value, *, delay):
        url = self._webhook_url_for(phone_number_id)
        if not url:
            return
        payload = {
            "object": "whatsapp_business_account",
            "entry": [
                {"id": self._business_account_for(phone_number_id), "changes": [{"value": value, "field": "messages"}]}
            ],
        }
        heapq.heappush(self._outbox, (time.monotonic() + delay, next(self._sequence), url, payload))
        self._outbox_ready.notify_all()

    def _set_status(self, phone_number_id, entry, status, *, delay, errors=None):
        entry["status"] = status
        state = {
            "id": entry["wamid"],
            "status": status,
            "timestamp": str(int(time.time())),
        }
        if entry.get("to_user_id"):
            state["recipient_user_id"] = entry["to_user_id"]
        else:
            state["recipient_id"] = entry["to"]
        if status in ("sent", "delivered") and not errors:
            state["pricing"] = {
                "billable": False,
                "pricing_model": "PMP",
                "type": "free_customer_service",
                "category": "service",
            }
        if errors:
            state["errors"] = errors
        value = {"messaging_product": "whatsapp", "metadata": self._metadata(phone_number_id), "statuses": [state]}
        self._queue_webhook(phone_number_id, value, delay=delay)

    def _deliver_webhooks(self):
        """Post queued webhooks in order when due, signed; a refused delivery is retried a few times."""
        session = requests.Session()
        while True:
            with self._lock:
                while self._running and (not self._outbox or self._outbox[0][0] > time.monotonic()):
                    timeout = self._outbox[0][0] - time.monotonic() if self._outbox else None
                    self._outbox_ready.wait(timeout)
                if not self._running:
                    return
                _, _, url, payload = heapq.heappop(self._outbox)
                self._delivering += 1
            try:
                self._post_webhook(session, url, payload)
            finally:
                with self._lock:
                    self._delivering -= 1
                    self._outbox_ready.notify_all()

    def _post_webhook(self, session, url, payload):
        body = json.dumps(payload, separators=(",", ":")).encode()
        # One connection per webhook, as Meta's senders do: a kept-alive connection would pin a server
        # thread (and its database connection) of the app between deliveries.
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, self.app_secret),
            "Connection": "close",
        }
        status = None
        for attempt in range(3):
            try:
                status = session.post(url, data=body, headers=headers, timeout=10).status_code
            except requests.RequestException as exc:
                status = f"error: {exc}"
            if status == 200:
                break
            time.sleep(0.2 * (attempt + 1))
        with self._lock:
            self.deliveries.append({"url": url, "payload": payload, "status": status})
        if status != 200:
            logger.warning("fake Graph API: webhook to %s answered %s", url, status)

    def _take_failure(self, request):
        with self._lock:
            for index, failure in enumerate(self.failures):
                if failure.applies_to(request):
                    self.injected[failure.error] += 1
                    return self.failures.pop(index)
            if self.chaos is not None:
                failure, self.chaos.next_failure = self.chaos.next_failure, None
                if failure is not None and failure.applies_to(request):
                    self.injected[failure.error] += 1
                    return failure
        return None

    def _draw_failure(self):
        """The failure (or None) of the next call under fail_at_random; a connect timeout closes the door now."""
        chaos = self.chaos
        while chaos.rng.random() < chaos.rate:
            error = chaos.rng.choice(chaos.errors)
            if error != "connect_timeout":
                retry_after = chaos.rng.choice(chaos.retry_after) if error == "429" else None
                return Failure(error, retry_after=retry_after, delay=chaos.delay)
            self.refuse_connections(chaos.connect_hold)
            # The call after the refused one is drawn again: it arrives once the door opens.
        return None

    def _before_answering(self):
        """Under fail_at_random, draw the next call's fate before this answer lets the client go on."""
        with self._lock:
            if self.chaos is not None and self.chaos.next_failure is None:
                self.chaos.next_failure = self._draw_failure()

    def _wait_until_the_door_opens(self):
        while self._running and time.monotonic() < self._door_closed_until:
            time.sleep(0.005)
        with self._lock:
            fillers, self._queue_fillers = self._queue_fillers, []
        for filler in fillers:
            filler.close()

    # The endpoints (called by the handler with the lock not held).

    def handle_messages(self, phone_number_id, body, fail_later=None):
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return 400, meta_error(100, "Invalid parameter", "The parameter messaging_product is required.")
        if body.get("status") == "read":
            return self._mark_read(phone_number_id, body)
        to, kind = digits(body.get("to")), body.get("type", "text")
        # A business-scoped user id (a user known by their username) is addressed in `recipient`, never in
        # `to`; `to` wins when both are given (Meta's business-scoped user ID guide).
        user_id = None if to else body.get("recipient")
        if user_id is not None and not (isinstance(user_id, str) and "." in user_id and user_id.strip() == user_id):
            return 400, meta_error(
                100, "Invalid parameter", "The parameter recipient is not a business-scoped user ID."
            )
        if user_id and kind == "template" and self._is_authentication_template(phone_number_id, body.get(kind)):
            return 400, meta_error(
                131062,
                "Business-scoped User ID recipients are not supported for this message.",
                "Authentication templates can only be sent to a phone number.",
            )
        to = to or user_id
        if not to:
            return 400, meta_error(100, "Invalid parameter", "The parameter to is required.")
        content = body.get(kind)
        if not isinstance(content, dict):
            return 400, meta_error(100, "Invalid parameter", f"The parameter {kind} is required.")
        problem = self._check_content(phone_number_id, kind, content)
        if problem:
            return problem
        wamid = new_wamid()
        with self._lock:
            entry = {
                "wamid": wamid,
                "from_customer": False,
                "type": kind,
                "to": to,
                "to_user_id": user_id,
                "status": "accepted",
                "text": _text_of(kind, content, self._templates_for(self._business_account_for(phone_number_id))),
                "media_id": content.get("id") if kind in MEDIA_MESSAGE_TYPES else None,
                "buttons": [button["reply"] for button in content["action"]["buttons"]]
                if kind == "interactive" and content.get("type") == "button"
                else [],
                "products": _products_of(content) if kind == "interactive" else None,
                "order_details": content["action"]["parameters"]
                if kind == "interactive" and content.get("type") == "order_details"
                else None,
                "timestamp": int(time.time()),
            }
            self.messages[wamid] = entry
            self._chat(phone_number_id, to).append(entry)
            sent_after, delivered_after = self.status_delays
            entry["delivered_due"] = time.monotonic() + delivered_after
            if fail_later is not None:
                _, (code, title, details) = FAILURES[fail_later.error]
                error = {
                    "code": code,
                    "title": title,
                    "message": title,
                    "error_data": {"details": details},
                    "href": "/documentation/business-messaging/whatsapp/support/error-codes",
                }
                self._set_status(phone_number_id, entry, "failed", delay=sent_after, errors=[error])
            else:
                self._set_status(phone_number_id, entry, "sent", delay=sent_after)
                self._set_status(phone_number_id, entry, "delivered", delay=delivered_after)
        return 200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": user_id, "user_id": user_id} if user_id else {"input": body.get("to"), "wa_id": to}],
            "messages": [{"id": wamid}],
        }

    def _mark_read(self, phone_number_id, body):
        wamid = body.get("message_id")
        if not wamid:
            return 400, meta_error(100, "Invalid parameter", "The parameter message_id is required.")
        with self._lock:
            receipt = {"phone_number_id": phone_number_id, "message_id": wamid}
            if "typing_indicator" in body:
                receipt["typing_indicator"] = body["typing_indicator"]
            self.read_receipts.append(receipt)
            # Marking a message read marks every earlier message of that chat read too.
            for (number, _), chat in self.conversations.items():
                wamids = [entry["wamid"] for entry in chat]
                if number == phone_number_id and wamid in wamids:
                    for entry in chat[: wamids.index(wamid) + 1]:
                        if entry["from_customer"]:
                            entry["status"] = "read"
        return 200, {"success": True}

    def _check_content(self, phone_number_id, kind, content):
        if kind == "text":
            text = content.get("body")
            if not isinstance(text, str) or not text.strip():
                return 400, meta_error(100, "Invalid parameter", "The parameter text['body'] is required.")
            if len(text) > 4096:
                return 400, meta_error(
                    100, "Invalid parameter", "Param text['body'] must be at most 4096 characters long."
                )
        elif kind in MEDIA_MESSAGE_TYPES:
            if "id" in content and content["id"] not in self.media:
                return 400, meta_error(131009, "Parameter value is not valid", "Invalid media id.")
            if "id" not in content and "link" not in content:
                return 400, meta_error(131008, "Required parameter is missing", f"{kind} needs an id or a link.")
        elif kind == "template":
            return self._check_template(phone_number_id, content)
        elif kind == "interactive":
            return _check_interactive(content)
        return None

    def _is_authentication_template(self, phone_number_id, content):
        name = content.get("name") if isinstance(content, dict) else None
        templates = self._templates_for(self._business_account_for(phone_number_id))
        return any(t["name"] == name and t.get("category") == "AUTHENTICATION" for t in templates)

    def _check_template(self, phone_number_id, content):
        name, language = content.get("name"), (content.get("language") or {}).get("code")
        template = next(
            (
                t
                for t in self._templates_for(self._business_account_for(phone_number_id))
                if t["name"] == name and t["language"] == language and t["status"] == "APPROVED"
            ),
            None,
        )
        if template is None:
            return 404, meta_error(
                132001,
                "Template name does not exist in the translation",
                f"template name ({name}) does not exist in {language}",
            )
        expected = len(_placeholders(_component(template, "BODY").get("text", "")))
        given = sum(len(c.get("parameters", [])) for c in content.get("components", []) if c.get("type") == "body")
        if expected != given:
            return 400, meta_error(
                132000,
                "Number of parameters does not match the expected number of params",
                f"body: number of localizable_params ({given}) does not match the expected "
                f"number of params ({expected})",
            )
        return None

    def handle_upload(self, phone_number_id, form, file):
        if form.get("messaging_product") != "whatsapp":
            return 400, meta_error(100, "Invalid parameter", "The parameter messaging_product is required.")
        if file is None:
            return 400, meta_error(100, "Invalid parameter", "The parameter file is required.")
        filename, mime_type, content = file
        mime_type = (form.get("type") or mime_type or "").split(";")[0].strip()
        limit = MEDIA_LIMITS.get(mime_type)
        if limit is None:
            return 400, meta_error(
                131053,
                "Media upload error",
                f"Param file must be a file with one of the "
                f"following types: {', '.join(sorted(MEDIA_LIMITS))}. Received {mime_type}.",
            )
        if len(content) > limit:
            return 400, meta_error(
                131053,
                "Media upload error",
                f"{mime_type} files can be at most {limit} bytes; this one is {len(content)}.",
            )
        return 200, {"id": self.add_media(content, mime_type, phone_number_id=phone_number_id)}

    def handle_get_media(self, media_id):
        with self._lock:
            media = self.media.get(media_id)
        if media is None:
            return 400, meta_error(
                100,
                "Invalid parameter",
                f"Unsupported get request. Object with ID '{media_id}' does not exist.",
                error_type="GraphMethodException",
            )
        return 200, {
            "messaging_product": "whatsapp",
            "url": f"{self.url}{DOWNLOAD_PATH}?{urlencode({'mid': media_id})}",
            "mime_type": media.mime_type,
            "sha256": media.sha256,
            "file_size": str(len(media.content)),
            "id": media_id,
        }

    def handle_delete_media(self, media_id):
        with self._lock:
            found = self.media.pop(media_id, None)
        if found is None:
            return 400, meta_error(
                100, "Invalid parameter", f"Unsupported delete request. Object with ID '{media_id}' does not exist."
            )
        return 200, {"success": True}

    def handle_templates(self, business_account_id, query, path):
        with self._lock:
            templates = copy.deepcopy(self._templates_for(business_account_id))
        limit = max(1, min(int((query.get("limit") or ["25"])[0]), 100))
        after = (query.get("after") or [None])[0]
        start = int(base64.urlsafe_b64decode(after).decode()) if after else 0
        page = templates[start : start + limit]
        fields = (query.get("fields") or [""])[0]
        if fields:
            wanted = set(fields.split(",")) | {"id"}
            page = [{k: v for k, v in t.items() if k in wanted} for t in page]
        body = {"data": page}
        if start + limit < len(templates):
            cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            next_query = {k: v[0] for k, v in query.items() if k != "after"} | {"after": cursor}
            body["paging"] = {"cursors": {"after": cursor}, "next": f"{self.url}{path}?{urlencode(next_query)}"}
        return 200, body

    def handle_catalog_products(self, catalog_id, query, path):
        """GET /{catalog_id}/products: the catalog's product items, `limit` a page, with Meta's cursor paging."""
        products = self.catalog(catalog_id)
        limit = max(1, min(int((query.get("limit") or ["25"])[0]), 100))
        after = (query.get("after") or [None])[0]
        start = int(base64.urlsafe_b64decode(after).decode()) if after else 0
        page = products[start : start + limit]
        fields = (query.get("fields") or [""])[0]
        wanted = (set(fields.split(",")) if fields else {"name"}) | {"id"}
        body = {"data": [{key: value for key, value in product.items() if key in wanted} for product in page]}
        if start + limit < len(products):
            cursor = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
            next_query = {key: value[0] for key, value in query.items() if key != "after"} | {"after": cursor}
            body["paging"] = {"cursors": {"after": cursor}, "next": f"{self.url}{path}?{urlencode(next_query)}"}
        return 200, body


def _component(template, kind):
    return next((c for c in template.get("components", []) if c.get("type", "").upper() == kind), {})


def _placeholders(text):
    return re.findall(r"\{\{\s*([a-z0-9_]+)\s*\}\}", text or "")


def _check_interactive(content):
    """Meta's checks of the interactive kinds the app sends: reply buttons, product messages, and the order
    messages of payments in WhatsApp."""
    if content.get("type") in PRODUCT_MESSAGE_TYPES:
        return _check_product_message(content)
    if content.get("type") == "order_details":
        return _check_order_details(content)
    if content.get("type") == "order_status":
        return _check_order_status(content)
    if content.get("type") != "button":
        return 400, meta_error(
            131009,
            "Parameter value is not valid",
            f"interactive type {content.get('type')!r} is not supported here; use 'button'.",
        )
    body = (content.get("body") or {}).get("text") if isinstance(content.get("body"), dict) else None
    if not isinstance(body, str) or not body.strip():
        return 400, meta_error(131008, "Required parameter is missing", "interactive['body']['text'] is required.")
    if len(body) > 1024:
        return 400, meta_error(131009, "Parameter value is not valid", "Body text can be at most 1024 characters.")
    footer = content.get("footer")
    if footer is not None and (not isinstance(footer, dict) or len(str(footer.get("text", ""))) > 60):
        return 400, meta_error(131009, "Parameter value is not valid", "Footer text can be at most 60 characters.")
    buttons = (content.get("action") or {}).get("buttons") if isinstance(content.get("action"), dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        return 400, meta_error(131009, "Parameter value is not valid", "A message can have 1 to 3 reply buttons.")
    titles, ids = set(), set()
    for button in buttons:
        reply = button.get("reply") if isinstance(button, dict) and button.get("type") == "reply" else None
        title, button_id = (reply.get("title"), reply.get("id")) if isinstance(reply, dict) else (None, None)
        if not isinstance(title, str) or not 0 < len(title) <= 20 or title in titles:
            return 400, meta_error(
                131009, "Parameter value is not valid", "Each button needs a unique title of at most 20 characters."
            )
        if (
            not isinstance(button_id, str)
            or not 0 < len(button_id) <= 256
            or button_id != button_id.strip()
            or button_id in ids
        ):
            return 400, meta_error(
                131009, "Parameter value is not valid", "Each button needs a unique id of at most 256 characters."
            )
        titles.add(title)
        ids.add(button_id)
    return None


REFERENCE_ID = re.compile(r"[A-Za-z0-9_.-]{1,35}")
ORDER_STATUSES = ("processing", "partially_shipped", "shipped", "completed", "canceled")


def _amount_value(amount):
    """An amount object's value, or None when it is not {value: integer, offset: 100}."""
    if not isinstance(amount, dict) or amount.get("offset") != 100:
        return None
    value = amount.get("value")
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _order_body_problem(content):
    body = (content.get("body") or {}).get("text") if isinstance(content.get("body"), dict) else None
    if not isinstance(body, str) or not body.strip():
        return 400, meta_error(131008, "Required parameter is missing", "interactive['body']['text'] is required.")
    if len(body) > 1024:
        return _invalid("Body text can be at most 1024 characters.")
    return None


def _check_order_details(content):
    """An order_details message as payments-in/pg documents it (Step 1): review_and_pay, its reference_id,
    type of goods, payment_settings, and amounts that add up."""
    problem = _order_body_problem(content)
    if problem:
        return problem
    action = content.get("action") if isinstance(content.get("action"), dict) else {}
    parameters = action.get("parameters") if isinstance(action.get("parameters"), dict) else None
    if action.get("name") != "review_and_pay" or parameters is None:
        return _invalid("An order_details action must be review_and_pay with its parameters.")
    if not isinstance(parameters.get("reference_id"), str) or not REFERENCE_ID.fullmatch(parameters["reference_id"]):
        return _invalid("reference_id must have 1 to 35 letters, digits, _, - or .")
    if parameters.get("type") not in ("digital-goods", "physical-goods"):
        return _invalid("type must be digital-goods or physical-goods.")
    settings = parameters.get("payment_settings")
    gateway = settings[0].get("payment_gateway") if isinstance(settings, list) and settings else None
    if (
        not isinstance(gateway, dict)
        or settings[0].get("type") != "payment_gateway"
        or gateway.get("type") not in ("billdesk", "razorpay", "payu", "zaakpay")
        or not isinstance(gateway.get("configuration_name"), str)
        or not 0 < len(gateway["configuration_name"]) <= 60
    ):
        return _invalid("payment_settings needs a payment_gateway with its type and configuration_name.")
    if not isinstance(parameters.get("currency"), str) or len(parameters["currency"]) != 3:
        return _invalid("currency must be a currency code.")
    order = parameters.get("order") if isinstance(parameters.get("order"), dict) else {}
    if order.get("status") != "pending":
        return _invalid("An order_details order's status must be pending.")
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return _invalid("order.items is required.")
    subtotal = 0
    for item in items:
        value = _amount_value(item.get("amount")) if isinstance(item, dict) else None
        quantity = item.get("quantity") if isinstance(item, dict) else None
        name = item.get("name") if isinstance(item, dict) else None
        if value is None or not isinstance(quantity, int) or quantity <= 0:
            return _invalid("Each item needs an amount {value, offset: 100} and an integer quantity.")
        if not isinstance(name, str) or not 0 < len(name) <= 60:
            return _invalid("Each item needs a name of at most 60 characters.")
        subtotal += value * quantity
    values = {key: _amount_value(order.get(key)) for key in ("subtotal", "tax", "shipping", "discount")}
    total = _amount_value(parameters.get("total_amount"))
    if values["subtotal"] is None or values["tax"] is None or total is None:
        return _invalid("total_amount, order.subtotal and order.tax are required as {value, offset: 100}.")
    if values["subtotal"] != subtotal:
        return _invalid("order.subtotal must be the sum of the items' amount x quantity.")
    shipping, discount = values["shipping"] or 0, values["discount"] or 0
    if total != values["subtotal"] + values["tax"] + shipping - discount or total <= 0:
        return _invalid("total_amount must be subtotal + tax + shipping - discount.")
    return None


def _check_order_status(content):
    """An order_status message (payments-in/pg, Step 6): review_order with a reference_id and a status."""
    problem = _order_body_problem(content)
    if problem:
        return problem
    action = content.get("action") if isinstance(content.get("action"), dict) else {}
    parameters = action.get("parameters") if isinstance(action.get("parameters"), dict) else {}
    order = parameters.get("order") if isinstance(parameters.get("order"), dict) else {}
    if action.get("name") != "review_order" or not isinstance(parameters.get("reference_id"), str):
        return _invalid("An order_status action must be review_order with the order's reference_id.")
    if order.get("status") not in ORDER_STATUSES:
        return _invalid(f"order.status must be one of {', '.join(ORDER_STATUSES)}.")
    return None


def _invalid(details):
    return 400, meta_error(131009, "Parameter value is not valid", details)


def _check_product_message(content):
    """A product, product_list or catalog_message object as share-products documents it."""
    kind, action = content["type"], content.get("action")
    if not isinstance(action, dict):
        return 400, meta_error(131008, "Required parameter is missing", "interactive['action'] is required.")
    body = content.get("body")
    body_text = body.get("text") if isinstance(body, dict) else None
    if body is not None and (not isinstance(body_text, str) or not body_text.strip() or len(body_text) > 1024):
        return _invalid("Body text must have 1 to 1024 characters.")
    if kind != "product" and body is None:
        return 400, meta_error(131008, "Required parameter is missing", "interactive['body'] is required.")
    footer = content.get("footer")
    if footer is not None and (not isinstance(footer, dict) or not 0 < len(str(footer.get("text") or "")) <= 60):
        return _invalid("Footer text must have 1 to 60 characters.")
    if kind == "catalog_message":
        if action.get("name") != "catalog_message" or set(action) - {"name", "parameters"}:
            return _invalid("action must be {'name': 'catalog_message'} with optional parameters.")
        if "header" in content:
            return _invalid("A catalog message has no header.")
        return None
    if not isinstance(action.get("catalog_id"), str) or not action["catalog_id"]:
        return 400, meta_error(131008, "Required parameter is missing", "action['catalog_id'] is required.")
    if kind == "product":
        if "header" in content:
            return _invalid("A single-product message has no header.")
        if not isinstance(action.get("product_retailer_id"), str) or not action["product_retailer_id"]:
            return 400, meta_error(
                131008, "Required parameter is missing", "action['product_retailer_id'] is required."
            )
        return None
    header = content.get("header")
    if not isinstance(header, dict) or header.get("type") != "text" or not 0 < len(str(header.get("text") or "")) <= 60:
        return _invalid("A multi-product message needs a text header of 1 to 60 characters.")
    sections = action.get("sections")
    if not isinstance(sections, list) or not 1 <= len(sections) <= MAX_PRODUCT_LIST_SECTIONS:
        return _invalid(f"A multi-product message has 1 to {MAX_PRODUCT_LIST_SECTIONS} sections.")
    count = 0
    for section in sections:
        title = section.get("title") if isinstance(section, dict) else None
        items = section.get("product_items") if isinstance(section, dict) else None
        if not isinstance(title, str) or not 0 < len(title) <= 24:
            return _invalid("Each section needs a title of 1 to 24 characters.")
        if not isinstance(items, list) or not items:
            return _invalid("Each section needs product_items.")
        for item in items:
            if not isinstance(item, dict) or set(item) != {"product_retailer_id"} or not item["product_retailer_id"]:
                return _invalid("Each product item is {'product_retailer_id': <SKU>}.")
        count += len(items)
    if count > MAX_PRODUCT_LIST_ITEMS:
        return _invalid(f"A multi-product message can show at most {MAX_PRODUCT_LIST_ITEMS} products.")
    return None


def _products_of(content):
    """What a product message shows, by section: [{"title", "product_retailer_ids"}] (a catalog message: every
    product of the catalog, so no ids); None for other interactive kinds."""
    action = content.get("action") or {}
    if content.get("type") == "product":
        return [{"title": "", "product_retailer_ids": [action.get("product_retailer_id")]}]
    if content.get("type") == "product_list":
        return [
            {
                "title": section["title"],
                "product_retailer_ids": [i["product_retailer_id"] for i in section["product_items"]],
            }
            for section in action["sections"]
        ]
    if content.get("type") == "catalog_message":
        return [{"title": "", "product_retailer_ids": None}]
    return None


def _price_amount(price):
    """The amount in a price Meta formats with its currency ("$25.50", "25,50 €", "EUR25.50"), as text."""
    digits_and_marks = re.sub(r"[^0-9.,]", "", str(price or ""))
    whole, _, cents = digits_and_marks.replace(",", ".").rpartition(".")
    if whole and len(cents) <= 2:
        return (whole.replace(".", "") or "0") + "." + cents
    return digits_and_marks.replace(",", "").replace(".", "") or "0"


def _text_of(kind, content, templates):
    """What the customer's phone shows for a message the business sent."""
    if kind == "text":
        return content.get("body", "")
    if kind == "interactive":
        parts = [
            (content.get("header") or {}).get("text"),
            (content.get("body") or {}).get("text"),
            (content.get("footer") or {}).get("text"),
        ]
        return "\n".join(part for part in parts if part)
    if kind in MEDIA_MESSAGE_TYPES:
        return content.get("caption", "")
    if kind != "template":
        return f"[{kind}]"
    template = next((t for t in templates if t["name"] == content.get("name")), None)
    if template is None:
        return content.get("name", "")
    values = {}
    for component in content.get("components", []):
        for position, parameter in enumerate(component.get("parameters", []), start=1):
            key = parameter.get("parameter_name") or str(position)
            values[(component.get("type", "").upper(), key)] = parameter.get("text", "")
    parts = []
    for component in template.get("components", []):
        kind_name = component.get("type", "").upper()
        if "text" in component and kind_name in ("HEADER", "BODY", "FOOTER"):
            parts.append(
                re.sub(
                    r"\{\{\s*([a-z0-9_]+)\s*\}\}",
                    lambda m, k=kind_name: values.get((k, m.group(1)), m.group(0)),
                    component["text"],
                )
            )
    return "\n".join(parts)


def _message_type_for(mime_type):
    if mime_type == "image/webp":
        return "sticker"
    family = mime_type.split("/")[0]
    return {"image": "image", "video": "video", "audio": "audio"}.get(family, "document")


def _parse_multipart(content_type, body):
    """Fields and the uploaded file of a multipart/form-data body (the standard library's email parser)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\nMIME-Version: 1.0\r\n\r\n" + body
    )
    form, file = {}, None
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            file = (filename, part.get_content_type(), payload)
        elif name:
            form[name] = payload.decode()
    return form, file


def _handler_for(fake):
    class Handler(BaseHTTPRequestHandler):
        server_version = "FakeGraphAPI/1.0"

        def log_message(self, format, *args):
            logger.debug("fake Graph API: " + format, *args)

        def do_GET(self):
            self._dispatch("GET")

        def do_POST(self):
            self._dispatch("POST")

        def do_DELETE(self):
            self._dispatch("DELETE")

        def _dispatch(self, method):
            parts = urlsplit(self.path)
            path, query = parts.path, parse_qs(parts.query)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path.startswith("/_fake/"):
                return self._control(method, path, query, body)
            recorded = self._record(method, path, query, body)
            failure = fake._take_failure(recorded)
            if failure is not None and failure.error == "timeout_after_accepting":
                status, answer = fake.handle_messages(path.strip("/").split("/")[1], recorded.json)
                if status == 200:
                    with fake._lock:
                        fake.messages[answer["messages"][0]["id"]]["answer_withheld"] = True
                return self._fail(failure)
            if failure is not None and not failure.later:
                return self._fail(failure)
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            if token == self.headers.get("Authorization", "") or not token.strip():
                return self._json(401, meta_error(190, "Invalid OAuth access token - Cannot parse access token"))
            if path == DOWNLOAD_PATH and method == "GET":
                return self._download(query)
            segments = path.strip("/").split("/")
            if not segments or not VERSION_PATTERN.fullmatch(segments[0]):
                return self._json(400, meta_error(2500, "Unknown path components", path))
            route = (method, *(["{id}"] + segments[2:] if len(segments) > 1 else []))
            object_id = segments[1] if len(segments) > 1 else ""
            if route == ("POST", "{id}", "messages"):
                return self._json(*fake.handle_messages(object_id, recorded.json, fail_later=failure))
            if route == ("POST", "{id}", "media"):
                return self._json(*fake.handle_upload(object_id, recorded.form, recorded.file))
            if route == ("GET", "{id}"):
                return self._json(*fake.handle_get_media(object_id))
            if route == ("DELETE", "{id}"):
                return self._json(*fake.handle_delete_media(object_id))
            if route == ("GET", "{id}", "message_templates"):
                return self._json(*fake.handle_templates(object_id, query, path))
            if route == ("GET", "{id}", "products"):
                return self._json(*fake.handle_catalog_products(object_id, query, path))
            return self._json(
                400,
                meta_error(
                    100,
                    "Unsupported request",
                    f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, cannot be "
                    "loaded due to missing permissions, or does not support this operation.",
                    error_type="GraphMethodException",
                ),
            )

        def _record(self, method, path, query, body):
            content_type = self.headers.get("Content-Type", "")
            recorded = RecordedRequest(method, path, query, self.headers.get("Authorization", ""))
            if content_type.startswith("application/json") and body:
                try:
                    recorded.json = json.loads(body)
                except ValueError:
                    recorded.json = None
            elif content_type.startswith("multipart/form-data"):
                recorded.form, recorded.file = _parse_multipart(content_type, body)
            with fake._lock:
                fake.requests.append(recorded)
            return recorded

        def _fail(self, failure):
            if failure.error in ("timeout", "timeout_after_accepting"):
                fake._before_answering()
                time.sleep(failure.delay)
                self.close_connection = True
                return None
            if failure.error == "connection":
                fake._before_answering()
                self.close_connection = True
                return None
            status, (code, title, details) = FAILURES[failure.error]
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            error_type = "OAuthException" if code in (190, 130429) else "GraphMethodException"
            return self._json(status, meta_error(code, title, details, error_type=error_type), headers)

        def _download(self, query):
            media_id = (query.get("mid") or [""])[0]
            with fake._lock:
                media = fake.media.get(media_id)
            if media is None:
                return self._send(404, b"", "text/plain")
            return self._send(200, media.content, media.mime_type)

        def _control(self, method, path, query, body):
            try:
                data = (
                    json.loads(body)
                    if body and self.headers.get("Content-Type", "").startswith("application/json")
                    else {}
                )
                result = _control(fake, method, path, query, data, body, self.headers.get("Content-Type", ""))
            except (KeyError, ValueError, TypeError) as exc:
                return self._json(400, {"error": str(exc)})
            if result is None:
                return self._json(404, {"error": f"no control endpoint {method} {path}"})
            if isinstance(result, tuple):
                return self._send(200, *result)
            return self._json(200, result)

        def _json(self, status, body, headers=None):
            self._send(status, json.dumps(body).encode(), "application/json", headers)

        def _send(self, status, content, content_type, headers=None):
            fake._before_answering()
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(content)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up waiting (a timeout it asked for)

    return Handler


def _control(fake, method, path, query, data, body, content_type):
    """The JSON control API other processes (the sandbox page) use; None for an unknown endpoint."""
    if (method, path) == ("POST", "/_fake/reset"):
        fake.reset()
        return {"success": True}
    if (method, path) == ("POST", "/_fake/failures"):
        fake.fail_next(
            int(data.get("count", 1)),
            str(data["error"]),
            retry_after=data.get("retry_after"),
            path=data.get("path", ""),
            sends_only=bool(data.get("sends_only")),
            later=bool(data.get("later")),
        )
        return {"pending": _pending_failures(fake)}
    if (method, path) == ("GET", "/_fake/failures"):
        return {"pending": _pending_failures(fake)}
    if (method, path) == ("DELETE", "/_fake/failures"):
        with fake._lock:
            fake.failures.clear()
        return {"pending": []}
    if (method, path) == ("POST", "/_fake/phone_numbers"):
        fake.register_phone_number(
            data["phone_number_id"],
            display_phone_number=data.get("display_phone_number", ""),
            business_account_id=data.get("business_account_id", ""),
            webhook_url=data.get("webhook_url"),
        )
        return {"success": True}
    if (method, path) == ("POST", "/_fake/media"):
        mime_type = content_type.split(";")[0].strip()
        if mime_type not in MEDIA_LIMITS:
            raise ValueError(f"unsupported media type {mime_type!r}")
        return {"id": fake.add_media(body, mime_type)}
    if method == "GET" and path.startswith("/_fake/media/"):
        with fake._lock:
            media = fake.media.get(path.removeprefix("/_fake/media/"))
        return (media.content, media.mime_type) if media else None
    if (method, path) == ("POST", "/_fake/customer_messages"):
        wamid = fake.customer_sends(
            data["phone_number_id"],
            data["wa_id"],
            name=data.get("name", ""),
            text=data.get("text"),
            media_id=data.get("media_id"),
            caption=data.get("caption"),
        )
        return {"wamid": wamid}
    if (method, path) == ("POST", "/_fake/customer_replies"):
        wamid = fake.customer_taps(data["phone_number_id"], data["wa_id"], data["wamid"], data["button_id"])
        return {"wamid": wamid}
    if (method, path) == ("POST", "/_fake/customer_payments"):
        transaction_id = fake.customer_pays(
            data["phone_number_id"],
            data["wa_id"],
            data["wamid"],
            data.get("outcome", "success"),
            times=int(data.get("times", 1)),
        )
        return {"transaction_id": transaction_id}
    if (method, path) == ("POST", "/_fake/customer_orders"):
        wamid = fake.customer_orders(
            data["phone_number_id"],
            data["wa_id"],
            data["catalog_id"],
            [(str(item["product_retailer_id"]), int(item["quantity"])) for item in data["product_items"]],
            text=data.get("text", ""),
            name=data.get("name", ""),
        )
        return {"wamid": wamid}
    if (method, path) == ("POST", "/_fake/catalogs"):
        fake.set_catalog(data["catalog_id"], data["products"])
        return {"success": True}
    if method == "GET" and path.startswith("/_fake/catalogs/"):
        return {"data": fake.catalog(path.removeprefix("/_fake/catalogs/"))}
    if (method, path) == ("POST", "/_fake/customer_reads"):
        fake.customer_reads(data["phone_number_id"], data["wa_id"])
        return {"success": True}
    if (method, path) == ("GET", "/_fake/conversation"):
        return {"messages": fake.conversation(query["phone_number_id"][0], query["wa_id"][0])}
    if (method, path) == ("GET", "/_fake/requests"):
        with fake._lock:
            return {
                "requests": [
                    {"method": r.method, "path": r.path, "json": r.json, "form": r.form} for r in fake.requests
                ]
            }
    return None


def _pending_failures(fake):
    with fake._lock:
        return [{"error": f.error, "path": f.path, "sends_only": f.sends_only, "later": f.later} for f in fake.failures]
