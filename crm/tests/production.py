"""Running code in a separate process under the production settings (crm.settings, DEBUG off)."""

import subprocess
import sys

from django.conf import settings

PRODUCTION_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "crm.settings",
    "PATH": "/usr/bin:/bin",
    "SECRET_KEY": "pr0duction-secret-key-with-enough-length-and-variety-0123456789",
    "WHATSAPP_APP_SECRET": "production-app-secret-from-meta",
    "WHATSAPP_VERIFY_TOKEN": "production-verify-token-typed-in-meta",
    "FIELD_ENCRYPTION_KEYS": "NejQWpXUO3BYuAX3x1oMulr0AQ2DCswxsrd76avtGro=",
    "ALLOWED_HOSTS": "crm.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
}

# collectstatic has not run in the repository, so pages are rendered with plain static file storage.
SCRIPT_PREAMBLE = """
import django
from django.conf import settings
settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(SERVER_NAME="crm.example.com")
"""


def run(arguments, **environment):
    return subprocess.run(
        [sys.executable, *arguments],
        env={**PRODUCTION_ENVIRONMENT, **environment},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_script(script, **environment):
    """Run Python `script` (with `client`, a test client, ready) in production; return its stdout."""
    result = run(["-c", SCRIPT_PREAMBLE + script], **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout
