"""Two-factor login: a code from an authenticator app (TOTP) after the password, for admins and
super admins who turn it on; single-use recovery codes for a lost phone; a reset by a super admin.

Devices are django-otp's (TOTPDevice, and a StaticDevice holding the recovery codes). Agents do
not use it. Every change is recorded in the audit log.
"""

import time
from base64 import b32encode

import django_otp
import segno
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import login as auth_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

import audit

RECOVERY_CODE_COUNT = 10
AUTHENTICATOR_DIGITS = 6
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_DEVICE_NAME = "Recovery codes"
PENDING_LOGIN_SESSION_KEY = "two_factor_pending_login"


class InvalidCode(Exception):
    """The code is not the authenticator's current one, nor an unused recovery code."""


def may_use(user):
    return user.is_staff


def is_enabled(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def pending_device(user):
    """The authenticator being set up (scanned but not yet confirmed with a code), if any."""
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


def start_enrolment(user, *, request=None):
    """Give `user` a new authenticator secret to scan; it takes effect once confirmed with a code."""
    if not may_use(user):
        raise PermissionDenied("Two-factor login is for admins and super admins.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
        audit.record("two_factor.setup_started", actor=user, target=user, request=request)
    return device


def qr_code_svg(device):
    """The device's otpauth:// address as an inline SVG QR code, drawn here (no third party sees the secret)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code to scan with your authenticator app"
    )


def manual_entry_key(device):
    """The secret in base32, in groups of four, for apps that cannot scan."""
    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _normalise(code):
    return "".join((code or "").split()).lower()


@sensitive_variables("code")
def _verify(user, code, *, recovery_codes_allowed=True):
    """The device that accepts `code`, or None. A recovery code works once and is then gone.

    django-otp refuses a code already used (replay) and, after failures, slows each device down.
    """
    code = _normalise(code)
    # Six digits are the app's code; anything else can only be a recovery code. Trying only the
    # device a code is shaped for keeps a mistyped code from slowing down the other device too.
    if code.isascii() and code.isdigit() and len(code) == AUTHENTICATOR_DIGITS:
        devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    elif recovery_codes_allowed:
        devices = StaticDevice.objects.filter(user=user, confirmed=True)
    else:
        devices = []
    return next((device for device in devices if device.verify_token(code)), None)


def _new_recovery_codes(user):
    device, _ = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME, defaults={"confirmed": True})
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@sensitive_variables("code")
def confirm_enrolment(request, code):
    """Turn two-factor login on for request.user if `code` comes from the authenticator being set up.

    Returns the new recovery codes (shown once). This session counts as verified from now on.
    Raises InvalidCode otherwise, and nothing changes.
    """
    user = request.user
    device = pending_device(user)
    if device is None or not device.verify_token(_normalise(code)):
        audit.record("two_factor.setup_failed", actor=user, target=user, request=request)
        raise InvalidCode
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit.record("two_factor.enabled", actor=user, target=user, request=request)
    django_otp.login(request, device)
    return codes


@sensitive_variables("code")
def regenerate_recovery_codes(request, code):
    """New recovery codes for request.user (the old ones stop working), on an authenticator code."""
    user = request.user
    if _verify(user, code, recovery_codes_allowed=False) is None:
        audit.record("two_factor.code_refused", actor=user, target=user, request=request, purpose="new recovery codes")
        raise InvalidCode
    with transaction.atomic():
        codes = _new_recovery_codes(user)
        audit.record("two_factor.recovery_codes_replaced", actor=user, target=user, request=request)
    return codes


@sensitive_variables("code")
def disable(request, code):
    """Turn two-factor login off for request.user, on an authenticator or recovery code."""
    user = request.user
    if _verify(user, code) is None:
        audit.record("two_factor.code_refused", actor=user, target=user, request=request, purpose="turn off")
        raise InvalidCode
    with transaction.atomic():
        _delete_devices(user)
        audit.record("two_factor.disabled", actor=user, target=user, request=request)


def reset(user, *, actor, request=None):
    """Turn two-factor login off for `user` who lost their phone and codes (a super admin, or the command line)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Only a super admin may reset someone's two-factor login.")
    with transaction.atomic():
        removed = _delete_devices(user)
        audit.record("two_factor.reset", actor=actor, target=user, request=request, devices_removed=removed)
    return removed


def _delete_devices(user):
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    return removed


# The login's second step. The password step leaves the user's id in the (still anonymous) session;
# the code step finishes the login. Nothing is logged in until both have passed.


def begin_login(request, user, next_url):
    request.session[PENDING_LOGIN_SESSION_KEY] = {
        "user_id": str(user.pk),
        "backend": user.backend,
        "started": time.time(),
        "next": next_url,
    }


def pending_login(request):
    """(user, next URL) of a login waiting for its code, or None (none, expired, or the user is gone)."""
    pending = request.session.get(PENDING_LOGIN_SESSION_KEY)
    if not pending:
        return None
    if time.time() - pending["started"] > settings.TWO_FACTOR_LOGIN_TIMEOUT.total_seconds():
        cancel_login(request)
        return None
    user = get_user_model().objects.filter(pk=pending["user_id"], is_active=True).first()
    if user is None:
        cancel_login(request)
        return None
    user.backend = pending["backend"]
    return user, pending["next"]


def cancel_login(request):
    request.session.pop(PENDING_LOGIN_SESSION_KEY, None)


@sensitive_variables("code")
def finish_login(request, user, code):
    """Log `user` in if `code` is right; return the device that accepted it, or None."""
    device = _verify(user, code)
    if device is None:
        return None
    cancel_login(request)
    # django-otp marks the session verified with this device when the login signal fires.
    user.otp_device = device
    auth_login(request, user, backend=user.backend)
    if isinstance(device, StaticDevice):
        audit.record(
            "two_factor.recovery_code_used",
            actor=user,
            target=user,
            request=request,
            codes_left=recovery_codes_left(user),
        )
    return device
