from django import forms

from . import numbering
from .models import PREFIX_MAX_LENGTH


class InvoiceSettingsForm(forms.Form):
    prefix = forms.CharField(
        label="Invoice number prefix",
        required=False,
        max_length=PREFIX_MAX_LENGTH,
        help_text="Written before each new invoice number, such as INV-2026- (INV-2026-0001). Numbers already "
        "given keep the prefix they were given with.",
    )

    def clean_prefix(self):
        return numbering.clean_prefix(self.cleaned_data["prefix"])
