"""The form of a shop's ways to pay."""

from django import forms

from agents.shop import shop_of

from .models import PaymentSettings
from .ways import CheckoutError, check_pattern


class PaymentSettingsForm(forms.ModelForm):
    class Meta:
        model = PaymentSettings
        fields = [
            "link_pattern",
            "bank_details",
            "cash_on_delivery",
            "meta_configuration",
            "meta_gateway",
            "goods_type",
            "default_way",
        ]
        labels = {
            "link_pattern": "Payment link",
            "bank_details": "Bank transfer details",
            "cash_on_delivery": "Cash on delivery",
            "meta_configuration": "Meta payment configuration",
            "meta_gateway": "Payment gateway linked with Meta",
            "goods_type": "Type of goods",
            "default_way": "Default way to pay",
        }
        help_texts = {
            "link_pattern": "Your payment provider's link; {order}, {total} and {currency} are filled in for each "
            "order. Example: https://pay.example.com/shop?ref={order}&amount={total}",
            "bank_details": "Shown with the order number as the transfer's reference.",
            "cash_on_delivery": "The customer pays when the order is delivered.",
            "meta_configuration": "Only where WhatsApp payments exist for your number (India): the name of the "
            "payment configuration you set up with Meta. Leave empty to not offer it.",
            "default_way": "What the order summary says when you do not choose.",
        }
        widgets = {"bank_details": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, agent, *args, **kwargs):
        self.agent = agent
        super().__init__(*args, **kwargs)
        self.fields["default_way"].choices = [("", "The first way that is on"), *PaymentSettings.Way.choices]

    def clean_link_pattern(self):
        pattern = self.cleaned_data["link_pattern"].strip()
        if pattern:
            try:
                check_pattern(pattern, shop_of(self.agent).currency)
            except CheckoutError as error:
                raise forms.ValidationError(str(error)) from None
        return pattern

    def clean_meta_configuration(self):
        name = self.cleaned_data["meta_configuration"].strip()
        if name and not all(char.isalnum() or char in "-_ ." for char in name):
            raise forms.ValidationError("Use the configuration's name as Meta shows it: letters, digits, - and _.")
        return name

    def clean(self):
        cleaned = super().clean()
        way = cleaned.get("default_way")
        if way and self.is_valid_way(cleaned, way) is False:
            self.add_error("default_way", "Turn this way on first: fill in its details above.")
        return cleaned

    @staticmethod
    def is_valid_way(cleaned, way):
        filled = {
            "link": cleaned.get("link_pattern"),
            "bank": (cleaned.get("bank_details") or "").strip(),
            "cash": cleaned.get("cash_on_delivery"),
            "meta": cleaned.get("meta_configuration"),
        }
        return bool(filled.get(way))

    def values(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
