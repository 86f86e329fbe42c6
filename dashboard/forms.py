"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents.customers import NAME_MAX_LENGTH, PICTURE_MAX_BYTES
from agents.models import Label, QuickReply
from agents.notes import MAX_NOTE_LENGTH
from crm.inputs import object_id
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
    labels = forms.ModelMultipleChoiceField(
        queryset=Label.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )


class BulkLabelForm(_AgentLabelsForm):
    """A label put on (or taken off) the customers ticked in the customers list."""

    label_field = "label"
    label = forms.ModelChoiceField(queryset=Label.objects.none(), empty_label="Choose a label")
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
