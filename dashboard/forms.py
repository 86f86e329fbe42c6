"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents.customers import NAME_MAX_LENGTH, PICTURE_MAX_BYTES
from agents.models import QuickReply
from orders.models import Product
from outreach import consent
from outreach.models import OutreachSettings


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


class ProductForm(forms.Form):
    name = forms.CharField(max_length=Product.NAME_MAX_LENGTH, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    retailer_id = forms.CharField(
        label="SKU (retailer id)",
        max_length=Product.RETAILER_ID_MAX_LENGTH,
        help_text="Your code for the product, unique in your catalog (e.g. linen-shirt-m). WhatsApp carts name "
        "products by it.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    price = forms.DecimalField(
        min_value=0,
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"}),
    )
    currency = forms.CharField(
        required=False,
        max_length=3,
        min_length=3,
        help_text="Three letters (ISO 4217), e.g. EUR. Leave empty for your shop's currency.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "size": "4"}),
    )
    description = forms.CharField(
        required=False, max_length=Product.DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 3})
    )
    image_url = forms.URLField(
        label="Image URL", required=False, max_length=Product.IMAGE_URL_MAX_LENGTH, assume_scheme="https"
    )
    in_stock = forms.BooleanField(label="In stock", required=False, initial=True)

    def clean_currency(self):
        currency = self.cleaned_data["currency"].strip().upper()
        if currency and not (currency.isascii() and currency.isalpha()):
            raise forms.ValidationError("Three letters, e.g. EUR.")
        return currency


class ProductSearchForm(forms.Form):
    q = forms.CharField(label="Search name or SKU", required=False, max_length=200)
    archived = forms.BooleanField(label="Show archived products", required=False)


class ProductImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, sku, price, and optionally currency, description, image_url, in_stock "
        "(the columns of the export). UTF-8, up to 2 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


class ProductImportConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class CatalogIdForm(forms.Form):
    catalog_id = forms.CharField(
        label="Meta catalog id",
        required=False,
        max_length=64,
        help_text="The id of the commerce catalog linked to your WhatsApp Business Account (Commerce Manager). "
        "Empty: no sync.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def clean_catalog_id(self):
        catalog_id = self.cleaned_data["catalog_id"].strip()
        if catalog_id and not (catalog_id.isascii() and catalog_id.isdigit()):
            raise forms.ValidationError("A Meta catalog id is digits only, e.g. 1234567890.")
        return catalog_id


class ProductMessageForm(forms.Form):
    """Products to send from the conversation: the agent's active ones are the only choices."""

    product = forms.MultipleChoiceField(label="Products", widget=forms.CheckboxSelectMultiple)
    header = forms.CharField(
        required=False, max_length=60, help_text="Needed for several products, e.g. “Our new vases”."
    )
    body = forms.CharField(label="Text", required=False, max_length=1024, widget=forms.Textarea(attrs={"rows": 1}))
    footer = forms.CharField(required=False, max_length=60)

    def __init__(self, *args, products=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["product"].choices = [(str(product.pk), product.name) for product in products]

    def clean_product(self):
        return [int(pk) for pk in self.cleaned_data["product"]]


class CatalogMessageForm(forms.Form):
    catalog_text = forms.CharField(
        label="Text with the catalog",
        max_length=1024,
        initial="Have a look at our catalog: add what you like to the cart and send it to us.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OutreachSettingsForm(forms.ModelForm):
    """The shop's stop and start words and the replies that confirm them."""

    MAX_WORDS = 50
    MAX_WORD_LENGTH = 60

    class Meta:
        model = OutreachSettings
        fields = ["stop_words", "start_words", "opt_out_reply", "opt_in_reply"]
        labels = {
            "stop_words": "Stop words",
            "start_words": "Start words",
            "opt_out_reply": "Reply when a customer stops marketing",
            "opt_in_reply": "Reply when a customer takes marketing again",
        }
        help_texts = {
            "opt_out_reply": "Sent right after the customer's message. Leave empty to send nothing.",
            "opt_in_reply": "Leave empty to send nothing.",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in fields}

    def _clean_words(self, name):
        words = consent.word_list(self.cleaned_data[name])
        if not words:
            raise forms.ValidationError("Give at least one word.")
        if len(words) > self.MAX_WORDS:
            raise forms.ValidationError(f"At most {self.MAX_WORDS} words; this list has {len(words)}.")
        too_long = [word for word in words if len(word) > self.MAX_WORD_LENGTH]
        if too_long:
            raise forms.ValidationError(
                f"A word can be at most {self.MAX_WORD_LENGTH} characters: “{too_long[0][:20]}…” is longer."
            )
        return "\n".join(words)

    def clean_stop_words(self):
        return self._clean_words("stop_words")

    def clean_start_words(self):
        return self._clean_words("start_words")

    def clean(self):
        cleaned = super().clean()
        both = set((cleaned.get("stop_words") or "").split("\n")) & set((cleaned.get("start_words") or "").split("\n"))
        both.discard("")
        if both:
            self.add_error("start_words", f"“{sorted(both)[0]}” cannot be both a stop word and a start word.")
        return cleaned
