"""The audit log: who did what to which object, when and from where. Rows are only ever added."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Now


class AuditEvent(models.Model):
    """One security-relevant action. Written by `audit.record()`, read in the admin, never edited.

    The actor and target are kept as text too (`actor_label`, `target_label`), so an event still
    says who and what after the user or object is gone. `target_type` is the target's table name
    (`users`, `agents`, `agt_12_orders`), which names agent-table objects without ambiguity.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(db_default=Now(), editable=False, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_column="actor_id",
        related_name="+",
    )
    actor_label = models.CharField("actor", max_length=254, blank=True)
    target_type = models.CharField(max_length=100, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField("target", max_length=255, blank=True)
    ip_address = models.GenericIPAddressField("source IP", null=True, blank=True)
    details = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        db_table = "audit_log"
        ordering = ["-at", "-id"]
        verbose_name = "audit event"
        indexes = [models.Index(fields=["target_type", "target_id"], name="audit_log_target")]

    def __str__(self):
        return f"{self.action} by {self.actor_label or 'anonymous'}"
