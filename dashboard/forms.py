"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents import shop
from agents.customers import PICTURE_MAX_BYTES
from agents.models import QuickReply
from outreach import consent
from outreach.models import OutreachSettings


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
        widgets = {
            "shortcut": forms.TextInput(attrs={"autocomplete": "off", "placeholder": "hours"}),
            "text": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_shortcut(self):
        return self.cleaned_data["shortcut"].lower()


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
