"""The intake of Meta's webhook notifications: store each one durably, then turn it into rows.

`parse_notification` + `store_event` are the acknowledgement path (the webhook answers 200 once the
raw event row exists). `process_due_events` (the worker, in batches) and `process_events_now` (inline
after storing, replays) route each change to an agent by its phone number id (configuration.route)
and store its messages and statuses (apps above whatsapp act on new messages through whatsapp.hooks:
orders on carts and replies to order summaries).
A batch's messages are stored together, a few statements per agent (one savepoint);
only when that fails are they stored agent by agent, then each alone in its own savepoint, so one bad
item never loses the others. Each status is applied in its own savepoint. Processing is idempotent
(messages de-duplicated by wamid, statuses forward-only): a re-delivery or a replay changes nothing.
"""

import datetime as dt
import json
import logging
import math
import traceback
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import InterfaceError, OperationalError, connections, router, transaction
from django.db.models import BigIntegerField, Case, Value, When
from django.utils import timezone

from agents import tables as agent_tables
from agents.conversations import note_new_messages
from agents.models import Agent
from agents.moving import held_agents
from agents.shop import read_shops, shop_of
from crm import rls

from . import coexistence, customers, hooks, inbound, media, message_templates, slices, statuses
from .configuration import route
from .hooks import inbound_handlers
from .models import WebhookEvent

log = logging.getLogger(__name__)

NOTIFICATION_OBJECT = "whatsapp_business_account"
# A processing failure that is not the payload's fault (a database error...) is retried after these
# delays, then the event is left failed for an admin to replay.
RETRY_DELAYS = (dt.timedelta(seconds=30), dt.timedelta(minutes=2), dt.timedelta(minutes=10), dt.timedelta(minutes=30))
# A status can arrive before our send task has recorded the message's wamid: look again after these.
UNKNOWN_STATUS_DELAYS = (dt.timedelta(seconds=10), dt.timedelta(minutes=1), dt.timedelta(minutes=5))
# An event for an agent whose tables are moving to another database waits, untouched, until the move
# releases it (whatsapp.holds) or this long has passed.
MOVE_HOLD_DELAY = dt.timedelta(seconds=5)
HELD_SUMMARY = "held: its agent is moving to another database"
MAX_WAMID_LENGTH = 256
# Meta's notifications nest about eight levels deep. Far deeper ones are refused at the door: every step
# after it (cleaning, describing, storing as JSON) walks them recursively and would run out of stack.
MAX_NESTING = 64


class InvalidNotification(ValueError):
    """The body is not JSON, or not a WhatsApp Business Account notification."""


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _reject_constant(name):
    raise ValueError(f"{name} is not valid JSON")


def _load(text):
    return json.loads(text, parse_float=_finite_float, parse_constant=_reject_constant)


def parse_notification(body):
    """(text, payload, phone number id) of a signed request body; raises InvalidNotification.

    Only the envelope is checked here (object, entry, changes, field, value): what a change holds is
    the processor's business, so that one odd item never costs Meta a retry of the whole delivery.
    """
    try:
        text = body.decode("utf-8")
        payload = _load(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InvalidNotification(f"the body is not JSON ({error.__class__.__name__})") from None
    if not isinstance(payload, dict) or payload.get("object") != NOTIFICATION_OBJECT:
        raise InvalidNotification(f"not a WhatsApp notification (object is not {NOTIFICATION_OBJECT!r})")
    if _nested_deeper_than(payload, MAX_NESTING):
        raise InvalidNotification(f"the body is nested more than {MAX_NESTING} levels deep")
    entries = payload.get("entry")
    if not isinstance(entries, list) or not entries:
        raise InvalidNotification("a notification needs a non-empty 'entry' list")
    phone_number_id = ""
    for entry in entries:
        changes = entry.get("changes") if isinstance(entry, dict) else None
        if not isinstance(changes, list):
            raise InvalidNotification("every entry needs a 'changes' list")
        for change in changes:
            if not isinstance(change, dict) or not isinstance(change.get("field"), str):
                raise InvalidNotification("every change needs a 'field' name")
            if not isinstance(change.get("value"), dict):
                raise InvalidNotification("every change needs a 'value' object")
            phone_number_id = phone_number_id or _phone_number_id(change["value"]) or ""
    return text, payload, phone_number_id


def _nested_deeper_than(payload, limit):
    """Whether a parsed body holds objects or arrays more than `limit` levels deep (walked without recursion)."""
    stack = [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children:
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in children)
    return False


def _phone_number_id(value):
    metadata = value.get("metadata")
    number_id = metadata.get("phone_number_id") if isinstance(metadata, dict) else None
    if isinstance(number_id, str) and 0 < len(number_id.strip()) <= 64:
        return inbound.clean(number_id.strip())
    return None


def store_event(text, phone_number_id=""):
    """Store a signed notification as a pending event; returns its id. A database error propagates
    (the caller answers 5xx).

    One plain INSERT: this is the acknowledgement path, where the ORM's model and SQL building cost
    more CPU than the database (bench/README.md). The INSERT is its own health check: Django's
    (CONN_HEALTH_CHECKS) would cost a `SELECT 1` round trip before it on every delivery; instead a
    kept connection that has died since the last request (a server restart) is replaced and the
    INSERT tried once more. Were the first INSERT stored after all (the answer lost with the
    connection), the event is there twice, which processing handles like any redelivery: once per
    WhatsApp id.
    """
    database = router.db_for_write(WebhookEvent)
    connection = connections[database]
    sql = (
        f"INSERT INTO {connection.ops.quote_name(WebhookEvent._meta.db_table)} "
        "(body, phone_number_id, state, attempts, summary, error, intake_slice) VALUES (%s, %s, %s, 0, '', '', %s) "
        "RETURNING id"
    )
    phone_number_id = phone_number_id[:64]
    params = [text, phone_number_id, WebhookEvent.State.PENDING, slices.slice_of(phone_number_id)]
    kept = connection.connection is not None and not connection.in_atomic_block
    if kept:
        connection.health_check_done = True
    # An event not routed yet belongs to no agent: only the unrestricted scope may write (and read) it.
    with rls.unrestricted():
        try:
            return _insert_returning_id(connection, database, sql, params)
        except (OperationalError, InterfaceError):
            if not kept or connection.is_usable():
                raise
            log.warning("webhook: the kept database connection was dead; storing the event on a new one")
            connection.close()
            return _insert_returning_id(connection, database, sql, params)


def _insert_returning_id(connection, database, sql, params):
    with transaction.mark_for_rollback_on_error(using=database), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# Processing -------------------------------------------------------------------------------------


@dataclass
class _Tally:
    """What processing did with one event's items, for its summary, error and next state."""

    stored: int = 0
    duplicates: int = 0
    statuses: dict = field(default_factory=lambda: defaultdict(int))
    unknown_statuses: list = field(default_factory=list)
    unroutable: set = field(default_factory=set)
    agents: set = field(default_factory=set)
    ignored_fields: set = field(default_factory=set)
    notices: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    retry: bool = False
    held: bool = False

    def fail(self, label, error):
        if isinstance(error, inbound.MalformedMessage):
            self.errors.append(f"{label}: {error}")
        else:
            # Not the payload's fault (a database error, a bug): worth trying again later.
            self.retry = True
            self.errors.append(f"{label}: {error.__class__.__name__}: {error}")
            log.warning("webhook %s failed", label, exc_info=error)

    def summary(self):
        parts = []
        if self.stored:
            parts.append(f"{self.stored} message{'s' if self.stored != 1 else ''} stored")
        if self.duplicates:
            parts.append(f"{self.duplicates} already stored")
        for outcome, count in sorted(self.statuses.items()):
            parts.append(f"{count} status{'es' if count != 1 else ''} {outcome}")
        if self.unknown_statuses:
            parts.append(
                f"{len(self.unknown_statuses)} status{'es' if len(self.unknown_statuses) != 1 else ''} "
                f"for a message we do not know ({', '.join(self.unknown_statuses[:5])})"
            )
        for number_id in sorted(self.unroutable):
            parts.append(f"phone number id {number_id!r} has no active WhatsApp configuration with an agent")
        if self.ignored_fields:
            parts.append("ignored: " + ", ".join(sorted(self.ignored_fields)))
        parts.extend(self.notices)
        return "; ".join(parts) or "nothing to do"


@dataclass
class _MessageItem:
    tally: _Tally
    wamid: str
    sender: customers.Sender
    content: inbound.InboundContent
    timestamp: dt.datetime
    payload: dict
    agent: Agent  # the agent its number routed to (this batch's row), for the apps acting on the message
    direction: str = "inbound"  # "outbound": sent by the seller from the WhatsApp Business app (an echo)

    @property
    def label(self):
        return f"message {self.wamid}"


def _prepare_message(tally, agent, message, contacts, value_errors=()):
    """A storable item from one `messages` object (checked and described before any query); raises MalformedMessage."""
    if not isinstance(message, dict):
        raise inbound.MalformedMessage("a message must be an object")
    message = inbound.clean(message)
    wamid = message.get("id")
    if not isinstance(wamid, str) or not wamid.strip() or len(wamid) > MAX_WAMID_LENGTH:
        raise inbound.MalformedMessage("a message needs its WhatsApp message id")
    return _MessageItem(
        tally=tally,
        wamid=wamid.strip(),
        sender=customers.sender_of(message, contacts),
        content=inbound.describe(message, shop_of(agent), value_errors),
        timestamp=statuses.timestamp_of(message.get("timestamp")),
        payload=message,
        agent=agent,
    )


def _prepare_echo(tally, agent, echo):
    """A storable outbound item from one `message_echoes` object (the seller wrote from the Business app)."""
    if not isinstance(echo, dict):
        raise inbound.MalformedMessage("a message echo must be an object")
    echo = inbound.clean(echo)
    wamid = echo.get("id")
    if not isinstance(wamid, str) or not wamid.strip() or len(wamid) > MAX_WAMID_LENGTH:
        raise inbound.MalformedMessage("a message echo needs its WhatsApp message id")
    phone = customers.phone_or_none(echo.get("to"))
    user_id = customers.user_id_or_none(echo.get("to_user_id"))
    if phone is None and user_id is None:
        raise inbound.MalformedMessage("a message echo names no recipient ('to')")
    return _MessageItem(
        tally=tally,
        wamid=wamid.strip(),
        sender=customers.Sender(phone=phone, wa_user_id=user_id),
        content=coexistence.describe_sent(echo),
        timestamp=statuses.timestamp_of(echo.get("timestamp")),
        payload=echo,
        agent=agent,
        direction="outbound",
    )


def _changes(payload):
    """(entry, field, value) of each change of a notification."""
    for entry in payload.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                yield entry, change.get("field"), change["value"]


# The message columns the intake writes, in the order of its INSERT.
INSERTED_COLUMNS = (
    "customer",
    "message",
    "direction",
    "timestamp",
    "is_read",
    "media_type",
    "caption",
    "wamid",
    "wa_type",
    "payload",
    "context_wamid",
    "media_id",
    "media_mime_type",
    "error_code",
    "error_title",
    "error_detail",
    "status",
    "status_at",
)


def _insert_new(tables, rows):
    """INSERT the rows, skipping any whose wamid is already stored (a re-delivery, or a concurrent
    transaction storing it right now); sets `pk` on the rows inserted and returns them.

    One statement whatever the number of rows: the batch path's main saving.
    """
    Message = tables.Message
    connection = connections[tables.database]
    fields = [Message._meta.get_field(name) for name in INSERTED_COLUMNS]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(rows))
    sql = (
        f"INSERT INTO {connection.ops.quote_name(Message._meta.db_table)} ({columns}) VALUES {placeholders} "
        "ON CONFLICT DO NOTHING RETURNING id, wamid"
    )
    params = [field.get_db_prep_save(getattr(row, field.attname), connection) for row in rows for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = {wamid: pk for pk, wamid in cursor.fetchall()}
    inserted = []
    for row in rows:
        if row.wamid in ids:
            row.pk = ids[row.wamid]
            row._state.adding, row._state.db = False, tables.database
            inserted.append(row)
    return inserted


def _stored_wamids(tables, wamids):
    return set(tables.Message.objects.filter(wamid__in=wamids).values_list("wamid", flat=True))


def _new_messages(tables, items):
    """Store the items whose wamid is new, in a few statements; returns {wamid: "stored" or "duplicate"}.

    Runs inside the caller's savepoint: any error undoes all of it.
    """
    outcomes, fresh = {}, []
    for item in items:
        if item.wamid in outcomes:
            outcomes[item.wamid] = "duplicate"
        else:
            outcomes[item.wamid] = None
            fresh.append(item)
    known = customers.customers_for(tables, [item.sender for item in fresh])
    if any(item.sender not in known for item in fresh):
        # A message stored before is no reason to create its sender: re-delivered from a number the
        # customer has since left (a `user_changed_number`), it would leave an empty customer behind.
        stored = _stored_wamids(tables, [item.wamid for item in fresh if item.sender not in known])
        for item in fresh:
            if item.wamid in stored:
                outcomes[item.wamid] = "duplicate"
        fresh = [item for item in fresh if item.wamid not in stored]
    rows = []
    for item in fresh:
        customer = known.get(item.sender)
        if customer is None:
            customer = known[item.sender] = customers.find_or_create_customer(tables, item.sender)
        content = item.content
        sent = item.direction == "outbound"
        rows.append(
            tables.Message(
                customer=customer,
                message=content.message,
                direction=item.direction,
                timestamp=item.timestamp,
                is_read=sent,
                status="sent" if sent else None,
                status_at=item.timestamp if sent else None,
                media_type=content.media_type,
                caption=content.caption,
                wamid=item.wamid,
                wa_type=content.wa_type,
                payload=item.payload,
                context_wamid=content.context_wamid,
                media_id=content.media_id,
                media_mime_type=content.media_mime_type,
                error_code=content.error_code,
                error_title=content.error_title,
                error_detail=content.error_detail,
            )
        )
    inserted = _insert_new(tables, rows) if rows else []
    by_wamid = {item.wamid: item for item in fresh}
    for row in inserted:
        item = by_wamid[row.wamid]
        outcomes[row.wamid] = "stored"
        if item.direction == "outbound":
            continue  # an echo of the seller's own message says nothing new of the customer
        if item.content.wa_type == "system":
            customers.apply_identity_change(
                tables, row.customer, item.payload.get("system") or {}, wamid=row.wamid, at=row.timestamp
            )
        else:
            customers.learn_from_sender(tables, row.customer, item.sender)
    note_new_messages(tables, inserted)
    media.schedule_downloads(tables.agent_id, inserted)
    for row in inserted:
        undeliverable = by_wamid[row.wamid].content.undeliverable
        handlers = inbound_handlers(row.wa_type) if row.direction == "inbound" and not undeliverable else ()
        if handlers:
            _hand_over(tables, by_wamid[row.wamid], row, handlers)
    return {wamid: outcome or "duplicate" for wamid, outcome in outcomes.items()}


def _runs(items):
    """The items cut around system messages, which change who a customer is: each run sees the change in order."""
    runs, run = [], []
    for item in items:
        if item.content.wa_type == "system":
            runs.extend([run, [item]])
            run = []
        else:
            run.append(item)
    runs.append(run)
    return [run for run in runs if run]


def _count(items, outcomes):
    for item in items:
        outcome = outcomes.get(item.wamid)
        if outcome == "stored":
            item.tally.stored += 1
            outcomes[item.wamid] = "counted"
        elif outcome is not None:
            item.tally.duplicates += 1


def _hand_over(tables, item, message, handlers):
    """Give a newly stored message to the apps that act on it (whatsapp.hooks: orders turns a cart into a
    draft order and a tap on an order summary's button into its answer).

    A handler that fails leaves the message stored and says so in the event's summary; Meta delivering the
    message again changes nothing twice, since only a newly stored message is handed over.
    """
    agent = item.agent
    for handler in handlers:
        try:
            with transaction.atomic(using=tables.database):
                notice = handler(agent, message)
        except Exception as error:
            log.warning("message %s: %s failed", item.wamid, handler.__qualname__, exc_info=error)
            notice = (
                f"message {item.wamid} was not handled by {handler.__module__} ({error.__class__.__name__}: {error})"
            )
        if notice:
            item.tally.notices.append(notice)


def _store_carefully(tables, items):
    """Store an agent's items a run at a time, each item alone in its own savepoint when its run fails."""
    for run in _runs(items):
        try:
            with transaction.atomic(using=tables.database):
                outcomes = _new_messages(tables, run)
        except Exception:
            outcomes = {}
            for item in run:
                try:
                    with transaction.atomic(using=tables.database):
                        outcomes.update(_new_messages(tables, [item]))
                except Exception as error:
                    item.tally.fail(item.label, error)
        _count(run, outcomes)


def _store_messages(work):
    """Store every agent's message items of a batch: first all together (one savepoint per database),
    and only when that fails agent by agent, run by run, item by item.
    """
    by_database = defaultdict(list)
    for tables, items in work:
        by_database[tables.database].append((tables, items))
    for database, groups in by_database.items():
        try:
            with transaction.atomic(using=database):
                results = []
                for tables, items in groups:
                    outcomes = {}
                    with rls.agent_scope(tables.agent_id):
                        for run in _runs(items):
                            outcomes.update(_new_messages(tables, run))
                    results.append((items, outcomes))
        except Exception:
            for tables, items in groups:
                with rls.agent_scope(tables.agent_id):
                    _store_carefully(tables, items)
        else:
            for items, outcomes in results:
                _count(items, outcomes)


def _apply_status(tables, tally, status):
    label = f"status {status.get('status')!r} for {status.get('id')!r}"[:200] if isinstance(status, dict) else "status"
    try:
        if not isinstance(status, dict):
            raise inbound.MalformedMessage("a status must be an object")
        kind = status.get("type")
        handler = hooks.status_type_handlers().get(kind) if isinstance(kind, str) else None
        if handler is not None:
            with transaction.atomic(using=tables.database):
                tally.notices.append(handler(tables, inbound.clean(status)))
            return
        with transaction.atomic(using=tables.database):
            status = inbound.clean(status)
            outcome = statuses.apply_status_update(tables, status)
            customers.learn_from_status(tables, status)
            if outcome is statuses.StatusOutcome.APPLIED and hooks.status_handlers():
                message = tables.Message.objects.outbound().filter(wamid=status.get("id")).first()
                for handler in hooks.status_handlers():
                    handler(tables, message, status)
    except Exception as error:
        tally.fail(label, error)
        return
    if outcome is statuses.StatusOutcome.UNKNOWN_MESSAGE:
        tally.unknown_statuses.append(str(status.get("id")))
    else:
        tally.statuses[outcome.value] += 1


def _notice_of_errors(value):
    notices = []
    for error in value.get("errors") or [] if isinstance(value.get("errors"), list) else []:
        if isinstance(error, dict):
            notices.append(f"Meta reported error {error.get('code')}: {error.get('title') or error.get('message')}")
    return notices


def _process(events, now):
    """Process locked events; sets each one's state, summary and error (saved by the caller)."""
    tallies, work, coexisting, handed_over = {}, [], [], []
    for event in events:
        tally = tallies[event.pk] = _Tally()
        try:
            payload = _load(event.body)
        except (ValueError, RecursionError) as error:
            tally.fail("body", inbound.MalformedMessage(f"the stored body is not JSON: {error}"))
            continue
        for index, (entry, field_name, value) in enumerate(_changes(payload) if isinstance(payload, dict) else []):
            if field_name in ("messages", "smb_message_echoes"):
                work.append((tally, value))
            elif field_name in message_templates.TEMPLATE_FIELDS:
                _apply_template_webhook(tally, entry, inbound.clean(value))
            elif field_name in COEXISTENCE_FIELDS:
                coexisting.append((tally, event.pk, index, field_name, value))
            elif field_name in hooks.change_handlers() and isinstance(value, dict):
                handed_over.append((tally, field_name, value))
            else:
                tally.ignored_fields.add(str(field_name))
    routes = route(
        {number_id for _, value in work if (number_id := _phone_number_id(value))}
        | {number_id for *_, value in coexisting if (number_id := _phone_number_id(value))}
        | {number_id for *_, value in handed_over if (number_id := _phone_number_id(value))}
    )
    held = held_agents(routed.agent for routed in routes.values())
    read_shops([routed.agent for routed in routes.values()])  # one query for the batch, not one per agent
    coexisting = [item for item in coexisting if not _held(routes, held, item[0], item[-1])]
    handed_over = [item for item in handed_over if not _held(routes, held, item[0], item[-1])]
    messages_by_agent, statuses_by_agent, agents = defaultdict(list), defaultdict(list), {}
    for tally, value in work:
        number_id = _phone_number_id(value)
        if number_id not in routes:
            tally.unroutable.add(number_id or "(none)")
            continue
        agent = routes[number_id].agent
        if agent.pk in held:
            tally.held = True
            continue
        agents[agent.pk] = agent
        tally.agents.add(agent.pk)
        tally.notices.extend(_notice_of_errors(value))
        contacts = inbound.clean(value.get("contacts"))  # names become customer rows: storable like the rest
        # Errors on the value (131000...) are about the messages beside them, which Meta could not deliver.
        value_errors = inbound.clean(value.get("errors")) if isinstance(value.get("errors"), list) else []
        for message in value.get("messages") or [] if isinstance(value.get("messages"), list) else []:
            try:
                messages_by_agent[agent.pk].append(_prepare_message(tally, agent, message, contacts, value_errors))
            except Exception as error:
                tally.fail(f"message {message.get('id') if isinstance(message, dict) else '?'}"[:200], error)
        for echo in value.get("message_echoes") or [] if isinstance(value.get("message_echoes"), list) else []:
            try:
                messages_by_agent[agent.pk].append(_prepare_echo(tally, agent, echo))
            except Exception as error:
                tally.fail(f"message echo {echo.get('id') if isinstance(echo, dict) else '?'}"[:200], error)
        for status in value.get("statuses") or [] if isinstance(value.get("statuses"), list) else []:
            statuses_by_agent[agent.pk].append((tally, status))
    # In agent order: two workers storing for the same customers take their row locks in one order.
    by_agent = {agent_id: agent_tables.for_agent(agents[agent_id]) for agent_id in sorted(agents)}
    _store_messages(
        [(by_agent[agent_id], messages_by_agent[agent_id]) for agent_id in by_agent if messages_by_agent[agent_id]]
    )
    for agent_id, tables in by_agent.items():
        with rls.agent_scope(agent_id):
            for tally, status in statuses_by_agent[agent_id]:
                _apply_status(tables, tally, status)
    for tally, event_id, index, field_name, value in coexisting:
        _coexist(routes, tally, event_id, index, field_name, value)
    for tally, field_name, value in handed_over:
        _hand_over_change(routes, tally, field_name, value)
    for event in events:
        _finish(event, tallies[event.pk], now)


COEXISTENCE_FIELDS = ("history", "smb_app_state_sync")


def _held(routes, held, tally, value):
    """Whether the change goes to an agent whose move holds its events (the event then waits whole)."""
    routed = routes.get(_phone_number_id(value))
    if routed is None or routed.agent.pk not in held:
        return False
    tally.held = True
    return True


def _hand_over_change(routes, tally, field_name, value):
    """A change of a field an app above registered for (whatsapp.hooks.register_change_handler)."""
    number_id = _phone_number_id(value)
    if number_id not in routes:
        tally.unroutable.add(number_id or "(none)")
        return
    agent = routes[number_id].agent
    tally.agents.add(agent.pk)
    try:
        with rls.agent_scope(agent.pk), transaction.atomic():
            tally.notices.extend(hooks.change_handlers()[field_name](agent, inbound.clean(value)))
    except Exception as error:
        tally.fail(f"{field_name} change", error)


def _apply_template_webhook(tally, entry, value):
    """A template's status, quality or category changed (the entry's id is the business account's)."""
    business_account_id, time = entry.get("id"), entry.get("time")
    if not isinstance(business_account_id, str) or not business_account_id.strip():
        tally.fail("template webhook", inbound.MalformedMessage("the entry names no business account"))
        return
    try:
        at = statuses.timestamp_of(time) if time is not None else timezone.now()
        with transaction.atomic():
            tally.notices.append(message_templates.apply_template_webhook(business_account_id.strip(), value, at))
    except Exception as error:
        tally.fail("template webhook", error)


def _coexist(routes, tally, event_id, index, field_name, value):
    """The WhatsApp Business app's history (imported in the background) and address book (whatsapp.coexistence)."""
    number_id = _phone_number_id(value)
    if number_id not in routes:
        tally.unroutable.add(number_id or "(none)")
        return
    agent = routes[number_id].agent
    tally.agents.add(agent.pk)
    tables = agent_tables.for_agent(agent)
    try:
        with rls.agent_scope(agent.pk), transaction.atomic(using=tables.database):
            if field_name == "smb_app_state_sync":
                changed = coexistence.apply_state_sync(tables, value)
                tally.notices.append(
                    f"{changed} customer{'s' if changed != 1 else ''} from the Business app's contacts"
                )
            elif "history" in value:
                tally.notices.extend(coexistence.record_history(agent, event_id, index, value))
            else:
                replaced = coexistence.replace_media_placeholders(tables, value)
                tally.notices.append(f"{replaced} media message{'s' if replaced != 1 else ''} of the history filled in")
    except Exception as error:
        tally.fail(f"{field_name} change", error)


def _finish(event, tally, now):
    if tally.held:
        # Left as it came (its other agents' items are stored again later, as duplicates): not an attempt.
        event.state, event.next_attempt_at, event.processed_at = WebhookEvent.State.PENDING, now + MOVE_HOLD_DELAY, now
        event.summary, event.error = HELD_SUMMARY, ""
        return
    # Row security shows the event to the agent it was routed to; one naming several, to none of them.
    event.agent_id = next(iter(tally.agents)) if len(tally.agents) == 1 else event.agent_id
    event.attempts += 1
    event.processed_at = now
    # Both quote the payload (ids, names): made storable like everything else taken from it.
    event.summary = inbound.clean(tally.summary()[:10_000])
    event.error = inbound.clean("\n".join(tally.errors)[:10_000])
    event.next_attempt_at = None
    retries = event.attempts - 1
    if tally.errors and tally.retry and retries < len(RETRY_DELAYS):
        event.state = WebhookEvent.State.PENDING
        event.next_attempt_at = now + RETRY_DELAYS[retries]
    elif tally.errors:
        event.state = WebhookEvent.State.FAILED
    elif tally.unroutable:
        event.state = WebhookEvent.State.UNROUTABLE
    elif tally.unknown_statuses and retries < len(UNKNOWN_STATUS_DELAYS):
        event.state = WebhookEvent.State.PENDING
        event.next_attempt_at = now + UNKNOWN_STATUS_DELAYS[retries]
    else:
        event.state = WebhookEvent.State.PROCESSED


SAVED_FIELDS = ["state", "attempts", "next_attempt_at", "processed_at", "summary", "error", "agent_id"]


def _save_outcomes(events):
    """Save what processing did: one UPDATE per distinct outcome (most of a batch shares one), whatever the
    number of agents the batch's events were routed to (each event's agent is set in the same UPDATE)."""
    shared = [name for name in SAVED_FIELDS if name != "agent_id"]
    groups = defaultdict(lambda: defaultdict(list))
    for event in events:
        groups[tuple(getattr(event, name) for name in shared)][event.agent_id].append(event.pk)
    for values, by_agent in groups.items():
        ids = [pk for pks in by_agent.values() for pk in pks]
        if len(by_agent) == 1:
            agent = next(iter(by_agent))
        else:
            whens = (When(pk__in=pks, then=Value(agent_id)) for agent_id, pks in by_agent.items())
            agent = Case(*whens, output_field=BigIntegerField())
        WebhookEvent.objects.filter(pk__in=ids).update(**dict(zip(shared, values, strict=True)), agent_id=agent)


def _process_locked(events, now):
    """Process and save locked events. A batch that breaks in an unexpected place is redone event by
    event, and an event that breaks alone is marked failed with its traceback: the queue never jams.
    """
    try:
        with transaction.atomic():
            _process(events, now)
            _save_outcomes(events)
        return
    except Exception:
        for event in events:
            event.refresh_from_db(fields=SAVED_FIELDS)
        if len(events) == 1:
            event = events[0]
            log.exception("webhook event %s could not be processed", event.pk)
            event.attempts += 1
            event.state, event.next_attempt_at, event.processed_at = WebhookEvent.State.FAILED, None, now
            event.error = inbound.clean(traceback.format_exc()[-10_000:])
            _save_outcomes([event])
            return
    for event in events:
        _process_locked([event], now)


def process_due_events(batch_size=None, now=None, intake_slices=None):
    """Process one batch of due events (the worker's step); returns how many were claimed.

    Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of workers (and inline processing)
    share the queue without taking the same event twice. `intake_slices` limits the batch to the
    events of those slices (a worker's lease, whatsapp.slices); None takes any.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.WHATSAPP_EVENT_BATCH_SIZE
    due = WebhookEvent.objects.due(now)
    if intake_slices is not None:
        if not intake_slices:
            return 0
        due = due.filter(intake_slice__in=sorted(intake_slices))
    with transaction.atomic():
        events = list(due.select_for_update(skip_locked=True).order_by("id")[:batch_size])
        if events:
            _process_locked(events, now)
    return len(events)


def process_events_now(event_ids, now=None):
    """Process the given events at once, whatever their state (inline intake, replays).

    Returns the events processed; one that another process holds right now is skipped.
    """
    now = now or timezone.now()
    with transaction.atomic():
        events = list(WebhookEvent.objects.filter(pk__in=event_ids).select_for_update(skip_locked=True).order_by("id"))
        if events:
            _process_locked(events, now)
    return events


def receive(text, phone_number_id):
    """Store a parsed notification; process it at once when WHATSAPP_PROCESS_INLINE is on.

    Raises DatabaseError when the event could not be stored. Once stored, processing errors are the
    event's business (kept on it), never the sender's.
    """
    event_id = store_event(text, phone_number_id)
    if settings.WHATSAPP_PROCESS_INLINE:
        try:
            with rls.unrestricted():  # routing reads events no agent owns yet; each agent's rows in its own scope
                process_events_now([event_id])
        except Exception:
            log.exception("webhook event %s is stored but inline processing failed; the worker will retry", event_id)
    return event_id


REPLAY_CHUNK = 100


def replay_events(event_ids):
    """Process the given events again, whatever their state, in chunks (admin action and command).

    Returns ({state: count}, skipped) where skipped counts events another process held right then.
    Safe on any event: processing is idempotent.
    """
    event_ids = list(event_ids)
    states, processed = defaultdict(int), 0
    for start in range(0, len(event_ids), REPLAY_CHUNK):
        for event in process_events_now(event_ids[start : start + REPLAY_CHUNK]):
            states[event.state] += 1
            processed += 1
    return dict(states), len(event_ids) - processed


def describe_replay(states, skipped):
    total = sum(states.values())
    parts = [f"{count} {state}" for state, count in sorted(states.items())]
    text = f"{total} event{'s' if total != 1 else ''} replayed" + (": " + ", ".join(parts) if parts else "")
    if skipped:
        text += f"; {skipped} skipped (being processed elsewhere right now)"
    return text


PRUNE_CHUNK = 10_000


def prune_processed_events(older_than):
    """Delete processed events received before `older_than`, a chunk per transaction; returns how many.

    Failed and unroutable events are kept until someone deals with them. Ids grow with time, so the
    cut-off is found from the oldest rows, which pruning keeps few.
    """
    boundary = (
        WebhookEvent.objects.filter(received_at__gte=older_than).order_by("id").values_list("id", flat=True).first()
    )
    old = WebhookEvent.objects.filter(state=WebhookEvent.State.PROCESSED)
    if boundary is not None:
        old = old.filter(id__lt=boundary)
    total = 0
    while ids := list(old.order_by("id").values_list("id", flat=True)[:PRUNE_CHUNK]):
        total += WebhookEvent.objects.filter(id__in=ids).delete()[0]
    return total
