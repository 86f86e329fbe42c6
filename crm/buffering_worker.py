"""gunicorn's threaded worker, changed so that a request reaches a thread only once it has arrived whole.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes arrive, and the thread
then reads the rest of the headers and the body with no time limit: a client that announces a body and
withholds it (or trickles it) holds a thread for as long as it likes, and a few such clients leave none
for anyone else. Here the worker's main loop, which waits on every socket at once, reads each request
into a buffer (memory, then a temporary file past SPOOL_IN_MEMORY_BYTES), as a buffering proxy does;
a thread gets the request once its headers and its whole body are in, and a request still incomplete
after WEB_READ_TIMEOUT seconds (plus a second per WEB_READ_MIN_RATE bytes received) is answered 408.
"""

import contextlib
import errno
import os
import selectors
import socket
import tempfile
import time
from functools import partial

from gunicorn import util
from gunicorn.http.unreader import SocketUnreader
from gunicorn.workers import gthread


def _number(name, default):
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


# A request must have arrived within this many seconds of its first byte being awaited...
READ_TIMEOUT = _number("WEB_READ_TIMEOUT", 10.0)
# ...plus one second for every this many bytes it has sent: a large upload on a slow link gets the time it
# needs, a client sending less than this per second on average is cut off.
READ_MIN_RATE = _number("WEB_READ_MIN_RATE", 8192.0)
# The request line and headers: gunicorn's own limits allow a 4094-byte request line and 100 fields of
# 8190 bytes, browsers send a few kilobytes; past this the request is answered 431 without going further.
HEAD_MAX_BYTES = 64 * 1024
# Meta's largest document (100 MB) and the form around it; past this the request is answered 413 unread.
BODY_MAX_BYTES = 101 * 1024 * 1024
SPOOL_IN_MEMORY_BYTES = 64 * 1024
RECV_BYTES = 64 * 1024

_REFUSALS = {
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    431: "Request Header Fields Too Large",
}


class Arrival:
    """The bytes of one request received so far, and whether they are the whole of it."""

    def __init__(self, carried=b""):
        self.started = time.monotonic()
        # Closed by the thread that reads it, or here when the request is refused or abandoned.
        self.spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
        self.received = 0
        self.head = bytearray()  # until the blank line that ends the headers has arrived
        self.size = None  # of the whole request, once the headers say it
        self.refusal = None  # a status to answer at once instead of serving the request
        self.continue_expected = False
        self.feed(carried)

    def feed(self, data):
        self.spool.write(data)
        self.received += len(data)
        if self.size is None and self.refusal is None:
            self.head += data
            # Empty lines before a request line are skipped (RFC 9112 2.2), as the parser skips them.
            end = self.head.find(b"\r\n\r\n", len(self.head) - len(self.head.lstrip(b"\r\n")))
            if end >= 0:
                self._read_head(bytes(self.head[:end]), head_size=end + 4)
                self.head = bytearray()
            elif len(self.head) > HEAD_MAX_BYTES:
                self.refusal = 431

    def _read_head(self, head, head_size):
        lengths, codings, expect = [], [], b""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip()
            if name == b"content-length":
                lengths.append(value)
            elif name == b"transfer-encoding":
                codings.append(value)
            elif name == b"expect":
                expect = value.lower()
        if codings:
            # No client of the app sends a chunked body; refusing one (which HTTP/1.1 allows) saves
            # finding where it ends here.
            self.refusal = 411
            return
        body = lengths[0] if len(set(lengths)) == 1 else b"0"
        # A malformed or repeated Content-Length is the parser's to refuse, with the bytes at hand.
        body_size = int(body) if body.isdigit() else 0
        if body_size > BODY_MAX_BYTES:
            self.refusal = 413
            return
        self.size = head_size + body_size
        self.continue_expected = expect == b"100-continue" and self.size > head_size

    @property
    def complete(self):
        return self.size is not None and self.received >= self.size

    def overdue(self, now):
        return now > self.started + READ_TIMEOUT + self.received / READ_MIN_RATE

    def take(self):
        """The spool, rewound for reading, and the bytes received past this request (pipelined)."""
        self.spool.seek(self.size)
        beyond = self.spool.read()
        self.spool.truncate(self.size)
        self.spool.seek(0)
        return self.spool, beyond


class SpooledUnreader(SocketUnreader):
    """Reads a request from the spool it arrived in, then (past it) from the socket."""

    spool = None

    def chunk(self, size_hint=None):
        if self.spool is not None:
            data = self.spool.read(min(max(size_hint or 0, self.mxchunk), self.max_body_chunk))
            if data:
                return data
            self.close_spool()
        return super().chunk(size_hint)

    def close_spool(self):
        if self.spool is not None:
            self.spool.close()
            self.spool = None


class BufferedConnection(gthread.TConn):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arrival = None
        self.spool = None
        self.carried = b""  # bytes of the next request, received with this one

    def init(self):
        super().init()
        if not isinstance(self.parser.unreader, SpooledUnreader):
            self.parser.unreader = SpooledUnreader(self.sock)
        self.parser.unreader.close_spool()
        self.parser.unreader.spool, self.spool = self.spool, None
        # Should the parser want more than arrived, it waits for the socket this long at most, not for ever.
        self.sock.settimeout(READ_TIMEOUT)


class BufferingWorker(gthread.ThreadWorker):
    """gthread, with each request read by the main loop, without a thread, until it has arrived whole."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.arriving = set()

    @classmethod
    def check_config(cls, cfg, log):
        super().check_config(cfg, log)
        if cfg.is_ssl or cfg.http2_cleartext != "off":
            log.warning("BufferingWorker reads plain HTTP/1.1 only: TLS and HTTP/2 connections are not buffered.")

    def buffers(self):
        return not (self.cfg.is_ssl or self.cfg.http2_cleartext != "off")

    def accept(self, listener):
        if not self.buffers():
            return super().accept(listener)
        try:
            client, address = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self.await_request(BufferedConnection(self.cfg, client, address, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        """A kept-alive connection has a new request coming."""
        if not self.buffers():
            return super().on_client_socket_readable(conn, client)
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self.await_request(conn)

    def await_request(self, conn):
        conn.arrival = Arrival(conn.carried)
        conn.carried = b""
        conn.sock.setblocking(False)
        if self.dispatch_if_arrived(conn):
            return
        self.arriving.add(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self.on_request_bytes, conn))

    def on_request_bytes(self, conn, sock):
        try:
            data = conn.sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self.forget(conn)
            conn.arrival.spool.close()
            conn.close()
            return
        conn.arrival.feed(data)
        if conn.arrival.continue_expected and not conn.arrival.complete:
            conn.arrival.continue_expected = False
            self.send_quietly(conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        if conn.arrival.complete or conn.arrival.refusal:
            self.poller.unregister(conn.sock)
            self.arriving.discard(conn)
            self.dispatch_if_arrived(conn)

    def dispatch_if_arrived(self, conn):
        arrival = conn.arrival
        if arrival.refusal:
            self.refuse(conn, arrival.refusal)
            return True
        if not arrival.complete:
            return False
        conn.spool, conn.carried = arrival.take()
        conn.arrival = None
        conn.data_ready = True  # gthread's own wait for the first bytes is not needed
        conn.sock.setblocking(True)
        self.enqueue_req(conn)
        return True

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        for conn in [conn for conn in self.arriving if conn.arrival.overdue(now)]:
            if conn.arrival.received:
                self.poller.unregister(conn.sock)
                self.arriving.discard(conn)
                self.refuse(conn, 408)
            else:  # opened and never used, as browsers' speculative connections are: no answer is awaited
                self.forget(conn)
                conn.arrival.spool.close()
                conn.close()

    def refuse(self, conn, status):
        self.log.warning(
            "Request from %s answered %s %s after %.1f s and %d bytes",
            conn.client[0] if isinstance(conn.client, tuple) else "a Unix socket",
            status,
            _REFUSALS[status],
            time.monotonic() - conn.arrival.started,
            conn.arrival.received,
        )
        conn.arrival.spool.close()
        self.send_quietly(
            conn.sock,
            f"HTTP/1.1 {status} {_REFUSALS[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n".encode(),
        )
        self.nr_conns -= 1
        util.close(conn.sock)

    def forget(self, conn):
        self.poller.unregister(conn.sock)
        self.arriving.discard(conn)
        self.nr_conns -= 1

    @staticmethod
    def send_quietly(sock, data):
        """Send a short answer without waiting: a client that does not read it loses it."""
        with contextlib.suppress(OSError):
            sock.send(data, socket.MSG_DONTWAIT)

    def handle_request(self, req, conn):
        conn.sock.settimeout(None)  # the request is in; writing the answer is not limited
        return super().handle_request(req, conn)

    def finish_request(self, conn, fs):
        super().finish_request(conn, fs)
        if getattr(conn, "carried", b"") and conn in self.keepalived_conns:
            # The client sent its next request with this one: it is in hand, no socket event will announce it.
            self.poller.unregister(conn.sock)
            self.keepalived_conns.remove(conn)
            self.await_request(conn)
