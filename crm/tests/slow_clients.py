"""Slow HTTP clients, for the test and the benchmark of slow clients (bench/slow_clients.py).

Each connection posts to the login page announcing a 100,000-byte body, then withholds it, trickles it a
byte at a time, or never finishes its headers; one the server closes is opened again at once, as an
attacker holding connections would.
"""

import collections
import contextlib
import http.client
import selectors
import socket
import threading
import time

KINDS = ("withhold", "trickle", "headers")

REQUEST_LINE = b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
HEAD = REQUEST_LINE + (
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n"
    # A well-formed CSRF cookie: Django then reads the body rather than refusing the request first.
    b"Cookie: csrftoken=" + b"a" * 32 + b"\r\n\r\n"
)


class SlowClients:
    """`count` slow connections to 127.0.0.1:`port`, the kinds in turn, kept open while in a `with` block."""

    def __init__(self, port, count, kinds=KINDS, interval=1.0):
        self.port = port
        self.kinds = [kinds[n % len(kinds)] for n in range(count)]
        self.interval = interval
        self.answers = collections.Counter()  # the server's status lines to slow clients: b"408", ...
        self.opened = 0
        self.ready = threading.Event()  # every connection is open and has sent its first bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join(timeout=30)

    def _open(self, selector, kind):
        try:
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(REQUEST_LINE if kind == "headers" else HEAD)
        except OSError:
            return False
        sock.setblocking(False)
        self.opened += 1
        selector.register(sock, selectors.EVENT_READ, kind)
        return True

    def _run(self):
        with selectors.DefaultSelector() as selector:
            missing = list(self.kinds)
            next_piece = time.monotonic()
            while not self._stop.is_set():
                missing = [kind for kind in missing if not self._open(selector, kind)]
                if not missing:
                    self.ready.set()
                if time.monotonic() >= next_piece:
                    next_piece = time.monotonic() + self.interval
                    self._send_pieces(selector)
                for key, _ in selector.select(timeout=0.1):
                    try:
                        data = key.fileobj.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data.startswith(b"HTTP/1.1 "):
                        self.answers[data[9:12].decode()] += 1
                    if not data or data.startswith(b"HTTP/1.1 "):
                        selector.unregister(key.fileobj)
                        key.fileobj.close()
                        missing.append(key.data)
            for key in list(selector.get_map().values()):
                key.fileobj.close()

    @staticmethod
    def _send_pieces(selector):
        for key in list(selector.get_map().values()):
            piece = {"trickle": b"a", "headers": b"X-Slow: 1\r\n"}.get(key.data)
            if piece:
                with contextlib.suppress(OSError):  # closed by the server: seen when reading
                    key.fileobj.send(piece)


def time_page(port, path, timeout):
    """(status, seconds) of a GET on a new connection; status None when no answer came within `timeout`."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, time.perf_counter() - started
    except OSError:
        return None, time.perf_counter() - started
    finally:
        connection.close()
