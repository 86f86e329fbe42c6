"""Sessions of users with two-factor login on must have passed the code step."""

from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login

from . import two_factor


class SecondFactorMiddleware:
    """Log out a session of a two-factor user that was never verified with a code.

    The login view only logs such a user in after the code; this catches every other way a
    session could exist (begun before two-factor was turned on, Django's admin login, a forged
    path), so no page is served to it. Agents are not concerned and cost nothing here.
    Runs after django-otp's OTPMiddleware, which provides user.is_verified().
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and two_factor.may_use(user)
            and not user.is_verified()
            and two_factor.is_enabled(user)
        ):
            logout(request)
            return redirect_to_login(request.get_full_path())
        return self.get_response(request)
