import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

import audit
from crm.admin import ReadOnlyModelAdmin
from crm.phones import to_e164

from . import customers, intake, media
from .configuration import audited_values, record_configuration_change
from .graph import GraphError
from .message_templates import TemplateError, sync_templates
from .models import CustomerNumberChange, MediaDownload, MessageTemplate, WebhookEvent, WhatsAppConfiguration


class WhatsAppConfigurationForm(forms.ModelForm):
    new_access_token = forms.CharField(
        label="New access token",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Leave empty to keep the current token. A saved token is never shown again.",
    )

    class Meta:
        model = WhatsAppConfiguration
        fields = (
            "user",
            "agent",
            "whatsapp_number",
            "phone_number_id",
            "business_account_id",
            "catalog_id",
            "webhook_url",
            "is_active",
        )

    def clean_catalog_id(self):
        return (self.cleaned_data.get("catalog_id") or "").strip() or None

    def clean_whatsapp_number(self):
        return to_e164(self.cleaned_data["whatsapp_number"])

    def clean(self):
        cleaned = super().clean()
        agent, user = cleaned.get("agent"), cleaned.get("user")
        if agent and user and agent.user_id != user.pk:
            self.add_error("agent", "This agent does not belong to the selected user.")
        return cleaned

    def save(self, commit=True):
        if self.cleaned_data.get("new_access_token"):
            self.instance.set_access_token(self.cleaned_data["new_access_token"])
        return super().save(commit)


@admin.register(WhatsAppConfiguration)
class WhatsAppConfigurationAdmin(admin.ModelAdmin):
    form = WhatsAppConfigurationForm
    list_display = ("whatsapp_number", "user", "phone_number_id", "is_active", "masked_api_key", "updated_at")
    list_filter = ("is_active",)
    list_select_related = ("user",)
    search_fields = ("whatsapp_number", "phone_number_id", "user__email")
    readonly_fields = ("masked_api_key", "created_at", "updated_at")
    autocomplete_fields = ("user", "agent")

    actions = ["sync_message_templates"]

    @admin.action(description="Sync message templates from Meta now")
    def sync_message_templates(self, request, queryset):
        for configuration in queryset:
            try:
                count = sync_templates(configuration)
            except (GraphError, TemplateError) as error:
                self.message_user(request, f"{configuration.whatsapp_number}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{configuration.whatsapp_number}: {count} templates synced.")

    @admin.display(description="Access token")
    def masked_api_key(self, obj):
        return obj.masked_api_key

    @method_decorator(sensitive_post_parameters("new_access_token"))
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        # The form holds the instance as edited; the audit compares with the row as stored.
        with transaction.atomic():
            stored = WhatsAppConfiguration.objects.select_for_update().get(pk=obj.pk) if change else None
            before = audited_values(stored) if change else None
            super().save_model(request, obj, form, change)
            record_configuration_change(
                obj,
                before=before,
                token_changed=change and bool(form.cleaned_data.get("new_access_token")),
                actor=request.user,
                request=request,
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record("whatsapp.configuration_deleted", actor=request.user, target=obj, request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for configuration in queryset:
                audit.record(
                    "whatsapp.configuration_deleted", actor=request.user, target=configuration, request=request
                )
            super().delete_queryset(request, queryset)


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyModelAdmin):
    """Every notification Meta sent, as received: what became of it, and a replay for those that failed."""

    list_display = ("id", "received_at", "state", "phone_number_id", "attempts", "short_summary", "short_error")
    list_display_links = ("id", "received_at")
    list_filter = ("state",)
    search_fields = ("=id", "=phone_number_id", "body")
    search_help_text = "An event id, a phone number id, or any text of the body (a wamid, a phone number)."
    ordering = ("-id",)
    list_per_page = 50
    # Counting a large event table on every page would cost more than the page itself.
    show_full_result_count = False
    actions = ["replay"]
    fields = (
        "id",
        "received_at",
        "state",
        "phone_number_id",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "summary",
        "error",
        "pretty_body",
    )
    readonly_fields = fields

    def has_replay_permission(self, request):
        return request.user.has_perm("whatsapp.change_webhookevent")

    @admin.display(description="Summary")
    def short_summary(self, obj):
        return obj.summary[:120]

    @admin.display(description="Error")
    def short_error(self, obj):
        return obj.error.splitlines()[0][:120] if obj.error else ""

    @admin.display(description="Body")
    def pretty_body(self, obj):
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html('<pre class="webhook-body">{}</pre>', text)

    @admin.action(description="Replay selected events", permissions=["replay"])
    def replay(self, request, queryset):
        states, skipped = intake.replay_events(queryset.order_by("id").values_list("id", flat=True))
        failed = states.get(WebhookEvent.State.FAILED, 0) + states.get(WebhookEvent.State.UNROUTABLE, 0)
        self.message_user(
            request, intake.describe_replay(states, skipped), messages.WARNING if failed else messages.SUCCESS
        )


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ReadOnlyModelAdmin):
    """Read-only: templates are written in Meta's WhatsApp Manager and synced from there."""

    list_display = ("name", "language", "status", "category", "configuration", "synced_at")
    list_filter = ("status", "category")
    list_select_related = ("configuration",)
    search_fields = ("name", "configuration__whatsapp_number")


@admin.register(MediaDownload)
class MediaDownloadAdmin(ReadOnlyModelAdmin):
    """Inbound media copied from Meta: failures show here, with Meta's error, and can be retried."""

    list_display = ("id", "agent", "message_id", "media_id", "state", "attempts", "next_attempt_at", "short_error")
    list_filter = ("state",)
    list_select_related = ("agent",)
    search_fields = ("=media_id", "=message_id", "agent__agent_prefix")
    ordering = ("-id",)
    show_full_result_count = False
    actions = ["retry"]
    fields = (
        "id",
        "agent",
        "message_id",
        "media_id",
        "state",
        "attempts",
        "next_attempt_at",
        "error",
        "file_name",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_retry_permission(self, request):
        return request.user.has_perm("whatsapp.change_mediadownload")

    @admin.display(description="Error")
    def short_error(self, obj):
        return obj.error[:120]

    @admin.action(description="Retry selected downloads", permissions=["retry"])
    def retry(self, request, queryset):
        count = media.retry_downloads(queryset.values_list("id", flat=True))
        self.message_user(request, f"{count} download{'s' if count != 1 else ''} queued again.", messages.SUCCESS)


@admin.register(CustomerNumberChange)
class CustomerNumberChangeAdmin(ReadOnlyModelAdmin):
    """Customers' moves to a new WhatsApp number (Meta's `user_changed_number`), and an undo for a wrong one."""

    list_display = ("id", "agent", "customer_id", "old_phone", "new_phone", "changed_at", "undone_at")
    list_filter = ("undone_at",)
    list_select_related = ("agent",)
    search_fields = ("=old_phone", "=new_phone", "=customer_id", "agent__agent_prefix")
    ordering = ("-id",)
    actions = ["undo"]
    fields = ("id", "agent", "customer_id", "wamid", "old_phone", "new_phone", "changed_at", "undone_at", "undone_by")
    readonly_fields = fields

    def has_undo_permission(self, request):
        return request.user.has_perm("whatsapp.change_customernumberchange")

    @admin.action(description="Undo the selected number changes (back to the old number)", permissions=["undo"])
    def undo(self, request, queryset):
        for change in queryset.order_by("-id"):
            try:
                customers.undo_number_change(change, user=request.user, request=request)
            except customers.UndoRefused as error:
                self.message_user(request, f"{change}: {error}", messages.WARNING)
            else:
                self.message_user(request, f"Customer {change.customer_id} is back on {change.old_phone}.")
