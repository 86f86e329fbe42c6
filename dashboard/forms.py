"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents.customers import NAME_MAX_LENGTH, PICTURE_MAX_BYTES
from agents.models import QuickReply
from whatsapp.models import MessagePrice


class CustomerForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(
        label="WhatsApp number",
        max_length=40,
        help_text="With the country code, e.g. +44 7700 900123.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )


class RenameCustomerForm(forms.Form):
    name = forms.CharField(max_length=NAME_MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "off"}))


class ProfilePictureForm(forms.Form):
    picture = forms.FileField(
        label="Profile picture",
        help_text="JPEG, PNG, GIF or WebP, up to 5 MB. It is cropped to a square.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp"}),
    )

    def clean_picture(self):
        picture = self.cleaned_data["picture"]
        if picture.size > PICTURE_MAX_BYTES:
            raise forms.ValidationError("The picture is too large: up to 5 MB, please.")
        return picture


class QuickReplyForm(forms.ModelForm):
    class Meta:
        model = QuickReply
        fields = ("shortcut", "text")
        widgets = {
            "shortcut": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "hours"}),
            "text": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_shortcut(self):
        return self.cleaned_data["shortcut"].lower()


class MessagePriceForm(forms.Form):
    category = forms.ChoiceField(label="Pricing category", choices=MessagePrice.CATEGORIES)
    country_prefix = forms.RegexField(
        label="Country code",
        regex=r"^\+?[0-9]{1,4}$",
        required=False,
        max_length=5,
        help_text="The calling code the numbers start with, e.g. 55 for Brazil. Empty: every other number.",
        error_messages={"invalid": "A country code is 1 to 4 digits, e.g. 55."},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    price = forms.DecimalField(
        label="Price per message",
        min_value=0,
        max_digits=10,
        decimal_places=4,
        help_text="As on your WhatsApp invoice.",
    )
    currency = forms.RegexField(
        regex=r"^[A-Za-z]{3}$",
        initial="USD",
        max_length=3,
        error_messages={"invalid": "A currency is a three-letter code, e.g. USD."},
    )

    def clean_country_prefix(self):
        return self.cleaned_data["country_prefix"].lstrip("+")
