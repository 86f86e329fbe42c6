"""A local stand-in for a browser's push service (RFC 8030) and the browser behind it, over real HTTP.

`PushService.new_browser()` makes a subscription as a browser would (its own P-256 key pair and
authentication secret). Each push posted to it is checked as a push service checks it (the VAPID JWT of
RFC 8292: ES256 signature by the key in `k`, audience, expiry, subject) and decrypted as the browser
decrypts it (aes128gcm, RFC 8291), with the headers it came with. A browser marked gone is answered 410.
"""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Browser:
    name: str
    private_key: object
    auth: bytes
    endpoint: str
    gone: bool = False
    received: list = field(default_factory=list)

    @property
    def p256dh(self):
        public = self.private_key.public_key()
        return b64url(public.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    @property
    def subscription(self):
        """What the browser's PushSubscription.toJSON() gives, as the page posts it."""
        return {"endpoint": self.endpoint, "p256dh": self.p256dh, "auth": b64url(self.auth)}


@dataclass
class Push:
    """One push as the browser sees it, with what the push service saw."""

    payload: dict
    headers: dict
    claims: dict
    vapid_public_key: str
    body_bytes: int


def verify_vapid(authorization, origin):
    """The JWT's claims and the sender's public key, when the header is a valid VAPID authorization for a
    push service at `origin`; AssertionError saying what is wrong otherwise."""
    scheme, _, parameters = authorization.partition(" ")
    assert scheme == "vapid", f"not a VAPID authorization: {authorization[:20]!r}"
    values = dict(part.strip().split("=", 1) for part in parameters.split(","))
    token, key = values["t"], values["k"]
    header_b64, claims_b64, signature_b64 = token.split(".")
    assert json.loads(unb64url(header_b64)) == {"typ": "JWT", "alg": "ES256"}
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
    signature = unb64url(signature_b64)
    assert len(signature) == 64, "an ES256 signature is r and s, 32 bytes each"
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    try:
        public.verify(der, f"{header_b64}.{claims_b64}".encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise AssertionError("the VAPID JWT's signature does not verify with its key") from None
    claims = json.loads(unb64url(claims_b64))
    assert claims["aud"] == origin, f"audience {claims['aud']!r} is not the push service {origin!r}"
    assert time.time() < claims["exp"] <= time.time() + 24 * 60 * 60, "expiry not within the next 24 hours"
    assert claims["sub"].startswith(("mailto:", "https://")), "no contact subject"
    return claims, key


class PushService:
    def __init__(self):
        self.browsers = {}
        self.refused = []
        self.condition = threading.Condition()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def new_browser(self, name="browser"):
        token = b64url(os.urandom(12))
        browser = Browser(name, ec.generate_private_key(ec.SECP256R1()), os.urandom(16), f"{self.origin}/push/{token}")
        self.browsers[token] = browser
        return browser

    def wait_for(self, browser, count=1, timeout=10):
        with self.condition:
            self.condition.wait_for(lambda: len(browser.received) >= count, timeout=timeout)
        return browser.received

    def _receive(self, token, headers, body):
        """(status, reason) for one push: 201 when it verified and decrypted."""
        browser = self.browsers.get(token)
        if browser is None:
            return 404, "no such subscription"
        if browser.gone:
            return 410, "subscription expired"
        try:
            claims, key = verify_vapid(headers.get("authorization", ""), self.origin)
            assert headers.get("content-encoding") == "aes128gcm", "the payload must be aes128gcm"
            assert headers.get("ttl", "").isdigit(), "a push must say its TTL"
            plain = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
        except Exception as error:  # anything wrong is a refused push, reported to the test
            self.refused.append(repr(error))
            return 400, "refused"
        with self.condition:
            browser.received.append(Push(json.loads(plain), headers, claims, key, len(body)))
            self.condition.notify_all()
        return 201, "created"

    def _handler(self):
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                token = self.path.rsplit("/", 1)[-1]
                status, reason = service._receive(
                    token, {name.lower(): value for name, value in self.headers.items()}, body
                )
                self.send_response(status, reason)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler
