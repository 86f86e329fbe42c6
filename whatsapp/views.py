"""Meta's webhook: the subscription handshake (GET) and the notifications (POST)."""

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from . import intake, signatures

log = logging.getLogger(__name__)


def _plain(text, status=200):
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request):
    if request.method == "GET":
        return verify_subscription(request)
    return receive_notification(request)


def verify_subscription(request):
    """Meta's subscription check: echo `hub.challenge` when `hub.verify_token` is ours."""
    mode = request.GET.get("hub.mode")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    if mode == "subscribe" and challenge and constant_time_compare(token, settings.WHATSAPP_VERIFY_TOKEN):
        return _plain(challenge)
    log.warning("webhook subscription refused: wrong mode or verify token")
    return HttpResponseForbidden("Verification failed.", content_type="text/plain; charset=utf-8")


def _declared_length(request):
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def receive_notification(request):
    """Check the signature, store the event, answer 200 (or say what is wrong, storing nothing).

    The costly steps come last: a request without a well-formed signature header, or announcing a
    body over the limit, is refused before its body is read. The body is read here rather than
    through `request.body`, whose 2.5 MB limit (DATA_UPLOAD_MAX_MEMORY_SIZE) is below the 3 MB Meta
    may send.
    """
    header = request.META.get(signatures.META_KEY, "")
    if not signatures.is_well_formed(header):
        log.warning("webhook refused: missing or malformed %s header", signatures.HEADER)
        return _plain("Missing or malformed signature.", 403)
    length = _declared_length(request)
    limit = settings.WHATSAPP_WEBHOOK_MAX_BODY_BYTES
    if length is None or length > limit:
        log.warning("webhook refused: body of %s bytes is over the %s byte limit", length, limit)
        return _plain(f"The body is larger than {limit} bytes.", 413)
    body = request.read(length)
    if not signatures.is_valid_signature(body, header, settings.WHATSAPP_APP_SECRET):
        log.warning("webhook refused: signature does not match the body")
        return _plain("Invalid signature.", 403)
    try:
        text, _payload, phone_number_id = intake.parse_notification(body)
    except intake.InvalidNotification as error:
        log.warning("webhook refused: %s", error)
        return _plain(f"Bad request: {error}.", 400)
    try:
        intake.receive(text, phone_number_id)
    except DatabaseError:
        log.exception("webhook event could not be stored; answering 503 so that Meta delivers it again")
        return _plain("Temporarily unable to store the event.", 503)
    return _plain("OK")
