import json

from django.contrib import admin
from django.utils.html import format_html

from crm.admin import ReadOnlyModelAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    """The audit log, read-only for everyone: events are added by the app, never typed or edited."""

    list_display = ("at", "action", "actor_label", "target_type", "target_label", "ip_address")
    list_filter = ("action", "target_type")
    search_fields = ("action", "actor_label", "target_label", "target_id", "ip_address")
    date_hierarchy = "at"
    fields = (
        "at",
        "action",
        "actor_label",
        "actor",
        "target_type",
        "target_id",
        "target_label",
        "ip_address",
        "details_json",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description="details")
    def details_json(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.details, indent=2, sort_keys=True, default=str))
