"""Nothing the app logs carries a secret: the configured ones, access tokens, bearer tokens."""

import io
import logging

from crm.log_redaction import REDACTED, RedactSecretsFilter, redact
from crm.tests.production import PRODUCTION_ENVIRONMENT, SCRIPT_PREAMBLE, run
from whatsapp.models import WhatsAppConfiguration

LOGGING_SCRIPT = """
import logging, os
log = logging.getLogger("whatsapp.graph")
log.warning("app secret %s and key %s", os.environ["WHATSAPP_APP_SECRET"], os.environ["FIELD_ENCRYPTION_KEYS"])
log.warning("POST https://graph.facebook.com/v24.0/1/messages?access_token=EAAGquerystringtoken123 failed")
log.warning("sent with headers {'Authorization': 'Bearer EAAGheadertoken456'}")
try:
    raise ValueError("signature check with " + os.environ["SECRET_KEY"])
except ValueError:
    log.exception("webhook failed")
print("done")
"""


def test_production_log_output_holds_no_secret():
    output = run(["-c", SCRIPT_PREAMBLE + LOGGING_SCRIPT])
    assert output.returncode == 0, output.stderr
    logged = output.stderr
    assert "webhook failed" in logged and "Traceback" in logged and REDACTED in logged
    for secret in ("WHATSAPP_APP_SECRET", "FIELD_ENCRYPTION_KEYS", "SECRET_KEY"):
        assert PRODUCTION_ENVIRONMENT[secret] not in logged, secret
    assert "EAAGquerystringtoken123" not in logged and "EAAGheadertoken456" not in logged


def console_output(write):
    """What the console handler of settings.LOGGING writes while `write()` logs."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        write()
    finally:
        handler.setStream(previous)
    return stream.getvalue()


def test_a_token_this_process_decrypted_is_redacted_wherever_it_appears(make_user):
    configuration = WhatsAppConfiguration(user=make_user())
    configuration.set_access_token("sandbox-access-token")
    stored = WhatsAppConfiguration(api_key=configuration.api_key)
    assert stored.access_token() == "sandbox-access-token"

    logged = console_output(
        lambda: logging.getLogger("whatsapp.send").warning(
            "calling the Graph API as sandbox-access-token for 1 message"
        )
    )

    assert "calling the Graph API as [REDACTED] for 1 message" in logged
    assert "sandbox-access-token" not in logged


def test_redaction_leaves_ordinary_text_alone(settings):
    assert redact("customer +14155550100 sent 3 messages") == "customer +14155550100 sent 3 messages"
    assert redact(f"key={settings.FIELD_ENCRYPTION_KEYS[0]}") == f"key={REDACTED}"
    assert redact("stored fernet:gAAAAABhZ0123abc== here") == f"stored fernet:{REDACTED} here"
