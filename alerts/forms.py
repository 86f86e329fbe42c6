from urllib.parse import urlsplit

from django import forms
from django.conf import settings

from . import push

ENDPOINT_MAX_LENGTH = 2048
KEY_MAX_LENGTH = 200


class PushSubscriptionForm(forms.Form):
    """A browser's PushSubscription, as its toJSON() gives it: the endpoint and the two keys."""

    endpoint = forms.CharField(max_length=ENDPOINT_MAX_LENGTH)
    p256dh = forms.CharField(max_length=KEY_MAX_LENGTH)
    auth = forms.CharField(max_length=KEY_MAX_LENGTH)

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"]
        try:
            parts = urlsplit(endpoint)
        except ValueError:
            parts = None
        schemes = ("https", "http") if settings.WEBPUSH_ALLOW_HTTP_ENDPOINTS else ("https",)
        if parts is None or parts.scheme not in schemes or not parts.hostname or parts.username or parts.password:
            raise forms.ValidationError("This is not a push service's address (it must start with https://).")
        return endpoint

    def clean(self):
        cleaned = super().clean()
        if "p256dh" in cleaned and "auth" in cleaned:
            try:
                push.check_keys(cleaned["p256dh"], cleaned["auth"])
            except ValueError as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


class PushEndpointForm(forms.Form):
    endpoint = forms.CharField(max_length=ENDPOINT_MAX_LENGTH)


class AlertSettingsForm(forms.Form):
    show_message_text = forms.BooleanField(
        required=False,
        label="Show message text in notifications",
        help_text=(
            "Off: a notification says only who wrote. On: it shows the first 200 characters of the message, "
            "which then travel (encrypted) through your browser's push service and appear on your lock screen."
        ),
    )
