from django import forms
from django.contrib.auth.forms import BaseUserCreationForm, UserChangeForm

from .models import Role, User


class RoleLimitedMixin:
    """Only super admins may give the admin or super admin role."""

    def limit_roles(self, acting_user):
        if not acting_user.is_superuser:
            self.fields["role"].choices = [(Role.AGENT, Role.AGENT.label)]


class UserCreationForm(RoleLimitedMixin, BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class UserEditForm(RoleLimitedMixin, UserChangeForm):
    class Meta:
        model = User
        fields = ("email", "name", "role", "is_active")

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"])


class CodeForm(forms.Form):
    """A code from the authenticator app (six digits) or, where allowed, a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
