"""A user's WhatsApp Business number and the credentials that reach it through the Cloud API."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.views.decorators.debug import sensitive_variables

from . import encryption


class WhatsAppConfigurationQuerySet(models.QuerySet):
    def routable(self):
        """The configurations whose number routes (whatsapp.configuration.route): active, with a phone number id."""
        return self.filter(is_active=True).exclude(phone_number_id=None).exclude(phone_number_id="")


class WhatsAppConfiguration(models.Model):
    """A row of the contract's `whatsapp_configuration` table, one per user.

    `api_key` holds the access token encrypted (whatsapp.encryption); read it with access_token()
    and change it with set_access_token(). Beside the contract's columns: `agent`, the agent whose
    inbox receives this number's messages (empty: the user's oldest agent); `catalog_id`, the Meta commerce
    catalog its products come from and product messages name.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        db_column="user_id",
        related_name="whatsapp_configuration",
    )
    whatsapp_number = models.CharField(max_length=32, help_text="The business number, in E.164 (+country code).")
    webhook_url = models.TextField(help_text="The URL Meta posts this number's notifications to.")
    api_key = models.TextField(null=True, blank=True, editable=False)
    business_account_id = models.CharField(max_length=64, null=True, blank=True)
    phone_number_id = models.CharField(max_length=64, null=True, blank=True)
    is_active = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)
    agent = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent whose inbox receives this number's messages. Empty: the user's oldest agent.",
    )
    catalog_id = models.CharField(
        "Meta catalog id",
        max_length=64,
        null=True,
        blank=True,
        help_text="The Meta commerce catalog linked to this WhatsApp Business Account: its products are synced "
        "into the agent's catalog and product messages name it.",
    )

    objects = WhatsAppConfigurationQuerySet.as_manager()

    class Meta:
        db_table = "whatsapp_configuration"
        verbose_name = "WhatsApp configuration"
        constraints = [
            models.UniqueConstraint(
                fields=["phone_number_id"],
                condition=models.Q(is_active=True, phone_number_id__isnull=False),
                name="whatsapp_configuration_active_phone_number_id",
                violation_error_message="This phone number id is already used by another active configuration.",
            ),
        ]

    def __str__(self):
        return f"{self.whatsapp_number} ({self.user.email})"

    @sensitive_variables("token")
    def set_access_token(self, token):
        self.api_key = encryption.encrypt(token) if token else None

    @sensitive_variables("token")
    def access_token(self):
        return encryption.decrypt(self.api_key) if self.api_key else None

    @property
    @sensitive_variables("token")
    def masked_api_key(self):
        """The token's last four characters, the most any page shows of it."""
        if not self.api_key:
            return "not set"
        try:
            token = self.access_token()
        except encryption.DecryptionError:
            return "unreadable (key missing)"
        # A short token would be given away whole by its last four characters.
        return "••••" + token[-4:] if len(token) >= 16 else "••••"


class WebhookEventQuerySet(models.QuerySet):
    def due(self, now):
        """Events waiting to be processed whose next attempt is not in the future."""
        return self.filter(state=WebhookEvent.State.PENDING).filter(
            models.Q(next_attempt_at__isnull=True) | models.Q(next_attempt_at__lte=now)
        )

    def replayable(self):
        return self.filter(state__in=(WebhookEvent.State.FAILED, WebhookEvent.State.UNROUTABLE))


class WebhookEvent(models.Model):
    """One signed notification from Meta, stored exactly as received before anything else happens.

    This table is the intake's durable queue: the webhook answers 200 once a row exists, and the
    processor (a worker, or the request itself when WHATSAPP_PROCESS_INLINE is on) turns it into
    customers, messages and status updates. Nothing is ever deleted here by the app: a failed or
    unroutable event stays visible in the admin and can be replayed.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        UNROUTABLE = "unroutable", "Unroutable"

    id = models.BigAutoField(primary_key=True)
    received_at = models.DateTimeField(db_default=Now(), editable=False)
    body = models.TextField(help_text="The request body exactly as Meta sent it (its signature was valid).")
    phone_number_id = models.CharField(
        max_length=64, blank=True, default="", help_text="The business number's Phone Number ID the event is for."
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0, help_text="How many times processing ran.")
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="A pending event waits until then (a retry after a failure)."
    )
    processed_at = models.DateTimeField(null=True, blank=True, help_text="When processing last ran.")
    agent = models.ForeignKey(
        "agents.Agent",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent the event was routed to (set by processing). Row security shows an event only "
        "in this agent's scope; one not routed yet, only to the unrestricted scope.",
    )
    summary = models.TextField(blank=True, default="", help_text="What processing did with the event's items.")
    error = models.TextField(blank=True, default="", help_text="Why the last processing failed, item by item.")
    intake_slice = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,
        help_text="Which slice of the intake the event belongs to (from its phone number id, whatsapp.slices): "
        "each intake worker processes its own slices, so its database connection keeps only their agents' "
        "tables warm.",
    )

    objects = WebhookEventQuerySet.as_manager()

    class Meta:
        db_table = "whatsapp_webhook_events"
        verbose_name = "webhook event"
        ordering = ["-id"]
        indexes = [
            # The worker's queue: only pending rows, in arrival order; stays small however many are kept.
            models.Index(fields=["id"], condition=models.Q(state="pending"), name="whatsapp_event_pending"),
            # What an admin looks for: the few events that need attention.
            models.Index(
                fields=["state", "-id"],
                condition=models.Q(state__in=["failed", "unroutable"]),
                name="whatsapp_event_attention",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "processed", "failed", "unroutable"]),
                name="whatsapp_event_state_valid",
            ),
        ]

    def __str__(self):
        return f"Webhook event #{self.pk} ({self.state})"


class MessageTemplateQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=MessageTemplate.APPROVED)


class MessageTemplate(models.Model):
    """A message template of a configuration's WhatsApp Business Account, as Meta last listed it.

    Kept per configuration by whatsapp.message_templates.sync_templates(); only APPROVED ones can be
    sent, and only they may be sent outside the 24-hour customer service window.
    """

    APPROVED = "APPROVED"

    configuration = models.ForeignKey(WhatsAppConfiguration, on_delete=models.CASCADE, related_name="templates")
    meta_id = models.CharField(max_length=64, help_text="Meta's id of the template.")
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16)
    status = models.CharField(max_length=32, help_text="APPROVED, PENDING, REJECTED, PAUSED, DISABLED...")
    category = models.CharField(max_length=32, blank=True)
    parameter_format = models.CharField(max_length=16, default="POSITIONAL")
    components = models.JSONField(default=list, help_text="Meta's components: HEADER, BODY, FOOTER, BUTTONS.")
    synced_at = models.DateTimeField()
    # What Meta's template webhooks said since (whatsapp.message_templates.apply_template_webhook).
    status_reason = models.CharField(max_length=64, blank=True, default="", help_text="Why Meta rejected it.")
    quality_score = models.CharField(max_length=16, blank=True, default="", help_text="GREEN, YELLOW, RED, UNKNOWN.")
    previous_category = models.CharField(max_length=32, blank=True, default="", help_text="Before Meta moved it.")
    category_changed_at = models.DateTimeField(null=True, blank=True)
    upcoming_category = models.CharField(max_length=32, blank=True, default="", help_text="Meta moves it soon.")
    upcoming_category_at = models.DateTimeField(null=True, blank=True)
    # The time of the latest webhook applied, per kind: an older one delivered late changes nothing.
    status_webhook_at = models.DateTimeField(null=True, blank=True)
    quality_webhook_at = models.DateTimeField(null=True, blank=True)
    category_webhook_at = models.DateTimeField(null=True, blank=True)

    objects = MessageTemplateQuerySet.as_manager()

    class Meta:
        db_table = "whatsapp_message_templates"
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["configuration", "name", "language"], name="whatsapp_message_templates_unique_name_language"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.language})"


class MediaDownload(models.Model):
    """The download of one inbound media file (image, video, audio, document, sticker) into our storage.

    Created with the message, in the same transaction; a background task fetches the file from the
    Graph API and sets the message's `media_url`. `next_attempt_at` is the row's deadline in every
    unfinished state: when a retry is due, or when a queued or running task is presumed lost. A
    failed download never touches the message itself; it is shown here and can be retried.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DOWNLOADING = "downloading", "Downloading"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    message_id = models.IntegerField(help_text="The message's id in the agent's messages table.")
    media_id = models.CharField(max_length=128, help_text="Meta's media id.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="", help_text="Why the last attempt failed.")
    file_name = models.TextField(blank=True, default="", help_text="The file's name in the media storage.")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "whatsapp_media_downloads"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "message_id"], name="whatsapp_media_download_message"),
            models.CheckConstraint(
                condition=models.Q(state__in=["pending", "downloading", "done", "failed"]),
                name="whatsapp_media_download_state_valid",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state__in=["pending", "downloading"]),
                name="whatsapp_media_download_due",
            ),
        ]

    def __str__(self):
        return f"Media {self.media_id} of message {self.message_id} ({self.state})"


class CustomerNumberChange(models.Model):
    """A customer's move to a new WhatsApp number, as a `user_changed_number` system message said.

    Kept so the old number stays in the customer's history and an admin can undo a move (one per
    system message: a re-delivery of the same message records nothing more). A table every agent shares,
    under row security keyed on `agent_id` (crm/rls.py), not one of the agent's own tables.
    """

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    customer_id = models.IntegerField(help_text="The customer's id in the agent's customers table.")
    wamid = models.TextField(help_text="The system message that announced the change.")
    old_phone = models.TextField()
    new_phone = models.TextField()
    changed_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        db_table = "whatsapp_customer_number_changes"
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "wamid"], name="whatsapp_number_change_once"),
        ]
        indexes = [models.Index(fields=["agent", "customer_id"], name="whatsapp_number_change_cust")]

    def __str__(self):
        return f"{self.old_phone} → {self.new_phone}"


class MessagePrice(models.Model):
    """What the seller pays WhatsApp for one billable message of a pricing category, to numbers starting
    with a country code prefix ("" for every number), in the seller's own table.

    Read by whatsapp.costs for the costs of orders, customers and months; broadcasts (issue #17) estimate
    theirs from it too. A table every agent shares, under row security keyed on `agent_id`.
    """

    CATEGORIES = [
        ("marketing", "Marketing"),
        ("marketing_lite", "Marketing (Marketing Messages API)"),
        ("utility", "Utility"),
        ("authentication", "Authentication"),
        ("authentication-international", "Authentication (international)"),
        ("service", "Service"),
    ]

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=32, choices=CATEGORIES)
    country_prefix = models.CharField(
        max_length=4, blank=True, default="", help_text='The country calling code, digits only ("55"); empty for any.'
    )
    price = models.DecimalField(max_digits=10, decimal_places=4)
    currency = models.CharField(max_length=3, default="USD")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "whatsapp_message_prices"
        ordering = ["category", "country_prefix"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "category", "country_prefix"], name="whatsapp_message_price_once"),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="whatsapp_message_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.category} +{self.country_prefix or '*'}: {self.price} {self.currency}"


class HistoryImport(models.Model):
    """One chunk of the chat history Meta sends when a WhatsApp Business app number is onboarded (the
    `history` webhook), imported into the agent's tables in the background (whatsapp.coexistence).

    One row per (phase, chunk_order): a re-delivered chunk is the same import. `imported` is how far the
    import got (messages in the chunk's order), so an interrupted import resumes where it stopped.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        IMPORTING = "importing", "Importing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="+")
    event_id = models.BigIntegerField(help_text="The webhook event holding the chunk.")
    change_index = models.IntegerField()
    chunk_index = models.IntegerField()
    phase = models.IntegerField(help_text="0: day 0-1, 1: day 1-90, 2: day 90-180 before onboarding.")
    chunk_order = models.IntegerField()
    progress = models.IntegerField(help_text="Meta's overall progress, in percent, with this chunk.")
    total = models.IntegerField(default=0, help_text="Messages in the chunk.")
    imported = models.IntegerField(default=0, help_text="Messages of the chunk done so far.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "whatsapp_history_imports"
        ordering = ["phase", "chunk_order"]
        constraints = [
            models.UniqueConstraint(fields=["agent", "phase", "chunk_order"], name="whatsapp_history_chunk_once"),
        ]

    def __str__(self):
        return f"History phase {self.phase} chunk {self.chunk_order}: {self.imported}/{self.total} ({self.state})"


class IntakeWorker(models.Model):
    """An intake worker that is running: it says so every few seconds (whatsapp.slices)."""

    name = models.CharField(max_length=128, primary_key=True)
    seen_at = models.DateTimeField()

    class Meta:
        db_table = "whatsapp_intake_workers"


class IntakeSlice(models.Model):
    """One slice of the intake and the worker that holds it until `renewed_at` + the lease (whatsapp.slices)."""

    number = models.PositiveSmallIntegerField(primary_key=True)
    worker = models.CharField(max_length=128, blank=True, default="")
    renewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "whatsapp_intake_slices"
        ordering = ["number"]
