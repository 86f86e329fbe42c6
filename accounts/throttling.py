"""How django-axes names the account a login attempt is for: its email, normalised as at login.

Without it "Ana@Example.com" and "ana@example.com" would be counted apart, and an attacker could
try five passwords per spelling.
"""

from .models import UserManager


def attempted_email(request, credentials):
    if credentials and credentials.get("username") is not None:
        attempted = credentials["username"]
    else:
        attempted = request.POST.get("username") if request is not None and request.method == "POST" else None
    return UserManager.normalize_email(attempted) or None
