"""Forms of the dashboard: they parse and check input; the domain modules write."""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from agents import shop
from agents.customers import PICTURE_MAX_BYTES
from agents.models import Label, QuickReply
from agents.notes import MAX_NOTE_LENGTH
from crm.inputs import object_id
from orders.models import Product
from outreach import autoreplies, broadcasts, carts, consent
from outreach.models import OutreachSettings
from whatsapp import message_templates
from whatsapp.models import MessagePrice, MessageTemplate


class IdChoiceField(forms.ModelChoiceField):
    """A choice of the agent's rows by id that refuses a value that is no id (crm.inputs) before any query:
    a number past the column's range is an invalid choice, not a database error."""

    def to_python(self, value):
        if value not in self.empty_values and object_id(str(value)) is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Several of the agent's rows by id, each checked as an id (crm.inputs) before any query."""

    def _check_values(self, value):
        for pk in value:
            if object_id(str(pk)) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": str(pk)[:20]}
                )
        return super()._check_values(value)


class CustomerForm(forms.Form):
    # Names are checked by agents.customers.clean_name, which states the limit: a max_length here would
    # give the input a maxlength, and a browser cuts a longer name silently.
    name = forms.CharField(widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(
        label="WhatsApp number",
        max_length=40,
        help_text="With the country code, e.g. +44 7700 900123.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )


class CustomerDetailsForm(forms.Form):
    """What the seller keeps about a customer; agents.customers.save_customer_details checks each limit."""

    name = forms.CharField(widget=forms.TextInput(attrs={"autocomplete": "off"}))
    email = forms.CharField(
        label="Email", required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"}), strip=True
    )
    address = forms.CharField(
        label="Saved address",
        required=False,
        help_text="A new order is sent here unless their last order went elsewhere.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    notes = forms.CharField(
        label="Notes",
        required=False,
        help_text="For you: never sent to the customer.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )


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
        error_messages = {
            "shortcut": {
                "invalid": "A shortcut is one word of letters, digits, - and _ only: no spaces, and no signs "
                "such as “!” or “/” (for example: hours, opening-hours, pix_key)."
            }
        }
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


class ShopForm(forms.Form):
    """The shop's name, currency, locale and time zone; agents.shop checks each value again when saving."""

    name = forms.CharField(
        label="Shop name",
        help_text="Shown in the dashboard and in the messages your customers get.",
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    currency = forms.ChoiceField(label="Currency", help_text="Every amount is written in it.")
    locale = forms.ChoiceField(
        label="Language and country",
        help_text="How amounts and dates are written: 1.234,50 € in Germany, €1,234.50 in Ireland.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        required=False,
        help_text="Days in reports and times on pages are this zone's. Leave it empty to use each viewer's own.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].choices = shop.currency_choices()
        self.fields["locale"].choices = shop.locale_choices()
        self.fields["time_zone"].choices = [("", "Each viewer's own time zone")] + [
            (zone, zone.replace("_", " ")) for zone in shop.time_zone_choices()
        ]

    def clean_name(self):
        # Checked here rather than by max_length, whose maxlength attribute makes a browser cut a longer
        # name silently.
        try:
            return shop.clean_name(self.cleaned_data["name"])
        except forms.ValidationError as error:
            raise forms.ValidationError(error.messages)


class LabelForm(forms.ModelForm):
    class Meta:
        model = Label
        fields = ("name", "colour")
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "Pending payment"}),
            "colour": forms.RadioSelect,
        }

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError("Give the label a name.")
        return name


class _AgentLabelsForm(forms.Form):
    """A form whose `label(s)` field offers the agent's labels only."""

    def __init__(self, agent, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[self.label_field].queryset = Label.objects.filter(agent=agent).order_by("name", "id")


class CustomerLabelsForm(_AgentLabelsForm):
    label_field = "labels"
    labels = IdMultipleChoiceField(queryset=Label.objects.none(), required=False, widget=forms.CheckboxSelectMultiple)


class BulkLabelForm(_AgentLabelsForm):
    """A label put on (or taken off) the customers ticked in the customers list."""

    label_field = "label"
    label = IdChoiceField(queryset=Label.objects.none(), empty_label="Choose a label")
    action = forms.ChoiceField(choices=[("add", "Add label"), ("remove", "Remove label")], initial="add")
    customers = forms.CharField(required=False)  # read with getlist in clean_customers

    MAX_CUSTOMERS = 500

    def clean_customers(self):
        values = self.data.getlist("customers") if hasattr(self.data, "getlist") else []
        if not values:
            raise forms.ValidationError("Tick the customers to label first.")
        if len(values) > self.MAX_CUSTOMERS:
            raise forms.ValidationError(f"Label at most {self.MAX_CUSTOMERS} customers at a time.")
        ids = [object_id(value) for value in values]
        if None in ids:
            raise forms.ValidationError("The ticked customers could not be read; reload the page and try again.")
        return ids


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Private note",
        max_length=MAX_NOTE_LENGTH,
        help_text="Only people working this inbox see it; it is never sent to the customer.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class OutreachSettingsForm(forms.ModelForm):
    """The shop's stop and start words and the replies that confirm them."""

    MAX_WORDS = 50
    MAX_WORD_LENGTH = 60

    class Meta:
        model = OutreachSettings
        fields = ["stop_words", "start_words", "opt_out_reply", "opt_in_reply", "messages_per_second", "daily_limit"]
        labels = {
            "messages_per_second": "Broadcast messages per second",
            "daily_limit": "Customers a day",
            "stop_words": "Stop words",
            "start_words": "Start words",
            "opt_out_reply": "Reply when a customer stops marketing",
            "opt_in_reply": "Reply when a customer takes marketing again",
        }
        help_texts = {
            "opt_out_reply": "Sent right after the customer's message. Leave empty to send nothing.",
            "opt_in_reply": "Leave empty to send nothing.",
        }
        widgets = {name: forms.Textarea(attrs={"rows": 4}) for name in fields[:4]}

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

    def clean_messages_per_second(self):
        value = self.cleaned_data["messages_per_second"]
        if not 1 <= value <= 80:
            raise forms.ValidationError("Between 1 and 80: Meta sends at most 80 messages a second per number.")
        return value

    def clean_daily_limit(self):
        value = self.cleaned_data["daily_limit"]
        if not 1 <= value <= 10_000_000:
            raise forms.ValidationError("Between 1 and 10,000,000 customers.")
        return value

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


class BusinessHoursForm(forms.ModelForm):
    """The shop's opening hours, holidays and automatic replies."""

    holidays_text = forms.CharField(
        required=False,
        label="Holidays",
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Days the shop is closed, one a line: 2026-12-25.",
    )

    class Meta:
        model = OutreachSettings
        fields = [
            "away_enabled",
            "away_message",
            "greeting_enabled",
            "greeting_message",
            "auto_reply_hours",
            "cart_reminder_enabled",
            "cart_reminder_hours",
            "cart_reminder_text",
            "cart_reminder_template",
        ]
        labels = {
            "cart_reminder_enabled": "Remind a customer of a cart they sent and did not confirm",
            "cart_reminder_hours": "Hours after the cart",
            "cart_reminder_text": "Reminder",
            "cart_reminder_template": "Template when the 24-hour window has closed",
            "away_enabled": "Answer messages that arrive while the shop is closed",
            "away_message": "Away message",
            "greeting_enabled": "Greet customers who write for the first time",
            "greeting_message": "Greeting",
            "auto_reply_hours": "Hours between two automatic replies to the same customer",
        }
        help_texts = {
            "greeting_message": "{first_name} becomes the customer's first name, {shop} the shop's name.",
            "cart_reminder_text": "{first_name} becomes the customer's first name, {order} the order's number.",
            "cart_reminder_template": "An approved template whose variables are at most the first name and the "
            "order's number. None: no reminder once the window has closed.",
        }
        field_classes = {"cart_reminder_template": IdChoiceField}
        widgets = {
            "away_message": forms.Textarea(attrs={"rows": 2}),
            "greeting_message": forms.Textarea(attrs={"rows": 2}),
            "cart_reminder_text": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, templates, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cart_reminder_template"].queryset = MessageTemplate.objects.filter(
            pk__in=[template.pk for template in carts.reminder_templates(templates)]
        )
        self.fields["cart_reminder_template"].empty_label = "No template"
        self.day_names = []
        for number, day in enumerate(autoreplies.DAYS):
            name = f"hours_{number}"
            self.fields[name] = forms.CharField(
                required=False,
                max_length=200,
                label=day,
                help_text="e.g. 09:00-13:00, 14:00-18:00; empty or “closed”: closed that day",
            )
            hours = self.instance.opening_hours
            self.initial.setdefault(name, autoreplies.day_text(hours.get(str(number), [])) if hours else "")
            self.day_names.append(name)
        self.initial.setdefault("holidays_text", "\n".join(self.instance.holidays))

    def day_fields(self):
        return [self[name] for name in self.day_names]

    def clean_cart_reminder_hours(self):
        value = self.cleaned_data["cart_reminder_hours"]
        if not 1 <= value <= 168:
            raise forms.ValidationError("Between 1 and 168 hours (a week).")
        return value

    def clean_auto_reply_hours(self):
        value = self.cleaned_data["auto_reply_hours"]
        if not 1 <= value <= 720:
            raise forms.ValidationError("Between 1 and 720 hours (30 days).")
        return value

    def clean_holidays_text(self):
        days = []
        for line in self.cleaned_data["holidays_text"].split():
            try:
                days.append(datetime.date.fromisoformat(line).isoformat())
            except ValueError:
                raise forms.ValidationError(f"“{line[:20]}” is not a day like 2026-12-25.")
        return sorted(set(days))

    def clean(self):
        cleaned = super().clean()
        hours = {}
        for number, name in enumerate(self.day_names):
            try:
                ranges = autoreplies.parse_day(cleaned.get(name, ""))
            except autoreplies.HoursError as error:
                self.add_error(name, str(error))
                continue
            if ranges:
                hours[str(number)] = ranges
        if not hours and cleaned.get("away_enabled"):
            self.add_error("hours_0", "Give the hours the shop is open: away messages go outside them.")
        self.instance.opening_hours = hours
        self.instance.holidays = cleaned.get("holidays_text", [])
        return cleaned


class BroadcastForm(forms.Form):
    """A broadcast: its template and the values of its variables, the audience, and when to send it."""

    name = forms.CharField(max_length=120, help_text="For you: customers never see it.")
    template = forms.TypedChoiceField(coerce=int, label="Template", help_text="The number's approved templates.")
    wrote_from = forms.DateField(required=False, label="Wrote from", widget=forms.DateInput(attrs={"type": "date"}))
    wrote_to = forms.DateField(required=False, label="Wrote until", widget=forms.DateInput(attrs={"type": "date"}))
    ordered_from = forms.DateField(required=False, label="Ordered from", widget=forms.DateInput(attrs={"type": "date"}))
    ordered_to = forms.DateField(required=False, label="Ordered until", widget=forms.DateInput(attrs={"type": "date"}))
    ordered_item = forms.CharField(
        required=False, max_length=200, label="Ordered an item named", help_text="Part of the name is enough."
    )
    labels = IdMultipleChoiceField(
        queryset=Label.objects.none(),
        required=False,
        label="With any of these labels",
        widget=forms.CheckboxSelectMultiple,
    )
    numbers = forms.CharField(
        required=False,
        max_length=400_000,
        label="Only these numbers",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Paste numbers with their country code, one a line (or a CSV: its first column). "
        "Each must already be a customer.",
    )
    send_at = forms.DateTimeField(
        required=False,
        label="Send at",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to send now.",
    )

    def __init__(self, templates, labels, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["labels"].queryset = labels
        self.templates = {template.pk: template for template in templates}
        self.fields["template"].choices = [("", "Choose a template")] + [
            (pk, f"{t.name} ({t.language}, {t.category.lower() or 'no category'})") for pk, t in self.templates.items()
        ]
        chosen = self.templates.get(self._chosen_template())
        self.variable_names = []
        for field in message_templates.template_fields(chosen) if chosen else []:
            name = f"value_{field.key}"
            self.fields[name] = forms.CharField(
                label=field.label,
                max_length=message_templates.MAX_PARAMETER_LENGTH,
                help_text="{first_name}, {name} and {last_order} become the customer's"
                + (f"; e.g. {field.example}" if field.example else ""),
            )
            self.variable_names.append((name, field.key))

    def _chosen_template(self):
        raw = (self.data.get("template") if self.is_bound else self.initial.get("template")) or ""
        return object_id(str(raw))

    def clean_numbers(self):
        try:
            return broadcasts.parse_numbers(self.cleaned_data["numbers"])
        except ValidationError as error:
            raise forms.ValidationError(error.messages)

    def audience(self):
        data = self.cleaned_data
        return broadcasts.Audience(
            wrote_from=_start_of(data["wrote_from"]),
            wrote_to=_start_of(data["wrote_to"], days=1),
            ordered_from=_start_of(data["ordered_from"]),
            ordered_to=_start_of(data["ordered_to"], days=1),
            ordered_item=data["ordered_item"].strip(),
            numbers=data["numbers"],
            labels=[label.pk for label in data["labels"]],
        )

    def values(self):
        return {key: self.cleaned_data[name] for name, key in self.variable_names}


def _start_of(day, days=0):
    """The start of `day` (+ `days`) in the current time zone, or None."""
    if day is None:
        return None
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=days), datetime.time.min))
