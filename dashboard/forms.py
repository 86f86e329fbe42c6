"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents.customers import NAME_MAX_LENGTH, PICTURE_MAX_BYTES
from agents.models import Label, QuickReply
from agents.notes import MAX_NOTE_LENGTH
from crm.inputs import object_id


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
