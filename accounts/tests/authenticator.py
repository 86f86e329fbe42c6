"""An authenticator app for tests: the codes a phone would show for a TOTP secret."""

import time
from base64 import b32decode

from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice


def code_for_key(key, step_offset=0, step=30, digits=6):
    """The code for raw `key` bytes at the current time step plus `step_offset`."""
    counter = int(time.time()) // step + step_offset
    return f"{hotp(key, counter, digits):0{digits}d}"


def code_from_manual_key(manual_key, step_offset=0):
    """What the app shows after the user typed the base32 key from the setup page."""
    text = manual_key.replace(" ", "").upper()
    return code_for_key(b32decode(text + "=" * (-len(text) % 8)), step_offset)


def next_code(user):
    """A code the user's authenticator accepts now: the current one, or the next step's if the
    current one was used already (django-otp refuses a code twice, and accepts one step ahead)."""
    device = TOTPDevice.objects.filter(user=user).order_by("-confirmed", "-id").first()
    now_step = int(time.time()) // device.step
    offset = max(0, device.last_t + 1 - now_step)
    return code_for_key(device.bin_key, offset, device.step, device.digits)
