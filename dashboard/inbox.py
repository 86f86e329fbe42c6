"""The inbox: one row per customer who has messages, newest activity first, a page at a time.

Every page costs two indexed queries whatever the agent holds: the customers (ordered by
customers.last_message_at, with the id of each one's preview message found by a correlated
subquery over the thread index) and those preview messages. A page also has a token, a digest of
everything it shows, so that polling answers "nothing changed" without rendering anything.
"""

from dataclasses import dataclass, field

from django.db.models import Case, F, OuterRef, Q, Subquery, When
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from agents import conversations, labels
from agents.customers import display_phone, phone_digits
from crm import paging

from .customers import avatar_of
from .dates import short_time
from .polling import poll_token
from .rendering import describe
from .threads import TICKS

PAGE_SIZE = 25
# Above this many matching messages, a search walks customers instead of listing the matches.
MANY_MATCHES = 2000
SHOWS = ("all", "needs_reply", "unread", "open", "done", "snoozed", "today")
FILTER_NAMES = {
    "needs_reply": "Needs reply",
    "open": "Open",
    "unread": "Unread",
    "snoozed": "Snoozed",
    "done": "Done",
    "all": "All",
    "today": "Today",
}


@dataclass
class InboxRow:
    """One conversation in the list, with what the template prints worked out here."""

    customer: object
    last_message: object  # the message previewed (the newest, or the newest that matched the search)
    labels: list = field(default_factory=list)

    def __post_init__(self):
        c, m = self.customer, self.last_message
        self.preview = describe(m).preview() if m is not None else ""
        self.avatar = avatar_of(c)
        self.phone = display_phone(c.phone)
        self.time = short_time(c.last_message_at)
        self.iso = c.last_message_at.isoformat() if c.last_message_at else ""
        outbound = m is not None and m.direction == "outbound"
        self.tick_icon, self.tick_label = TICKS.get(m.status, ("", "")) if outbound else ("", "")
        self.tick_status = m.status if outbound else ""
        self.needs_reply = bool(c.awaiting_reply_since) and conversations.queue_state(c) == "open"


@dataclass
class InboxQueue:
    """The filters above the list, each with its count, and the customers a label filter keeps."""

    counts: dict
    filters: list  # [(value, name, url, count or None)]
    label_filters: list  # [(label, url, count)]
    labelled: object  # the customer ids of the label filtered by (agents.labels), None without one


def inbox_queue(agent, agent_tables, *, show, search, label):
    """What the filter bar shows: one query for the counts, one for the labels with theirs."""
    counts = conversations.queue_counts(agent_tables)
    keep = {"q": search} if search else {}
    label_keep = {"label": label.pk} if label else {}
    filters = [
        (value, name, reverse("inbox") + "?" + urlencode({"show": value, **keep, **label_keep}), counts.get(value))
        for value, name in FILTER_NAMES.items()
    ]
    label_filters = [
        (
            one,
            reverse("inbox") + "?" + urlencode({**({"show": show} if show != "all" else {}), **keep, "label": one.pk}),
            one.customer_count,
        )
        for one in labels.labels_of(agent)
    ]
    labelled = labels.customer_ids_labelled(agent, agent_tables, label) if label else None
    return InboxQueue(counts=counts, filters=filters, label_filters=label_filters, labelled=labelled)


def inbox_with_filters(agent, agent_tables, *, show, search, cursor, label, today):
    """(InboxQueue, InboxPage): the filter bar and the page of conversations it shows."""
    queue = inbox_queue(agent, agent_tables, show=show, search=search, label=label)
    page = inbox_page(
        agent_tables,
        agent=agent,
        show=show,
        search=search,
        cursor=cursor,
        today_start=today,
        labelled=queue.labelled,
        counts=queue.counts,
    )
    return queue, page


@dataclass
class InboxPage:
    rows: list
    next_cursor: str | None
    token: str


def inbox_page(
    agent_tables,
    *,
    agent=None,
    show="all",
    search="",
    cursor=None,
    today_start=None,
    labelled=None,
    counts=None,
    size=PAGE_SIZE,
):
    """A page of the inbox. `cursor` comes from a previous page's next_cursor (InvalidCursor if damaged).

    `labelled`: only these customer ids (a label's customers), or None for everyone. With `agent`, each
    row carries the customer's labels; `counts` (the filters' counts) are part of the page's poll token.
    """
    Customer, Message = agent_tables.Customer, agent_tables.Message
    customers = Customer.objects.with_messages()
    if show == "today":
        customers = customers.filter(last_message_at__gte=today_start)
    elif show != "all":
        customers = customers.filter(conversations.queue_filters(timezone.now())[show])
    if labelled is not None:
        customers = customers.filter(pk__in=labelled)

    thread = Message.objects.filter(customer=OuterRef("pk")).order_by("-timestamp", "-id").values("id")
    search = " ".join(search.split())
    if search:
        by_person = Q(name__icontains=search)
        digits = phone_digits(search)
        if digits:
            by_person |= Q(phone__contains=digits)
        matching = Message.objects.filter(message__icontains=search)
        newest_match = Subquery(thread.filter(message__icontains=search)[:1])
        if matching[:MANY_MATCHES].count() < MANY_MATCHES:
            # Few messages match: the trigram index lists them and their customers make a small set.
            customers = customers.filter(by_person | Q(pk__in=matching.values("customer_id")))
        else:
            # Many match (a common word): listing them all would cost more than walking customers in
            # activity order, where each one's thread index meets a match within a few rows.
            customers = customers.annotate(match_id=newest_match).filter(by_person | Q(match_id__isnull=False))
            newest_match = F("match_id")
        # A row found by its messages previews the newest message that matched.
        preview = Case(When(by_person, then=Subquery(thread[:1])), default=newest_match)
    else:
        preview = Subquery(thread[:1])

    if cursor:
        last_at, last_id = paging.decode(cursor, paging.dt.datetime, int)
        customers = customers.filter(paging.after("last_message_at", last_at, last_id))
    found = list(customers.annotate(preview_id=preview).order_by("-last_message_at", "-id")[: size + 1])
    more = len(found) > size
    found = found[:size]

    messages = Message.objects.in_bulk([c.preview_id for c in found if c.preview_id])
    on = labels.labels_by_customer(agent, [c.pk for c in found]) if agent is not None and found else {}
    rows = [InboxRow(customer, messages.get(customer.preview_id), on.get(customer.pk, [])) for customer in found]
    next_cursor = paging.encode(found[-1].last_message_at, found[-1].id) if more else None
    return InboxPage(rows=rows, next_cursor=next_cursor, token=page_token(rows, next_cursor, counts))


def page_token(rows, next_cursor, counts=None):
    """The poll token of what a page shows: equal tokens, equal pages."""
    shown = []
    for row in rows:
        c, m = row.customer, row.last_message
        shown.append(
            (
                c.id,
                c.name,
                c.phone,
                c.profile_image_url,
                c.unread_count,
                c.last_message_at,
                row.needs_reply,
                [(label.pk, label.name, label.colour) for label in row.labels],
                m and (m.id, m.status, m.media_url, m.message, m.caption),
            )
        )
    return poll_token([*shown, next_cursor, sorted((counts or {}).items())])
