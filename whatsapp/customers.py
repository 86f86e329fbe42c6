"""Who sent an inbound message, and the agent's customer row for them (created on the first message).

A customer is known by their phone number (E.164, the contract's `phone`) and, since 2026, by
WhatsApp's business-scoped user id (BSUID, kept in `wa_user_id`). A message may carry both, or only
the BSUID when the user has adopted a username. A customer known only by a BSUID gets the BSUID in
`phone` (NOT NULL and unique in the contract): it is the address the Cloud API accepts in `to`, so
replies still reach them; the real number replaces it as soon as a payload carries it.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

import audit
from agents import tables as agent_tables
from agents.models import Agent
from crm import rls
from crm.phones import to_e164

from . import payloads
from .inbound import MalformedMessage
from .models import CustomerNumberChange

# BSUIDs are "up to 256 alphanumeric characters" (Meta's business-scoped user id guide) plus a prefix.
MAX_USER_ID_LENGTH = 300


@dataclass(frozen=True)
class Sender:
    phone: str | None
    wa_user_id: str | None
    profile_name: str | None = None
    username: str | None = None
    parent_user_id: str | None = None

    @property
    def address(self):
        """What goes into `customers.phone`: the E.164 number, else the BSUID."""
        return self.phone or self.wa_user_id

    @property
    def display_name(self):
        return self.profile_name or self.username or self.address


def _string(value, limit=None):
    """payloads.text(value), but None for a value longer than `limit` (no identity is that long)."""
    found = payloads.text(value)
    return found if found is not None and (limit is None or len(value) <= limit) else None


# A business-scoped user id as Meta writes them ("US.13491208655302741918", "US.ENT.118157992128868"): letters,
# digits and dots, maybe "_" or "-". Anything else (quotes, spaces, "=" or "(") is no user id, and is never stored
# where it would be shown, searched or exported as one.
_USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def user_id_or_none(raw):
    """A business-scoped user id (BSUID) as Meta sends it, or None when it is empty or not shaped like one."""
    value = _string(raw, MAX_USER_ID_LENGTH)
    return value if value is not None and _USER_ID.fullmatch(value) else None


def phone_or_none(raw):
    """E.164 for a WhatsApp number (`16505551234`), or None when it is empty or not a number."""
    if not _string(raw, 64):
        return None
    try:
        return to_e164(raw)
    except ValidationError:
        return None


def _matching_contact(contacts, wa_id, user_id):
    """The `contacts` entry describing the sender (matched by wa_id or BSUID), else the only one."""
    candidates = [contact for contact in contacts if isinstance(contact, dict)] if isinstance(contacts, list) else []
    for contact in candidates:
        if (wa_id and contact.get("wa_id") == wa_id) or (user_id and contact.get("user_id") == user_id):
            return contact
    if len(candidates) == 1 and not (wa_id and _string(candidates[0].get("wa_id"))):
        return candidates[0]
    return {}


def sender_of(message, contacts):
    """The Sender of one inbound message object, from its `from`/`from_user_id` and the value's contacts.

    Raises MalformedMessage when neither a phone number nor a BSUID identifies the sender.
    """
    wa_id = _string(message.get("from"), 64)
    user_id = user_id_or_none(message.get("from_user_id"))
    contact = _matching_contact(contacts, wa_id, user_id)
    profile = contact.get("profile") if isinstance(contact.get("profile"), dict) else {}
    phone = phone_or_none(wa_id) or phone_or_none(contact.get("wa_id"))
    user_id = user_id or user_id_or_none(contact.get("user_id"))
    if phone is None and user_id is None:
        raise MalformedMessage("the message names no sender (no usable 'from' number nor business-scoped user id)")
    return Sender(
        phone=phone,
        wa_user_id=user_id,
        profile_name=_string(profile.get("name"), 200),
        username=_string(profile.get("username"), 100),
        parent_user_id=user_id_or_none(message.get("from_parent_user_id"))
        or user_id_or_none(contact.get("parent_user_id")),
    )


def _lookup(tables, sender):
    Customer = tables.Customer
    if sender.wa_user_id:
        customer = Customer.objects.filter(wa_user_id=sender.wa_user_id).first()
        if customer is not None:
            return customer
    return Customer.objects.filter(phone=sender.address).first()


def customers_for(tables, senders):
    """The existing customers for many senders in one query: {sender: customer} (absent when new)."""
    if not senders:
        return {}
    user_ids = sorted({sender.wa_user_id for sender in senders if sender.wa_user_id})
    addresses = sorted({sender.address for sender in senders})
    Customer = tables.Customer
    # Written out rather than built by the ORM: the intake runs this for every agent of every batch,
    # and compiling the query cost more than running it.
    quote = connections[tables.database].ops.quote_name
    condition = f"phone IN ({', '.join(['%s'] * len(addresses))})"
    if user_ids:
        condition += f" OR wa_user_id IN ({', '.join(['%s'] * len(user_ids))})"
    rows = Customer.objects.raw(
        f"SELECT id, name, phone, wa_user_id, username, wa_parent_user_id FROM {quote(Customer._meta.db_table)} "
        f"WHERE {condition}",
        addresses + user_ids,
    )
    by_user_id, by_phone = {}, {}
    for customer in rows:
        by_phone[customer.phone] = customer
        if customer.wa_user_id:
            by_user_id[customer.wa_user_id] = customer
    found = {}
    for sender in senders:
        customer = by_user_id.get(sender.wa_user_id) or by_phone.get(sender.address)
        if customer is not None:
            found[sender] = customer
    return found


def find_or_create_customer(tables, sender):
    """The agent's customer for `sender`, created if new.

    Two deliveries racing for a new number make one customer: the insert skips a row that a
    concurrent transaction already holds (the unique phone and BSUID), and the winner's row is read.
    """
    customer = _lookup(tables, sender)
    if customer is not None:
        return customer
    Customer = tables.Customer
    new = Customer(
        name=sender.display_name,
        phone=sender.address,
        wa_user_id=sender.wa_user_id,
        username=sender.username,
        wa_parent_user_id=sender.parent_user_id,
    )
    Customer.objects.bulk_create([new], ignore_conflicts=True)
    customer = _lookup(tables, sender)
    if customer is None:
        # The insert met a row whose phone or BSUID matches only part of this sender's identity.
        raise IntegrityError(f"no customer for {sender.address} and none could be created")
    return customer


def _is_placeholder_name(customer, sender):
    """Whether the customer's name is only an identifier (set when no profile name was known)."""
    name = customer.name.strip()
    identifiers = {
        customer.phone,
        customer.wa_user_id,
        customer.username,
        sender.phone,
        sender.wa_user_id,
        sender.username,
    }
    return name in identifiers or name.lstrip("+") == (customer.phone or "").lstrip("+") or not name


def _update_if_free(tables, customer, **changes):
    """Apply `changes` unless another customer holds the same phone or BSUID (then leave them)."""
    try:
        with transaction.atomic(using=tables.database):
            tables.Customer.objects.filter(pk=customer.pk).update(**changes)
    except IntegrityError:
        return False
    for field, value in changes.items():
        setattr(customer, field, value)
    return True


def learn_from_sender(tables, customer, sender):
    """Complete what the customer row lacks with what a new message tells: BSUID, number, profile name,
    username (kept up to date: users change theirs), parent BSUID.

    A profile name replaces only a name that was an identifier; a real number replaces a BSUID
    standing in for it. Nothing is ever overwritten that an agent may have typed.
    """
    changes = {}
    if sender.wa_user_id and not customer.wa_user_id:
        changes["wa_user_id"] = sender.wa_user_id
    if sender.username and sender.username != customer.username:
        changes["username"] = sender.username
        if customer.username and customer.name == customer.username:
            changes["name"] = sender.profile_name or sender.username
    if sender.parent_user_id and sender.parent_user_id != customer.wa_parent_user_id:
        changes["wa_parent_user_id"] = sender.parent_user_id
    if sender.phone and customer.phone != sender.phone and not customer.phone.startswith("+"):
        changes["phone"] = sender.phone
    if (
        sender.profile_name
        and customer.name != sender.profile_name
        and "name" not in changes
        and _is_placeholder_name(customer, sender)
    ):
        changes["name"] = sender.profile_name
    if changes:
        _update_if_free(tables, customer, **changes)


def apply_identity_change(tables, customer, system, *, wamid, at):
    """A `system` message says the customer changed number (`user_changed_number`) or BSUID
    (`user_changed_user_id`): move the customer row to the new identity, unless another customer
    already holds it. Returns True when the row changed.

    A number change is recorded (CustomerNumberChange, once per system message `wamid`): the customer's
    page lists their earlier numbers and an admin can undo the move.
    """
    kind = system.get("type")
    if kind == "user_changed_number":
        new_phone = phone_or_none(system.get("wa_id"))
        if new_phone is None or new_phone == customer.phone:
            return False
        old_phone = customer.phone
        changes = {"phone": new_phone}
        if customer.name in (customer.phone, customer.wa_user_id):
            changes["name"] = new_phone
        if not _update_if_free(tables, customer, **changes):
            return False
        CustomerNumberChange.objects.bulk_create(
            [
                CustomerNumberChange(
                    agent_id=tables.agent_id,
                    customer_id=customer.pk,
                    wamid=wamid,
                    old_phone=old_phone,
                    new_phone=new_phone,
                    changed_at=at,
                )
            ],
            ignore_conflicts=True,
        )
        return True
    if kind == "user_changed_user_id":
        new_user_id = user_id_or_none(system.get("user_id"))
        if new_user_id is None or new_user_id == customer.wa_user_id:
            return False
        changes = {"wa_user_id": new_user_id}
        if customer.phone == customer.wa_user_id:
            changes["phone"] = phone_or_none(system.get("wa_id")) or new_user_id
        return _update_if_free(tables, customer, **changes)
    return False


def number_changes(agent_id, customer_id):
    """The customer's moves to a new number, newest first (undone ones included, marked)."""
    return list(CustomerNumberChange.objects.filter(agent_id=agent_id, customer_id=customer_id))


class UndoRefused(ValueError):
    """The number change cannot be undone; str() says why."""


def undo_number_change(change, *, user, request=None):
    """Move the customer back to the number they had before `change` (an admin's correction).

    Refused when it was undone already, when the customer has moved on since, or when another customer
    of the agent holds the old number now.
    """
    if change.undone_at is not None:
        raise UndoRefused(f"The change to {change.new_phone} was undone already.")
    tables = agent_tables.for_agent(Agent.objects.get(pk=change.agent_id))
    with rls.agent_scope(change.agent_id), transaction.atomic(using=tables.database):
        customer = tables.Customer.objects.select_for_update().filter(pk=change.customer_id).first()
        if customer is None:
            raise UndoRefused("The customer no longer exists.")
        if customer.phone != change.new_phone:
            raise UndoRefused(f"The customer's number is {customer.phone} now, not {change.new_phone}.")
        changes = {"phone": change.old_phone}
        if customer.name == change.new_phone:
            changes["name"] = change.old_phone
        if not _update_if_free(tables, customer, **changes):
            raise UndoRefused(f"Another customer has the number {change.old_phone} now.")
        CustomerNumberChange.objects.filter(pk=change.pk).update(undone_at=timezone.now(), undone_by=user)
        audit.record(
            "whatsapp.number_change_undone",
            actor=user,
            target=change,
            request=request,
            customer_id=change.customer_id,
            restored=change.old_phone,
            dropped=change.new_phone,
        )


def has_phone_number(customer):
    """Whether the customer's `phone` is a phone number (E.164), not a business-scoped user id standing in."""
    return customer.phone.startswith("+")


def learn_from_status(tables, status):
    """What a status of an outbound message says of its recipient: their BSUID (`recipient_user_id`), and
    their number (`recipient_id`) for a customer known only by a BSUID, which then joins the same customer.

    Only statuses carrying a BSUID cost a query: the customer is found by it, or through the message.
    """
    user_id = user_id_or_none(status.get("recipient_user_id"))
    if user_id is None:
        return
    Customer = tables.Customer
    customer = Customer.objects.filter(wa_user_id=user_id).first()
    if customer is None:
        wamid = status.get("id")
        customer = Customer.objects.filter(messages__wamid=wamid, messages__direction="outbound").first()
        if customer is None or customer.wa_user_id:
            return
        _update_if_free(tables, customer, wa_user_id=user_id)
    phone = phone_or_none(status.get("recipient_id"))
    if phone and not has_phone_number(customer):
        _update_if_free(tables, customer, phone=phone)
