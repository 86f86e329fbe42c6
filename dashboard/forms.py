"""Forms of the dashboard: they parse and check input; the domain modules write."""

from django import forms

from agents.customers import NAME_MAX_LENGTH, PICTURE_MAX_BYTES
from agents.models import QuickReply
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
