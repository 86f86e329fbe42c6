"""An agent's choices about orders: which approved template tells a customer about each status."""

from django.db import models

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
