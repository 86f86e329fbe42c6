from django import forms
from django.core.exceptions import ValidationError

from crm.phones import to_e164

from .simulator import FAILURE_CHOICES

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_SIGNATURES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


class CustomerForm(forms.Form):
    """Who the person plays: a business number to write to, and the customer's phone and name."""

    number = forms.ModelChoiceField(queryset=None, label="Business number", empty_label=None)
    phone = forms.CharField(
        label="Your phone number", max_length=32, help_text="With the country code, e.g. +14155550123."
    )
    name = forms.CharField(
        label="Your name", max_length=100, required=False, help_text="Shown to the shop as your WhatsApp profile name."
    )

    def __init__(self, *args, configurations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["number"].queryset = configurations

    def clean_phone(self):
        return to_e164(self.cleaned_data["phone"])

    def clean_name(self):
        return self.cleaned_data["name"].strip() or "Sandbox customer"


class MessageForm(forms.Form):
    text = forms.CharField(
        label="Your message", max_length=4096, required=False, strip=True, widget=forms.Textarea(attrs={"rows": 2})
    )
    image = forms.FileField(
        label="Attach an image (JPEG or PNG, up to 5 MB)",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image is None:
            return None
        if image.size > MAX_IMAGE_BYTES:
            raise ValidationError("The image is larger than 5 MB, the most WhatsApp takes.")
        head = image.read(8)
        image.seek(0)
        mime_type = next((mime for mime, start in IMAGE_SIGNATURES.items() if head.startswith(start)), None)
        if mime_type is None:
            raise ValidationError("Only JPEG and PNG images can be sent.")
        image.content_type = mime_type
        return image

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("text") and not cleaned.get("image") and not self.errors:
            raise ValidationError("Type a message or attach an image.")
        return cleaned


class FailureForm(forms.Form):
    failure = forms.ChoiceField(
        label="Meta answers", choices=[(key, choice.label) for key, choice in FAILURE_CHOICES.items()]
    )
    messages = forms.IntegerField(label="How many of the shop's next sends", min_value=1, max_value=10, initial=1)


class CartItemForm(forms.Form):
    product = forms.CharField(max_length=100)
    quantity = forms.IntegerField(min_value=1, max_value=99, initial=1)  # WhatsApp's cart takes 99 of a product


class CartForm(forms.Form):
    note = forms.CharField(
        label="Note to the shop", required=False, max_length=1024, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
