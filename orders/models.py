"""An agent's choices about orders (status templates) and its product catalog, with how its last sync went."""

from django.db import models
from django.db.models.functions import Now

from .workflow import STATUS_LABELS


class StatusTemplate(models.Model):
    """The approved template that tells a customer about a status change outside the 24-hour window.

    Inside the window the customer gets a plain text; outside it only a template may be sent, so the
    agent picks one per status in the order settings.
    """

    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="status_templates")
    status = models.CharField(max_length=16, choices=list(STATUS_LABELS.items()))
    template = models.ForeignKey("whatsapp.MessageTemplate", on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "order_status_templates"
        constraints = [
            models.UniqueConstraint(fields=["agent", "status"], name="order_status_templates_one_per_status")
        ]

    def __str__(self):
        return f"{self.status}: {self.template}"


class ProductQuerySet(models.QuerySet):
    def active(self):
        """Products not archived: the ones offered in messages and matched against carts."""
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def search(self, text):
        """Products whose name or retailer id (SKU) contains `text`, ignoring case."""
        text = (text or "").strip()
        if not text:
            return self
        return self.filter(models.Q(name__icontains=text) | models.Q(retailer_id__icontains=text))


class Product(models.Model):
    """A product of an agent's catalog: what a cart line's retailer id names, and what product messages offer.

    One table every agent shares (keyed by `agent`, under row security), not a table per agent. A product
    that came from the agent's Meta commerce catalog carries Meta's id in `meta_product_id`; the sync
    archives it when it leaves that catalog. `currency` empty means the shop's own currency.
    """

    NAME_MAX_LENGTH = 200
    RETAILER_ID_MAX_LENGTH = 100
    DESCRIPTION_MAX_LENGTH = 5000
    IMAGE_URL_MAX_LENGTH = 2000

    id = models.BigAutoField(primary_key=True)
    agent = models.ForeignKey("agents.Agent", on_delete=models.CASCADE, related_name="products")
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    retailer_id = models.CharField(
        "SKU (retailer id)",
        max_length=RETAILER_ID_MAX_LENGTH,
        help_text="Your code for the product, unique in your catalog; WhatsApp carts name products by it.",
    )
    price = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(
        max_length=3, blank=True, default="", help_text="ISO 4217 code, e.g. EUR. Empty: your shop's currency."
    )
    description = models.TextField(max_length=DESCRIPTION_MAX_LENGTH, blank=True, default="")
    image_url = models.URLField("Image URL", max_length=IMAGE_URL_MAX_LENGTH, blank=True, default="")
    in_stock = models.BooleanField(default=True, db_default=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    meta_product_id = models.CharField(
        max_length=64, blank=True, default="", help_text="Meta's id of the product, when it came from the catalog."
    )
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    updated_at = models.DateTimeField(auto_now=True, db_default=Now(), editable=False)

    objects = ProductQuerySet.as_manager()

    class Meta:
        db_table = "agent_products"
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agent", "retailer_id"],
                name="agent_products_unique_retailer_id",
                violation_error_message="You already have a product with this SKU.",
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="agent_products_price_not_negative"),
        ]
        indexes = [models.Index(fields=["agent", "name", "id"], name="agent_products_by_name")]

    def __str__(self):
        return f"{self.name} ({self.retailer_id})"


class CatalogSync(models.Model):
    """How the last sync of an agent's Meta commerce catalog went: when, what changed, and why it failed."""

    id = models.BigAutoField(primary_key=True)
    agent = models.OneToOneField("agents.Agent", on_delete=models.CASCADE, related_name="catalog_sync")
    catalog_id = models.CharField(max_length=64, help_text="The Meta catalog synced.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True, help_text="When a sync last went through.")
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="", help_text="Why the last sync failed; empty when it did not.")

    class Meta:
        db_table = "agent_catalog_syncs"

    def __str__(self):
        return f"Catalog {self.catalog_id} of agent {self.agent_id}"
