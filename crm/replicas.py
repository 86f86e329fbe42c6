"""Read replicas: which database a page that may read slightly old data reads an agent's tables from.

Reports, CSV exports and the customers list (`reads_from_replica`) read the replica of the agent's
database (settings.DATABASE_REPLICAS, from DATABASE_URL_REPLICA) unless the session wrote within
READ_YOUR_WRITES_SECONDS (a cookie set on every POST), or the replica is down or lags more than
REPLICA_MAX_LAG_SECONDS (measured against its primary, cached REPLICA_CHECK_SECONDS); then the primary.
"""

import functools
import logging
import threading
import time
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

WROTE_AT_COOKIE = "crm_wrote_at"
_reading_replica = ContextVar("crm_reading_replica", default=False)


@dataclass(frozen=True)
class ReplicaHealth:
    usable: bool
    state: str  # "ok", "lagging", "down", "not a standby"
    lag_seconds: float | None = None

    def describe(self):
        lag = "" if self.lag_seconds is None else f" ({self.lag_seconds:.1f} s behind)"
        if self.usable:
            return f"ok{lag}"
        return f"{self.state}{lag}: reading the primary"


_checked = {}  # replica alias: (checked at, ReplicaHealth)
_checked_lock = threading.Lock()


def replica_of(alias):
    """The alias of `alias`'s read replica, or None when it has none."""
    return settings.DATABASE_REPLICAS.get(alias)


def measure(alias):
    """ReplicaHealth of `alias`'s replica, measured now: replayed up to the primary's WAL position (lag 0),
    or how long since it replayed its last transaction while behind it."""
    replica = replica_of(alias)
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()::text")
            (primary_position,) = cursor.fetchone()
        with connections[replica].cursor() as cursor:
            cursor.execute(
                "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float",
                [primary_position],
            )
            in_recovery, caught_up, since_last_replay = cursor.fetchone()
    except DatabaseError as error:
        logger.warning("replica %s is unreachable: %s", replica, error)
        connections[replica].close()  # a broken connection is not reused
        return ReplicaHealth(False, "down")
    if not in_recovery:
        return ReplicaHealth(False, "not a standby")
    lag = 0.0 if caught_up else since_last_replay
    if lag is None or lag > settings.REPLICA_MAX_LAG_SECONDS:
        return ReplicaHealth(False, "lagging", lag)
    return ReplicaHealth(True, "ok", lag)


def health(alias):
    """ReplicaHealth of `alias`'s replica, measured at most every REPLICA_CHECK_SECONDS per process."""
    replica = replica_of(alias)
    now = time.monotonic()
    with _checked_lock:
        checked = _checked.get(replica)
    if checked and now - checked[0] < settings.REPLICA_CHECK_SECONDS:
        return checked[1]
    result = measure(alias)
    with _checked_lock:
        _checked[replica] = (now, result)
    return result


def forget_health(alias=None):
    """Measure again on the next read (every replica's, or `alias`'s)."""
    with _checked_lock:
        if alias is None:
            _checked.clear()
        else:
            _checked.pop(replica_of(alias), None)


def database_for_read(alias):
    """Where a read of `alias`'s data goes: its replica inside `reads_from_replica` when the replica is
    usable, else `alias` itself."""
    if not _reading_replica.get() or replica_of(alias) is None:
        return alias
    return replica_of(alias) if health(alias).usable else alias


@contextmanager
def replica_reads(allowed=True):
    token = _reading_replica.set(allowed)
    try:
        yield
    finally:
        _reading_replica.reset(token)


def wrote_recently(request):
    """Whether the session sent a POST within READ_YOUR_WRITES_SECONDS (it must see what it wrote)."""
    try:
        wrote_at = float(request.COOKIES.get(WROTE_AT_COOKIE, ""))
    except ValueError:
        return False
    return 0 <= time.time() - wrote_at < settings.READ_YOUR_WRITES_SECONDS


def reads_from_replica(view):
    """Let `view` read agents' tables from their replicas (see the module's docstring), its streamed body
    included; a replica that fails during the view is marked down and the view runs again on the primary."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        allowed = bool(settings.DATABASE_REPLICAS) and not wrote_recently(request)
        try:
            with replica_reads(allowed):
                response = view(request, *args, **kwargs)
        except DatabaseError:
            if not allowed:
                raise
            _mark_replicas_down()
            response = view(request, *args, **kwargs)
            allowed = False
        if response.streaming and allowed:
            response.streaming_content = _reading_replicas(response.streaming_content)
        return response

    return wrapped


def _reading_replicas(chunks):
    with replica_reads():
        yield from chunks


def _mark_replicas_down():
    """After a read failed on a replica: every replica is down until measured again."""
    for replica in settings.DATABASE_REPLICAS.values():
        with suppress(DatabaseError):  # already broken: closing it is all that was wanted
            connections[replica].close()
        with _checked_lock:
            _checked[replica] = (time.monotonic(), ReplicaHealth(False, "down"))


class ReadYourWritesMiddleware:
    """Every POST (or other writing method) stamps the session's browser with the time it wrote."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.method not in ("GET", "HEAD", "OPTIONS", "TRACE") and settings.DATABASE_REPLICAS:
            response.set_cookie(
                WROTE_AT_COOKIE,
                f"{time.time():.3f}",
                max_age=max(1, int(settings.READ_YOUR_WRITES_SECONDS)),
                secure=request.is_secure(),
                httponly=True,
                samesite="Lax",
            )
        return response
