"""The inbox: one row per customer who has messages, newest activity first, a page at a time.

Every page costs two indexed queries whatever the agent holds: the customers (ordered by
customers.last_message_at, with the id of each one's preview message found by a correlated
subquery over the thread index) and those preview messages. A page also has a token, a digest of
everything it shows, so that polling answers "nothing changed" without rendering anything.
"""

import hashlib
import re
from dataclasses import dataclass

from django.db.models import Case, OuterRef, Q, Subquery, When

from . import paging
from .rendering import describe

PAGE_SIZE = 25
SHOWS = ("all", "unread", "today")


@dataclass
class InboxRow:
    customer: object
    last_message: object  # the message previewed (the newest, or the newest that matched the search)

    @property
    def described(self):
        return describe(self.last_message) if self.last_message is not None else None


@dataclass
class InboxPage:
    rows: list
    next_cursor: str | None
    token: str


def phone_digits(search):
    """The digits of a search that looks like (part of) a phone number, else None."""
    digits = re.sub(r"[\s().+-]", "", search)
    return digits if len(digits) >= 3 and digits.isdigit() else None


def inbox_page(agent_tables, *, show="all", search="", cursor=None, today_start=None, size=PAGE_SIZE):
    """A page of the inbox. `cursor` comes from a previous page's next_cursor (InvalidCursor if damaged)."""
    Customer, Message = agent_tables.Customer, agent_tables.Message
    customers = Customer.objects.with_messages()
    if show == "unread":
        customers = customers.with_unread()
    elif show == "today":
        customers = customers.filter(last_message_at__gte=today_start)

    thread = Message.objects.filter(customer=OuterRef("pk")).order_by("-timestamp", "-id").values("id")
    search = " ".join(search.split())
    if search:
        by_person = Q(name__icontains=search)
        digits = phone_digits(search)
        if digits:
            by_person |= Q(phone__contains=digits)
        matching = Message.objects.filter(message__icontains=search)
        customers = customers.filter(by_person | Q(pk__in=matching.values("customer_id")))
        # A row found by its messages previews the newest message that matched.
        preview = Case(
            When(by_person, then=Subquery(thread[:1])),
            default=Subquery(thread.filter(message__icontains=search)[:1]),
        )
    else:
        preview = Subquery(thread[:1])

    if cursor:
        last_at, last_id = paging.decode(cursor, paging.dt.datetime, int)
        customers = customers.filter(paging.after("last_message_at", last_at, last_id))
    found = list(customers.annotate(preview_id=preview).order_by("-last_message_at", "-id")[: size + 1])
    more = len(found) > size
    found = found[:size]

    messages = Message.objects.in_bulk([c.preview_id for c in found if c.preview_id])
    rows = [InboxRow(customer, messages.get(customer.preview_id)) for customer in found]
    next_cursor = paging.encode(found[-1].last_message_at, found[-1].id) if more else None
    return InboxPage(rows=rows, next_cursor=next_cursor, token=page_token(rows, next_cursor))


def page_token(rows, next_cursor):
    """A digest of what a page shows: equal tokens, equal pages."""
    digest = hashlib.blake2b(digest_size=12)
    for row in rows:
        c, m = row.customer, row.last_message
        digest.update(repr((
            c.id, c.name, c.phone, c.profile_image_url, c.unread_count, c.last_message_at,
            m and (m.id, m.status, m.media_url, m.message, m.caption),
        )).encode())
    digest.update(repr(next_cursor).encode())
    return digest.hexdigest()
