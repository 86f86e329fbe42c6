from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters

import audit

from .configuration import audited_values, record_configuration_change
from .models import WhatsAppConfiguration
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
                obj, before=before, token_changed=change and bool(form.cleaned_data.get("new_access_token")),
                actor=request.user, request=request,
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record("whatsapp.configuration_deleted", actor=request.user, target=obj, request=request)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for configuration in queryset:
                audit.record("whatsapp.configuration_deleted", actor=request.user, target=configuration, request=request)
            super().delete_queryset(request, queryset)
