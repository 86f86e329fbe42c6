"""The Agent: a seller's account, whose customers, messages and orders live in its own tables."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Now


class Agent(models.Model):
    """A row of the contract's `agents` table.

    Beside the contract's columns: `name` (shown in the dashboard), `table_version` (the version of
    the agent's four tables, 0 while they do not exist) and `database` (the database alias that holds
    them). Create agents with `agents.provisioning.create_agent`, never with a bare save().
    """

    id = models.BigAutoField(primary_key=True)
    agent_prefix = models.CharField(max_length=32, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_column="user_id",
        related_name="agents",
        help_text="The user who works this agent's inbox. Empty for a system agent.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_column="created_by",
        related_name="created_agents",
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    name = models.CharField(max_length=120, blank=True, help_text="Business name shown in the dashboard.")
    table_version = models.PositiveIntegerField(default=0, editable=False)
    database = models.CharField(max_length=64, default="default", editable=False)

    class Meta:
        db_table = "agents"
        ordering = ["id"]

    def __str__(self):
        return self.name or self.agent_prefix


class QuickReply(models.Model):
    """A snippet an agent saves once and inserts into the composer by typing "/" and its shortcut.

    A core table beside `agents` (not one of the agent's own tables): it is the agent's setting, read
    with every conversation, and small. `{name}` in the text becomes the customer's first name.
    """

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="quick_replies")
    shortcut = models.SlugField(
        max_length=40,
        help_text='Typed after "/" in the composer: letters, digits, - and _ (e.g. "hours").',
    )
    text = models.TextField(
        max_length=4096, help_text="The message inserted. {name} becomes the customer's first name."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)

    class Meta:
        db_table = "agent_quick_replies"
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "shortcut"],
                name="agent_quick_replies_unique_shortcut",
                violation_error_message="You already have a quick reply with this shortcut.",
            ),
        ]

    def __str__(self):
        return f"/{self.shortcut}"


class Shop(models.Model):
    """How an agent's shop writes money and time: its currency, locale and time zone.

    A table every agent shares beside `agents` (the contract's), one row per agent, written from the
    Shop settings page; an agent without a row has the defaults (settings.SHOP_DEFAULT_CURRENCY...).
    The shop's name is the agent's `name`.
    """

    agent = models.OneToOneField(
        Agent, on_delete=models.CASCADE, primary_key=True, db_column="agent_id", related_name="shop"
    )
    currency = models.CharField(max_length=3, help_text="ISO 4217 code, e.g. EUR.")
    locale = models.CharField(max_length=32, help_text="Babel locale, e.g. de_DE: how amounts and dates are written.")
    time_zone = models.CharField(max_length=64, blank=True, help_text="IANA name; empty: each viewer's own.")
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)

    class Meta:
        db_table = "agent_shops"

    def __str__(self):
        return f"{self.agent}: {self.currency}, {self.locale}"


class Label(models.Model):
    """A label the agent puts on customers ("new order", "pending payment", "paid"), as WhatsApp Business has.

    A table every agent shares (row security keyed on `agent_id`), at most MAX_LABELS per agent.
    """

    COLOURS = (
        ("green", "Green"),
        ("teal", "Teal"),
        ("blue", "Blue"),
        ("purple", "Purple"),
        ("pink", "Pink"),
        ("red", "Red"),
        ("orange", "Orange"),
        ("yellow", "Yellow"),
        ("brown", "Brown"),
        ("grey", "Grey"),
    )

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=40)
    colour = models.CharField(max_length=16, choices=COLOURS, default="green")
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "agent_labels"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "agent",
                name="agent_labels_unique_name",
                violation_error_message="You already have a label with this name.",
            ),
        ]

    def __str__(self):
        return self.name


class CustomerLabel(models.Model):
    """A label on one of the agent's customers. `customer_id` names a row of the agent's customers table,
    without a foreign key: agent tables may live on another database."""

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    label = models.ForeignKey(Label, on_delete=models.CASCADE, related_name="assignments")
    customer_id = models.IntegerField()
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "agent_customer_labels"
        constraints = [
            models.UniqueConstraint(fields=["label", "customer_id"], name="agent_customer_labels_unique"),
        ]
        indexes = [models.Index(fields=["agent", "customer_id"], name="agent_customer_labels_customer")]


class CustomerNote(models.Model):
    """A private note on a customer, for the people working the agent's inbox; never sent to WhatsApp."""

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer_id = models.IntegerField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept when the author's account is deleted: a note still says who wrote it.
    author_name = models.CharField(max_length=150)
    text = models.TextField(max_length=4000)
    created_at = models.DateTimeField(db_default=Now(), editable=False)

    class Meta:
        db_table = "agent_customer_notes"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["agent", "customer_id", "created_at"], name="agent_customer_notes_customer")]


class AgentMove(models.Model):
    """Moving an agent's tables to another database (agents/moving.py): where it goes and the last step
    done, so that a move stopped by a crash resumes where it was. While a move is unfinished, the
    agent's webhook events and sends are held."""

    class Step(models.TextChoices):
        HOLDING = "holding", "Holding new events and sends"
        HELD = "held", "Events and sends held"
        COPIED = "copied", "Tables copied"
        VERIFIED = "verified", "Copy verified"
        SWITCHED = "switched", "Agent switched to the new database"
        DROPPED = "dropped", "Old tables dropped"
        DONE = "done", "Done: events and sends released"

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="moves")
    source = models.CharField(max_length=64, help_text="The database the tables leave.")
    target = models.CharField(max_length=64, help_text="The database the tables go to.")
    step = models.CharField(max_length=16, choices=Step.choices, default=Step.HOLDING)
    verified_figures = models.JSONField(
        default=dict, blank=True, help_text="Per table: rows, sum of ids, sum of amounts, on both databases."
    )
    error = models.TextField(blank=True, default="", help_text="Why the last run stopped, if it failed.")
    started_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now())
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "agent_moves"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent"], condition=models.Q(finished_at__isnull=True), name="agent_moves_one_unfinished"
            ),
        ]

    def __str__(self):
        return f"{self.agent} {self.source} → {self.target}: {self.get_step_display()}"
