from functools import wraps

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

import audit

from . import two_factor
from .forms import CodeForm


@login_required
def after_login(request):
    """Send admins to the admin and everyone else to their agent's dashboard."""
    if request.user.is_staff and not request.user.agents.exists():
        return redirect("admin:index")
    return redirect("home")


class LoginView(auth_views.LoginView):
    """Email and password; then, for a user with two-factor login on, a code (login_verify)."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        if two_factor.is_enabled(user):
            two_factor.begin_login(self.request, user, self.get_success_url())
            return redirect("login_verify")
        return super().form_valid(form)


def lockout_message():
    minutes = settings.LOGIN_LOCKOUT_MINUTES
    return (
        f"Too many failed logins for this account: it is locked for {minutes} minutes, and no password is "
        f"accepted until then. Try again in {minutes} minutes, or ask an admin to unlock it."
    )


def locked_out(request, response=None, credentials=None):
    """The page for a login attempt on a locked account (django-axes calls this; status 429)."""
    two_factor.cancel_login(request)
    return render(request, "registration/login.html", {"locked_out": lockout_message()}, status=429)


@sensitive_post_parameters("code")
@never_cache
def login_verify(request):
    """The login's second step: the code from the authenticator app, or a recovery code."""
    pending = two_factor.pending_login(request)
    if pending is None:
        messages.error(request, "Your login timed out or was not started. Enter your email and password again.")
        return redirect("login")
    user, next_url = pending
    credentials = {"username": user.email, "step": "second factor"}
    if not AxesProxyHandler.is_allowed(request, credentials):
        return locked_out(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if two_factor.finish_login(request, user, form.cleaned_data["code"]):
            return redirect(next_url)
        # Counted like a wrong password: together they lock the account at the limit.
        user_login_failed.send(sender=__name__, credentials=credentials, request=request)
        form.add_error("code", "That code is not right. Use the current code from your app, or a recovery code.")
    return render(request, "registration/login_verify.html", {"form": form, "email": user.email})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change (validators, and every other session of the user ends), audited."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit.record("password.changed", actor=self.request.user, target=self.request.user, request=self.request)
        return response


def staff_required(view):
    """Logged in as an admin or super admin (two-factor login is theirs, not agents')."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not two_factor.may_use(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@staff_required
def two_factor_settings(request):
    """Whether two-factor login is on; the QR code to scan while it is being set up."""
    user = request.user
    enabled = two_factor.is_enabled(user)
    device = None if enabled else two_factor.pending_device(user)
    context = {
        "enabled": enabled,
        "device": device,
        "qr_code": two_factor.qr_code_svg(device) if device else None,
        "manual_key": two_factor.manual_entry_key(device) if device else None,
        "codes_left": two_factor.recovery_codes_left(user),
        "form": CodeForm(),
    }
    return render(request, "accounts/two_factor.html", context)


@require_POST
@staff_required
def two_factor_start(request):
    two_factor.start_enrolment(request.user, request=request)
    return redirect("two_factor")


@sensitive_post_parameters("code")
@never_cache
@require_POST
@staff_required
def two_factor_confirm(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.confirm_enrolment(request, form.cleaned_data["code"])
        except two_factor.InvalidCode:
            form.add_error(
                "code", "That code is not right. Scan the QR code again and type the code the app shows now."
            )
        else:
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "just_enabled": True})
    device = two_factor.pending_device(request.user)
    if device is None:
        return redirect("two_factor")
    context = {
        "device": device,
        "qr_code": two_factor.qr_code_svg(device),
        "manual_key": two_factor.manual_entry_key(device),
        "form": form,
    }
    return render(request, "accounts/two_factor.html", context, status=400)


@sensitive_post_parameters("code")
@never_cache
@require_POST
@staff_required
def two_factor_recovery_codes(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            codes = two_factor.regenerate_recovery_codes(request, form.cleaned_data["code"])
        except two_factor.InvalidCode:
            pass
        else:
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
    messages.error(request, "That code is not right: no new recovery codes were made. Use the code your app shows now.")
    return redirect("two_factor")


@sensitive_post_parameters("code")
@require_POST
@staff_required
def two_factor_disable(request):
    form = CodeForm(request.POST)
    if form.is_valid():
        try:
            two_factor.disable(request, form.cleaned_data["code"])
        except two_factor.InvalidCode:
            pass
        else:
            messages.success(request, "Two-factor login is off. Your password alone now logs you in.")
            return redirect("two_factor")
    messages.error(request, "That code is not right: two-factor login is still on.")
    return redirect("two_factor")
