"""Audit events for Django's authentication signals: logins, failed and throttled logins, logouts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .events import record

USER_AGENT_LENGTH = 200


def _user_agent(request):
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]


@receiver(user_logged_in, dispatch_uid="audit_login")
def record_login(sender, request, user, **kwargs):
    if request is None:
        return
    device = getattr(user, "otp_device", None)
    record(
        "login.succeeded",
        actor=user,
        target=user,
        request=request,
        second_factor=device.name if device is not None else None,
        user_agent=_user_agent(request),
    )


@receiver(user_logged_out, dispatch_uid="audit_logout")
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        record("logout", actor=user, target=user, request=request)


@receiver(user_login_failed, dispatch_uid="audit_login_failed")
def record_login_failure(sender, credentials, request=None, **kwargs):
    """A wrong password or second factor, the one that locks the account, or an attempt while locked."""
    if request is None:
        return
    User = get_user_model()
    email = User.objects.normalize_email(credentials.get("username"))
    target = User.objects.filter(email=email).first() if email else None
    # Axes' receiver ran first (axes precedes audit in INSTALLED_APPS): it counted this failure,
    # or, when the account was already locked, refused the attempt without checking the password.
    failures = getattr(request, "axes_failures_since_start", 0)
    if failures is None:
        action = "login.throttled"
    elif getattr(request, "axes_locked_out", False):
        action = "login.locked_out"
    else:
        action = "login.failed"
    record(
        action,
        actor=None,
        target=target,
        request=request,
        email=email,
        step=credentials.get("step", "password"),
        failures=failures,
        user_agent=_user_agent(request),
    )
