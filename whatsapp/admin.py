from django import forms
from django.contrib import admin, messages

from .graph import GraphError
from .message_templates import TemplateError, sync_templates
from .models import MessageTemplate, WhatsAppConfiguration
from .phones import to_e164


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
            "user", "agent", "whatsapp_number", "phone_number_id", "business_account_id", "webhook_url", "is_active",
        )

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


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    """Read-only: templates are written in Meta's WhatsApp Manager and synced from there."""

    list_display = ("name", "language", "status", "category", "configuration", "synced_at")
    list_filter = ("status", "category")
    list_select_related = ("configuration",)
    search_fields = ("name", "configuration__whatsapp_number")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
