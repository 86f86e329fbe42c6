"""Per-agent model classes (Customer, Message, Order, OrderItem) generated at runtime.

`for_agent(agent)` is the way in: it builds an agent's four classes once per process, in a private
app registry, and keeps them in a bounded least-recently-used cache (DESIGN.md says why).
The table schema is declared here once, version by version: provisioning creates the current
version from it and `upgrade_agent_tables` adds each later version's columns to older tables.
"""

import copy
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.apps import AppConfig
from django.apps.registry import Apps
from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import connections as db_connections
from django.db import models
from django.db.models import CheckConstraint as DjangoCheckConstraint
from django.db.models import UniqueConstraint as DjangoUniqueConstraint
from django.db.models.functions import Upper

from crm import routers

from . import connections
from .fields import SerialAutoField, UTCDateTimeField, UTCNow

APP_LABEL = routers.AGENT_TABLES_APP_LABEL
PREFIX_PATTERN = re.compile(r"agt_[0-9]+")

DIRECTIONS = ("inbound", "outbound")
MEDIA_TYPES = ("none", "image", "video", "audio", "document", "sticker")
# The contract's order_status enum, which the orders table's check holds; what each status means to the
# business (closed, sold, the moves between them) is the orders app's (orders.statuses).
ORDER_STATUSES = ("pending", "confirmed", "processing", "shipped", "delivered", "cancelled", "refunded")
DELIVERY_STATUSES = ("queued", "sent", "delivered", "read", "failed")
# An order line is an item sold or a fee (delivery); a discount is an amount or a percent of the items.
ITEM_KINDS = ("item", "fee")
DISCOUNT_TYPES = ("amount", "percent")


class InvalidAgentPrefix(ValueError):
    pass


def validate_prefix(prefix):
    """Return `prefix` if it is a safe table-name prefix (`agt_<digits>`); raise otherwise.

    The prefix is the only request-independent string that ever becomes an SQL identifier.
    """
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise InvalidAgentPrefix(f"invalid agent prefix {prefix!r}: expected agt_<digits>")
    return prefix


class PostgreSQLOnlyIndex(GinIndex):
    """A GIN index that only PostgreSQL gets; SQLite (the demo database) does without it.

    build() and version_changes() leave it out of the classes for any other database.
    """

    vendor = "postgresql"


def for_vendor(extras, vendor):
    """`extras` without the indexes the database `vendor` cannot have."""
    return [extra for extra in extras if getattr(extra, "vendor", vendor) == vendor]


class CheckConstraint(DjangoCheckConstraint):
    # A plain message instead of Django's translatable one: comparing against the lazy default when
    # each class is built (Options clones every constraint) costs a translation lookup per
    # constraint, a tenth of building an agent's classes.
    default_violation_error_message = "Constraint “%(name)s” is violated."


class UniqueConstraint(DjangoUniqueConstraint):
    default_violation_error_message = CheckConstraint.default_violation_error_message


# Behaviour shared by every agent's classes. Fields are declared per version below.


class CustomerQuerySet(models.QuerySet):
    def with_messages(self):
        return self.filter(last_message_at__isnull=False)

    def with_unread(self):
        return self.filter(unread_count__gt=0)


class MessageQuerySet(models.QuerySet):
    def inbound(self):
        return self.filter(direction="inbound")

    def outbound(self):
        return self.filter(direction="outbound")

    def unread(self):
        return self.filter(direction="inbound", is_read=False)


class CustomerBase(models.Model):
    objects = CustomerQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.name} ({self.phone})"


class MessageBase(models.Model):
    objects = MessageQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.direction} #{self.pk}: {self.message[:40]}"


class OrderBase(models.Model):
    class Meta:
        abstract = True

    def __str__(self):
        return f"Order #{self.pk}"


class OrderItemBase(models.Model):
    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.quantity} x {self.name}"


@dataclass(frozen=True)
class TableSpec:
    """One agent table: its model name, table suffix, base class, and what each version adds.

    A table added after version 1 says so in `since`; its columns then start at that version.
    """

    model_name: str
    suffix: str
    base: type
    columns: object  # (agent_id, prefix) -> [(since_version, column name, Field)]
    extras: object  # (prefix) -> [(since_version, Index or Constraint)]
    since: int = 1


def _customer_columns(agent_id, prefix):
    return [
        (1, "id", SerialAutoField(primary_key=True)),
        (1, "agent_id", models.BigIntegerField(db_default=agent_id)),
        (1, "name", models.TextField()),
        (1, "phone", models.TextField(unique=True)),
        (1, "profile_image_url", models.TextField(null=True, blank=True)),
        (1, "created_at", UTCDateTimeField(db_default=UTCNow())),
        # Version 2: what the product needs beside the contract (docs/schema.md).
        (2, "wa_user_id", models.TextField(null=True, blank=True)),
        (2, "last_message_at", UTCDateTimeField(null=True, blank=True)),
        (2, "unread_count", models.IntegerField(null=True, db_default=0)),
        # Version 7: what the seller keeps about the customer (a new order's address comes from here).
        (7, "email", models.TextField(null=True, blank=True)),
        (7, "address", models.TextField(null=True, blank=True)),
        (7, "notes", models.TextField(null=True, blank=True)),
        # Version 8: the inbox as a work queue (agents/conversations.py says what each one means).
        (8, "awaiting_reply_since", UTCDateTimeField(null=True, blank=True)),
        (8, "conversation_done_at", UTCDateTimeField(null=True, blank=True)),
        (8, "snoozed_until", UTCDateTimeField(null=True, blank=True)),
        # Version 9: the WhatsApp username a user may show instead of their number, and the parent
        # business-scoped user id (shared by the business portfolios Meta links), beside `wa_user_id`.
        (9, "username", models.TextField(null=True, blank=True)),
        (9, "wa_parent_user_id", models.TextField(null=True, blank=True)),
    ]


def _customer_extras(prefix):
    return [
        (1, models.Index(fields=["-created_at"], name=f"{prefix}_cust_created")),
        (
            2,
            UniqueConstraint(
                fields=["wa_user_id"], condition=models.Q(wa_user_id__isnull=False), name=f"{prefix}_cust_wa_user_id"
            ),
        ),
        (2, models.Index(fields=["-last_message_at", "-id"], name=f"{prefix}_cust_activity")),
        # Version 4: the dashboard's unread filter and count, and the customer list in name order.
        (
            4,
            models.Index(
                fields=["-last_message_at", "-id"], condition=models.Q(unread_count__gt=0), name=f"{prefix}_cust_unread"
            ),
        ),
        (4, models.Index(fields=["name", "id"], name=f"{prefix}_cust_name")),
        # Version 8: the inbox's work-queue filters and their counts (open, needs reply, done, snoozed).
        (
            8,
            models.Index(
                fields=["-last_message_at", "-id"],
                condition=models.Q(conversation_done_at__isnull=True, last_message_at__isnull=False),
                name=f"{prefix}_cust_open",
            ),
        ),
        (
            8,
            models.Index(
                fields=["-last_message_at", "-id"],
                condition=models.Q(conversation_done_at__isnull=True, awaiting_reply_since__isnull=False),
                name=f"{prefix}_cust_needs_reply",
            ),
        ),
        (
            8,
            models.Index(
                fields=["-last_message_at", "-id"],
                condition=models.Q(conversation_done_at__isnull=False),
                name=f"{prefix}_cust_done",
            ),
        ),
        (
            8,
            models.Index(
                fields=["snoozed_until"], condition=models.Q(snoozed_until__isnull=False), name=f"{prefix}_cust_snoozed"
            ),
        ),
    ]


def _message_columns(agent_id, prefix):
    return [
        (1, "id", SerialAutoField(primary_key=True)),
        (
            1,
            "customer",
            models.ForeignKey(
                "Customer",
                on_delete=models.DB_CASCADE,
                db_column="customer_id",
                db_index=False,
                related_name="messages",
            ),
        ),
        (1, "message", models.TextField()),
        (1, "direction", models.CharField(max_length=8, choices=[(d, d) for d in DIRECTIONS])),
        (1, "timestamp", UTCDateTimeField(db_default=UTCNow())),
        (1, "is_read", models.BooleanField(db_default=False)),
        (1, "media_type", models.CharField(max_length=16, choices=[(m, m) for m in MEDIA_TYPES], db_default="none")),
        (1, "media_url", models.TextField(null=True, blank=True)),
        (1, "caption", models.TextField(null=True, blank=True)),
        # Version 2: WhatsApp identity, delivery state and the structured payload of each message.
        (2, "wamid", models.TextField(null=True, blank=True)),
        (2, "wa_type", models.CharField(max_length=32, null=True, blank=True)),
        (2, "payload", models.JSONField(null=True, blank=True)),
        (2, "context_wamid", models.TextField(null=True, blank=True)),
        (
            2,
            "status",
            models.CharField(max_length=16, null=True, blank=True, choices=[(s, s) for s in DELIVERY_STATUSES]),
        ),
        (2, "status_at", UTCDateTimeField(null=True, blank=True)),
        (2, "error_code", models.IntegerField(null=True, blank=True)),
        (2, "error_title", models.TextField(null=True, blank=True)),
        (2, "error_detail", models.TextField(null=True, blank=True)),
        (2, "media_id", models.TextField(null=True, blank=True)),
        (2, "media_mime_type", models.TextField(null=True, blank=True)),
        (2, "idempotency_key", models.TextField(null=True, blank=True)),
        (2, "sent_by", models.UUIDField(null=True, blank=True)),
        # Version 9: what WhatsApp charges for an outbound message, from the `pricing` object of its statuses.
        (9, "pricing_billable", models.BooleanField(null=True, blank=True)),
        (9, "pricing_category", models.CharField(max_length=32, null=True, blank=True)),
        (9, "pricing_model", models.CharField(max_length=16, null=True, blank=True)),
        (9, "pricing_type", models.CharField(max_length=32, null=True, blank=True)),
    ]


def _message_extras(prefix):
    return [
        (1, CheckConstraint(condition=models.Q(direction__in=DIRECTIONS), name=f"{prefix}_msg_direction")),
        (1, CheckConstraint(condition=models.Q(media_type__in=MEDIA_TYPES), name=f"{prefix}_msg_media_type")),
        (1, models.Index(fields=["customer", "-timestamp", "-id"], name=f"{prefix}_msg_thread")),
        (2, UniqueConstraint(fields=["wamid"], condition=models.Q(wamid__isnull=False), name=f"{prefix}_msg_wamid")),
        (
            2,
            UniqueConstraint(
                fields=["idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name=f"{prefix}_msg_idempotency",
            ),
        ),
        (
            2,
            models.Index(
                fields=["customer"],
                condition=models.Q(direction="inbound", is_read=False),
                name=f"{prefix}_msg_unread",
            ),
        ),
        # Version 4: messages of a day (home page), reactions found by the message they react to,
        # and message search: a trigram index answers `UPPER(message) LIKE UPPER('%text%')`.
        (4, models.Index(fields=["timestamp"], name=f"{prefix}_msg_time")),
        (
            4,
            models.Index(
                fields=["context_wamid"], condition=models.Q(context_wamid__isnull=False), name=f"{prefix}_msg_context"
            ),
        ),
        (4, PostgreSQLOnlyIndex(OpClass(Upper("message"), name="gin_trgm_ops"), name=f"{prefix}_msg_text")),
    ]


def _order_columns(agent_id, prefix):
    return [
        (1, "id", SerialAutoField(primary_key=True)),
        # Orders outlive nothing: a customer with orders cannot be deleted (NO ACTION in the database).
        (
            1,
            "customer",
            models.ForeignKey("Customer", on_delete=models.DO_NOTHING, db_column="customer_id", related_name="orders"),
        ),
        (1, "total_amount", models.DecimalField(max_digits=14, decimal_places=2, db_default=0)),
        (1, "status", models.CharField(max_length=16, choices=[(s, s) for s in ORDER_STATUSES], db_default="pending")),
        (1, "notes", models.TextField(null=True, blank=True)),
        (1, "shipping_address", models.TextField(null=True, blank=True)),
        (1, "created_at", UTCDateTimeField(db_default=UTCNow())),
        (1, "updated_at", UTCDateTimeField(db_default=UTCNow())),
        # Version 3: where an order came from, its currency, and whether it was paid.
        (3, "source", models.CharField(max_length=16, null=True, blank=True, db_default="agent")),
        (3, "source_wamid", models.TextField(null=True, blank=True)),
        (3, "currency", models.CharField(max_length=3, null=True, blank=True)),
        (3, "paid_at", UTCDateTimeField(null=True, blank=True)),
        # Version 7: the order's discount as the seller gave it (an amount, or a percent of the items), and
        # the amount it takes off, which orders.placing computes and subtracts in the one total.
        (7, "discount_type", models.CharField(max_length=8, null=True, blank=True)),
        (7, "discount_value", models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)),
        (7, "discount_amount", models.DecimalField(max_digits=14, decimal_places=2, db_default=0)),
    ]


def _order_extras(prefix):
    return [
        (1, CheckConstraint(condition=models.Q(status__in=ORDER_STATUSES), name=f"{prefix}_order_status")),
        (1, models.Index(fields=["-created_at"], name=f"{prefix}_order_created")),
        (
            3,
            UniqueConstraint(
                fields=["source_wamid"], condition=models.Q(source_wamid__isnull=False), name=f"{prefix}_order_source"
            ),
        ),
        (3, models.Index(fields=["status", "-created_at"], name=f"{prefix}_order_status_created")),
        (
            7,
            CheckConstraint(
                condition=models.Q(discount_type__isnull=True) | models.Q(discount_type__in=DISCOUNT_TYPES),
                name=f"{prefix}_order_discount_type",
            ),
        ),
        (
            7,
            CheckConstraint(
                condition=models.Q(discount_value__isnull=True)
                | models.Q(discount_value__gte=0)
                & (~models.Q(discount_type="percent") | models.Q(discount_value__lte=100)),
                name=f"{prefix}_order_discount_value",
            ),
        ),
        (7, CheckConstraint(condition=models.Q(discount_amount__gte=0), name=f"{prefix}_order_discount_amount")),
    ]


def _item_columns(agent_id, prefix):
    return [
        (1, "id", SerialAutoField(primary_key=True)),
        (
            1,
            "order",
            models.ForeignKey("Order", on_delete=models.DB_CASCADE, db_column="order_id", related_name="items"),
        ),
        (1, "name", models.TextField()),
        (1, "quantity", models.IntegerField(db_default=1)),
        (1, "price", models.DecimalField(max_digits=14, decimal_places=2, db_default=0)),
        # Filled with quantity x price by a trigger when an INSERT leaves it out (see provisioning).
        (1, "total", models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)),
        (1, "created_at", UTCDateTimeField(db_default=UTCNow())),
        # Version 3: the catalog product an item came from (WhatsApp carts).
        (3, "product_retailer_id", models.TextField(null=True, blank=True)),
        # Version 7: what the line is: an item sold, or a fee (delivery) the customer pays beside the items.
        (7, "kind", models.CharField(max_length=16, db_default="item")),
    ]


def _item_extras(prefix):
    return [
        (1, CheckConstraint(condition=models.Q(quantity__gt=0), name=f"{prefix}_item_quantity")),
        (1, CheckConstraint(condition=models.Q(price__gte=0), name=f"{prefix}_item_price")),
        # Version 6: item names suggested newest first (orders.placing.known_items) and the items of the
        # orders an export reads, without sorting the whole table.
        (6, models.Index(fields=["-created_at", "-id"], name=f"{prefix}_item_created")),
        (7, CheckConstraint(condition=models.Q(kind__in=ITEM_KINDS), name=f"{prefix}_item_kind")),
    ]


def _order_event_columns(agent_id, prefix):
    return [
        (3, "id", SerialAutoField(primary_key=True)),
        (
            3,
            "order",
            models.ForeignKey(
                "Order", on_delete=models.DB_CASCADE, db_column="order_id", related_name="events", db_index=False
            ),
        ),
        (3, "from_status", models.CharField(max_length=16, null=True, blank=True)),
        (3, "to_status", models.CharField(max_length=16)),
        (3, "changed_by", models.UUIDField(null=True, blank=True)),
        (3, "changed_by_name", models.TextField(blank=True, db_default="")),
        (3, "note", models.TextField(blank=True, db_default="")),
        (3, "message_id", models.IntegerField(null=True, blank=True)),
        (3, "created_at", UTCDateTimeField(db_default=UTCNow())),
        # Version 6: what kind of entry it is (orders.history.EVENT_KINDS), and the customer's WhatsApp
        # message that caused it (a Confirm / Change reply): a reply delivered twice counts once.
        (6, "kind", models.CharField(max_length=32, blank=True, db_default="")),
        (6, "source_wamid", models.TextField(null=True, blank=True)),
    ]


def _order_event_extras(prefix):
    return [
        (3, models.Index(fields=["order", "created_at", "id"], name=f"{prefix}_order_event_order")),
        (
            6,
            models.UniqueConstraint(
                fields=["source_wamid"],
                condition=models.Q(source_wamid__isnull=False),
                name=f"{prefix}_order_event_source",
            ),
        ),
    ]


class OrderEventBase(models.Model):
    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.from_status or 'new'} -> {self.to_status}"


# In dependency order: a table comes after the tables it references.
TABLES = (
    TableSpec("Customer", "customers", CustomerBase, _customer_columns, _customer_extras),
    TableSpec("Message", "messages", MessageBase, _message_columns, _message_extras),
    TableSpec("Order", "orders", OrderBase, _order_columns, _order_extras),
    TableSpec("OrderItem", "orders_items", OrderItemBase, _item_columns, _item_extras),
    TableSpec("OrderEvent", "order_events", OrderEventBase, _order_event_columns, _order_event_extras, since=3),
)

# Versions that change no column, index or table, only what SQL alone says (provisioning runs it).
SQL_STEPS = {
    5: "row level security: each table readable and writable only in its agent's scope (crm/rls.py)",
    11: "the row scope checked by the database: a scope set by hand, unsigned, reads nothing (crm/rls.py)",
}
ROW_SECURITY_VERSION = 5
SIGNED_SCOPE_VERSION = 11
# The version that brings the work-queue fields, which an upgrade fills from the messages already there.
REPLY_STATE_VERSION = 8

CURRENT_VERSION = max(
    *SQL_STEPS,
    *(since for spec in TABLES for since, *_ in spec.columns(0, "agt_0") + spec.extras("agt_0") + [(spec.since,)]),
)


# Behaviour that an app above agents gives the generated classes of a table (orders: the Order QuerySet),
# {model name: abstract base}: agents never imports those apps.
_behaviours = {}


def register_behaviour(model_name, base):
    """Build every agent's `model_name` class on `base` (an abstract model subclassing the table's own base).

    Called from the owning app's AppConfig.ready(), before any class is built.
    """
    spec = _spec(model_name)
    if spec is None or not issubclass(base, spec.base):
        raise ValueError(f"{base!r} is not a behaviour of an agent table {model_name!r}")
    _behaviours[model_name] = base


def table_names(prefix, version=None):
    """The agent's table names (as of `version`, current by default), in dependency order."""
    validate_prefix(prefix)
    version = CURRENT_VERSION if version is None else version
    return [f"{prefix}_{spec.suffix}" for spec in TABLES if spec.since <= version]


class AgentTables:
    """An agent's model classes (`tables.Customer`, `tables.Message`...), and where they live.

    Each class is built on first use (with the classes it references): a request that reads
    customers and messages never pays for the order classes, in time or in memory.
    """

    def __init__(self, agent_id, prefix, database, version, managed):
        self.agent_id = agent_id
        self.prefix = prefix
        self.database = database
        self.version = version
        self.managed = managed
        self._registry = _registry()
        self._built = {}
        self._lock = threading.RLock()

    def __getattr__(self, name):
        if name.startswith("_") or _spec(name) is None:
            raise AttributeError(name)
        return self._model(name)

    @property
    def classes(self):
        """{model name: class} for every table, in dependency order."""
        return {spec.model_name: self._model(spec.model_name) for spec in TABLES if spec.since <= self.version}

    @property
    def models(self):
        """The classes in dependency order (a table after the tables it references)."""
        return tuple(self.classes.values())

    def _model(self, name):
        model = self._built.get(name)
        if model is None:
            with self._lock:
                model = self._built.get(name) or self._build(_spec(name))
        return model

    def _build(self, spec):
        if spec.since > self.version:
            raise AttributeError(f"{spec.model_name} comes with version {spec.since}, after {self.version}")
        attrs = _fields(spec, self.version, self.agent_id)
        for field in attrs.values():
            if field.is_relation:
                self._model(field.remote_field.model)  # the referenced class first, in the same registry
        if self.managed:
            extras = for_vendor(
                [extra for since, extra in spec.extras(self.prefix) if since <= self.version],
                db_connections[self.database].vendor,
            )
        else:
            # Indexes matter only to the schema editor (the managed twin): the classes that read and write
            # rows go without them, and take their constraints (which validation reads) from the shape.
            extras = _constraints(spec, self.version, self.prefix)
        meta = type(
            "Meta",
            (),
            {
                "apps": self._registry,
                "app_label": APP_LABEL,
                "db_table": f"{self.prefix}_{spec.suffix}",
                "managed": self.managed,
                "indexes": [e for e in extras if isinstance(e, models.Index)],
                "constraints": [e for e in extras if not isinstance(e, models.Index)],
            },
        )
        attrs.update(
            {
                "__module__": __name__,
                "Meta": meta,
                "agent_id_value": self.agent_id,
                "agent_database": self.database,
            }
        )
        model = type(spec.model_name, (_behaviours.get(spec.model_name, spec.base),), attrs)
        self._built[spec.model_name] = model
        return model


def _spec(model_name):
    return next((spec for spec in TABLES if spec.model_name == model_name), None)


# An agent's classes are copied from a prepared shape of each table (its fields and constraints, built
# once per table and version), not built anew: copying an unbound field is what Django's own model
# inheritance does, and costs a fraction of constructing it. Two agents' classes differ only in the
# agent id (the default of this column) and the prefix of the table's and constraints' names.
AGENT_ID_COLUMN = "agent_id"
SHAPE_PREFIX = "agt_0"
_shapes = {}


def _shape(spec, version):
    key = (spec.model_name, version)
    shape = _shapes.get(key)
    if shape is None:
        fields = {name: field for since, name, field in spec.columns(0, SHAPE_PREFIX) if since <= version}
        constraints = [
            extra
            for since, extra in spec.extras(SHAPE_PREFIX)
            if since <= version and not isinstance(extra, models.Index)
        ]
        shape = _shapes[key] = (fields, constraints)
    return shape


def _fields(spec, version, agent_id):
    """{column name: Field} of `spec`'s table as of `version`, for one agent's class."""
    fields = {name: copy.deepcopy(field) for name, field in _shape(spec, version)[0].items()}
    if AGENT_ID_COLUMN in fields:
        fields[AGENT_ID_COLUMN].db_default = models.Value(agent_id)
    return fields


def _constraints(spec, version, prefix):
    """The constraints of `spec`'s table as of `version`, named for the agent of `prefix`."""
    constraints = []
    for template in _shape(spec, version)[1]:
        constraint = copy.copy(template)
        constraint.name = prefix + template.name[len(SHAPE_PREFIX) :]
        constraints.append(constraint)
    return constraints


def _registry():
    config = AppConfig("agents", __import__("agents"))
    config.label = APP_LABEL
    return Apps([config])


def build(agent_id, prefix, *, database="default", version=None, managed=False):
    """An agent's classes as of `version` (current by default), in a new private registry.

    `managed=True` gives the twin that provisioning hands to the schema editor.
    """
    validate_prefix(prefix)
    return AgentTables(agent_id, prefix, database, CURRENT_VERSION if version is None else version, managed)


def version_changes(prefix, version, vendor):
    """What `version` changes on a `vendor` database.

    [(spec, "create", None, None) or (spec, "alter", [field names], [extras])].
    """
    changes = []
    for spec in TABLES:
        if spec.since == version:
            changes.append((spec, "create", None, None))
        elif spec.since < version:
            fields = [name for since, name, _ in spec.columns(0, prefix) if since == version]
            extras = for_vendor([extra for since, extra in spec.extras(prefix) if since == version], vendor)
            if fields or extras:
                changes.append((spec, "alter", fields, extras))
    return changes


class _TableCache:
    """A thread-safe LRU of AgentTables keyed by agent id (at most AGENT_TABLES_CACHE_SIZE of them)."""

    def __init__(self):
        self._entries = OrderedDict()
        self._lock = threading.Lock()

    def get(self, agent_id):
        with self._lock:
            tables = self._entries.get(agent_id)
            if tables is not None:
                self._entries.move_to_end(agent_id)
            return tables

    def put(self, agent_id, tables):
        with self._lock:
            self._entries[agent_id] = tables
            self._entries.move_to_end(agent_id)
            while len(self._entries) > settings.AGENT_TABLES_CACHE_SIZE:
                self._entries.popitem(last=False)

    def discard(self, agent_id):
        with self._lock:
            self._entries.pop(agent_id, None)

    def clear(self):
        with self._lock:
            self._entries.clear()

    def __len__(self):
        return len(self._entries)


cache = _TableCache()


def for_agent(agent):
    """The agent's model classes (built on first use, then reused), routed to the agent's database."""
    tables = cache.get(agent.id)
    if tables is None or tables.prefix != agent.agent_prefix or tables.database != agent.database:
        tables = build(agent.id, agent.agent_prefix, database=routers.check_agent_database(agent.database))
        cache.put(agent.id, tables)
    connections.note_agent_touched(agent.database, agent.id)
    return tables
