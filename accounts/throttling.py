"""How django-axes names the account a login attempt is for: its email, normalised as at login.

Without it "Ana@Example.com", "ana@example.com" and "ａｎａ@example.com" would be counted apart, and an
attacker could try five passwords per spelling while the account is locked.
"""

from .models import User, UserManager

# axes hands the attempted login under the user model's USERNAME_FIELD ("email") when it checks a lock,
# and Django's user_login_failed signal under "username"; the login form posts it as "username".
CREDENTIAL_KEYS = ("username", User.USERNAME_FIELD)


def attempted_email(request, credentials):
    attempted = next((credentials[key] for key in CREDENTIAL_KEYS if credentials and credentials.get(key)), None)
    if attempted is None and request is not None and request.method == "POST":
        attempted = next((request.POST[key] for key in CREDENTIAL_KEYS if request.POST.get(key)), None)
    if not isinstance(attempted, str):
        return None
    return UserManager.normalize_email(attempted) or None
