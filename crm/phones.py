"""Phone numbers as WhatsApp knows them: E.164 with the country code, validated by phonenumbers."""

import phonenumbers
from django.core.exceptions import ValidationError


def to_e164(raw):
    """Return `raw` in E.164 (`+14155550100`), or raise ValidationError with a clear message.

    WhatsApp gives numbers without the plus (`wa_id` 14155550100); both forms are accepted.
    Possible numbers are accepted even where not assigned yet (Meta's test numbers are +1 555...).
    """
    text = (raw or "").strip()
    digits_and_plus = "".join(ch for ch in text if ch.isdigit() or ch == "+")
    if not digits_and_plus.startswith("+"):
        digits_and_plus = "+" + digits_and_plus
    try:
        number = phonenumbers.parse(digits_and_plus, None)
    except phonenumbers.NumberParseException:
        raise ValidationError(f"{text!r} is not a phone number; write it with its country code, e.g. +14155550100.")
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(f"{text!r} is not a possible phone number for its country code.")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
