from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit

from . import two_factor
from .forms import UserCreationForm, UserEditForm
from .models import Role, User

# Permissions follow from roles; Django's groups are not used.
admin.site.unregister(Group)
# django-otp's own pages would show authenticator secrets and recovery codes: devices are managed
# by their owner (Two-factor login) and reset by a super admin (the action below), nowhere else.
admin.site.unregister(TOTPDevice)
admin.site.unregister(StaticDevice)

AUDITED_FIELDS = ("email", "name", "role", "is_active")


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("email", "name", "role", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("email", "name")
    ordering = ("email",)
    filter_horizontal = ()
    readonly_fields = ("created_at", "last_login", "two_factor_status")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("name", "role", "is_active")}),
        ("Security", {"fields": ("two_factor_status",)}),
        ("Dates", {"fields": ("last_login", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")}),)
    actions = ["reset_two_factor"]

    def get_form(self, request, obj=None, **kwargs):
        form_class = super().get_form(request, obj, **kwargs)
        acting_user = request.user

        class RoleLimitedForm(form_class):
            def __init__(self, *args, **form_kwargs):
                super().__init__(*args, **form_kwargs)
                if "role" in self.fields:
                    self.limit_roles(acting_user)

        return RoleLimitedForm

    def _may_manage(self, request, obj):
        """Admins manage agent users; admins and super admins are managed by super admins only."""
        return obj is None or request.user.is_superuser or obj.role == Role.AGENT

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(request, obj)

    def has_reset_two_factor_permission(self, request):
        return request.user.is_superuser

    @admin.display(description="Two-factor login")
    def two_factor_status(self, obj):
        if not two_factor.may_use(obj):
            return "not used by agents"
        return "on" if two_factor.is_enabled(obj) else "off"

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if not change:
                audit.record("user.created", actor=request.user, target=obj, request=request, role=obj.role)
                return
            changes = {
                name: {"from": form.initial.get(name), "to": form.cleaned_data.get(name)}
                for name in AUDITED_FIELDS
                if name in form.changed_data
            }
            if changes:
                action = "user.role_changed" if "role" in changes else "user.changed"
                audit.record(action, actor=request.user, target=obj, request=request, changes=changes)

    def delete_model(self, request, obj):
        with transaction.atomic():
            audit.record("user.deleted", actor=request.user, target=obj, request=request, role=obj.role)
            super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for user in queryset:
                audit.record("user.deleted", actor=request.user, target=user, request=request, role=user.role)
            super().delete_queryset(request, queryset)

    def user_change_password(self, request, id, form_url=""):
        """Django's page that sets another user's password (validated; their sessions end), audited."""
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            # Success redirects to the user's change page; a refused form re-renders or comes back here.
            if request.method == "POST" and response.status_code == 302 and response.url != request.get_full_path():
                user = User.objects.get(pk=id)
                audit.record(
                    "password.changed",
                    actor=request.user,
                    target=user,
                    request=request,
                    by="admin",
                    password_usable=user.has_usable_password(),
                )
        return response

    @admin.action(
        description="Reset two-factor login (lost phone and recovery codes)", permissions=["reset_two_factor"]
    )
    def reset_two_factor(self, request, queryset):
        for user in queryset:
            two_factor.reset(user, actor=request.user, request=request)
        self.message_user(
            request,
            f"Two-factor login reset for {len(queryset)} user(s): their password alone logs them in until they "
            "set it up again.",
            messages.SUCCESS,
        )
