"""A conversation's thread: pages of messages, oldest at the top, with quotes and reactions attached.

Pages are read newest-first through the thread index (customer_id, timestamp DESC, id DESC) and
shown oldest-first. Reactions are drawn on the message they react to, replies quote the message
they answer; both are found with one indexed query each per page, never one per message.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from crm import paging
from orders import catalog
from payments.ledger import PROOF_MEDIA_TYPES
from whatsapp.send import AUTOMATIC

from .dates import day_label
from .polling import poll_token
from .rendering import describe, readable_text

PAGE_SIZE = 30
# A live tail longer than this is cut to its newest messages (the page is then reloaded).
TAIL_LIMIT = 400
TICKS = {
    "queued": ("🕓", "Queued"),
    "sent": ("✓", "Sent"),
    "delivered": ("✓✓", "Delivered"),
    "read": ("✓✓", "Read"),
    "failed": ("⚠", "Failed"),
}


@dataclass
class Quote:
    author: str
    preview: str
    found: bool = True


@dataclass
class Bubble:
    """One message as the thread shows it, with everything the template prints worked out here
    (a page renders dozens of these: template lookups are the page's main cost)."""

    message: object
    described: object
    author: str = ""  # "You" or the customer's name
    quote: Quote | None = None
    reactions: list = field(default_factory=list)  # [(emoji, who)]
    day_label: str = ""  # set on the first message of each day in a batch
    cart_lines: list = field(default_factory=list)  # [(product name, CartLine)] of a cart, named from the catalog

    def __post_init__(self):
        m = self.message
        self.outbound = m.direction == "outbound"
        self.anchor = f"m{m.pk}"
        moment = m.timestamp
        self.iso = moment.isoformat() if moment else ""
        self.time = timezone.localtime(moment).strftime("%H:%M") if moment else ""
        self.tick_icon, self.tick_label = TICKS.get(m.status, ("", "")) if self.outbound else ("", "")
        self.media_src = reverse("message_media", args=[m.pk]) if self.described.media else ""
        # "Make an order from this" on what a customer wrote.
        self.readable = bool(readable_text(m, self.described))
        # "Use as payment proof" on an image or document a customer sent.
        media = self.described.media
        self.proof = not self.outbound and m.media_type in PROOF_MEDIA_TYPES and bool(media and media.available)
        self.css = " ".join(
            filter(
                None,
                [
                    "bubble",
                    "out" if self.outbound else "in",
                    f"kind-{self.described.kind}",
                    "failed" if m.status == "failed" else "",
                ],
            )
        )


@dataclass
class ThreadPage:
    bubbles: list
    older_cursor: str | None  # where "Load older" continues, None at the first message
    tail_cursor: str | None  # where the live tail starts (the oldest message on this page)
    token: str


def cursor_of(message):
    return paging.encode(message.timestamp, message.pk)


def thread_page(agent_tables, customer, *, before=None, size=PAGE_SIZE):
    """The newest `size` messages, or those before the `before` cursor (InvalidCursor if damaged)."""
    messages = agent_tables.Message.objects.filter(customer=customer)
    if before:
        at, pk = paging.decode(before, paging.dt.datetime, int)
        messages = messages.filter(paging.after("timestamp", at, pk))
    newest_first = list(messages.order_by("-timestamp", "-id")[: size + 1])
    more = len(newest_first) > size
    page = newest_first[:size][::-1]
    bubbles = present(agent_tables, customer, page)
    return ThreadPage(
        bubbles=bubbles,
        older_cursor=cursor_of(page[0]) if more else None,
        tail_cursor=cursor_of(page[0]) if page else None,
        token=thread_token(page),
    )


def thread_tail(agent_tables, customer, since):
    """Every message from the `since` cursor on (oldest first), for the live part of an open thread.

    Returns (page, complete): complete is False when more than TAIL_LIMIT messages arrived.
    """
    messages = agent_tables.Message.objects.filter(customer=customer)
    if since:
        at, pk = paging.decode(since, paging.dt.datetime, int)
        messages = messages.filter(paging.after("timestamp", at, pk, descending=False, inclusive=True))
    newest_first = list(messages.order_by("-timestamp", "-id")[: TAIL_LIMIT + 1])
    complete = len(newest_first) <= TAIL_LIMIT
    page = newest_first[:TAIL_LIMIT][::-1]
    return ThreadPage(
        bubbles=present(agent_tables, customer, page),
        older_cursor=None,
        tail_cursor=cursor_of(page[0]) if page else since,
        token=thread_token(page),
    ), complete


def thread_token(messages):
    """The poll token of what the messages show (new messages, ticks, downloaded media...)."""
    return poll_token((m.pk, m.status, m.error_code, m.media_url, m.message, m.caption) for m in messages)


def present(agent_tables, customer, messages):
    """Bubbles for `messages` (oldest first): reactions drawn on their targets, replies quoting."""
    Message = agent_tables.Message
    shown = {m.wamid: m for m in messages if m.wamid}
    quoted_ids = {m.context_wamid for m in messages if m.context_wamid}
    quoted = {m.wamid: m for m in Message.objects.filter(wamid__in=quoted_ids - shown.keys())} if quoted_ids else {}
    quoted.update(shown)

    # The newest reaction of each side on each shown message wins; an empty emoji removes it.
    reactions = {}
    if shown:
        for reaction in Message.objects.filter(
            customer=customer, wa_type="reaction", context_wamid__in=list(shown)
        ).order_by("timestamp", "id"):
            reactions[(reaction.context_wamid, reaction.direction)] = describe(reaction).emoji

    described_messages = [(message, describe(message)) for message in messages]
    # One query names every product of the page's carts.
    retailer_ids = {line.product_retailer_id for _, d in described_messages if d.cart for line in d.cart.lines}
    names = catalog.names_by_retailer_id(agent_tables.agent_id, retailer_ids) if retailer_ids else {}

    bubbles = []
    last_day = None
    for message, described in described_messages:
        if message.wa_type == "reaction" and message.context_wamid in shown:
            continue  # drawn on the message it reacts to
        bubble = Bubble(message=message, described=described, author=author_of(message, customer))
        if described.cart:
            bubble.cart_lines = [(names.get(line.product_retailer_id), line) for line in described.cart.lines]
        day = timezone.localtime(message.timestamp).date()
        if day != last_day:
            bubble.day_label, last_day = day_label(message.timestamp), day
        if message.context_wamid:
            original = quoted.get(message.context_wamid)
            if original is not None:
                author = "You" if original.direction == "outbound" else customer.name
                bubble.quote = Quote(author=author, preview=describe(original).preview(120))
            else:
                bubble.quote = Quote(author="", preview="A message that is not in this inbox", found=False)
        if message.wamid:
            for direction, who in (("inbound", customer.name), ("outbound", "You")):
                emoji = reactions.get((message.wamid, direction))
                if emoji:
                    bubble.reactions.append((emoji, who))
        bubbles.append(bubble)
    return bubbles


def author_of(message, customer):
    """Who a bubble says wrote the message: the customer, "You", or the app on its own."""
    if message.direction != "outbound":
        return customer.name
    return "Automatic reply" if (message.idempotency_key or "").startswith(AUTOMATIC) else "You"
