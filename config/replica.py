"""The read replica (docs/scaling.md, "Read replicas"): which reads it serves, and when not.

With ``DATABASE_REPLICA_URL`` set, the settings add a ``replica`` database alias (a
PostgreSQL streaming standby of ``default``). Only the citizen pages named in
``DATABASE_REPLICA_VIEWS`` read from it, and only for a GET or HEAD; everything else —
every write, the API, the admin, the ingestion workers, the health checks — uses the
primary, because nothing but ``ReplicaMiddleware`` ever turns the replica on, and only
for the request it is handling.

Read-your-writes: a request that wrote (an unsafe method, or any ORM write but the
ones in ``DATABASE_REPLICA_STICKY_EXEMPT``) or logged in stamps its session, and that
session reads from the primary for ``DATABASE_REPLICA_STICKY_SECONDS``; within the
request itself every read after a write goes to the primary.

Fallback: before a request reads from the replica it must have answered within
``DATABASE_REPLICA_CONNECT_TIMEOUT`` and lag at most ``DATABASE_REPLICA_MAX_LAG_SECONDS``
(checked at most every ``DATABASE_REPLICA_CHECK_SECONDS`` per process); else the
primary serves, the change is logged once (and once when it recovers), and
/healthz/status reports the replica as degraded — not as a reason for 503. A replica
that fails in the middle of a page makes the page run again on the primary.
"""

import contextlib
import logging
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db import InterfaceError, OperationalError, connections

REPLICA = "replica"
# Session key: the session reads from the primary until this time (epoch seconds).
STICKY_KEY = "_replica_primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# The session table is read on every request and written by the login itself: the
# replica would log a citizen out for the lag after login.
PRIMARY_ONLY = frozenset({"sessions.session"})

logger = logging.getLogger(__name__)

# How far behind the replica is, in seconds: 0 when everything it received is
# replayed while it streams (after a restart the receive position restarts at the
# segment's start, below the replay position: caught up too), else the age of the last
# replayed transaction (an upper bound: a first write after an idle spell on the
# primary reads as lag until it is replayed, so the primary serves a little longer).
# NULL: nothing replayed yet and not streaming.
LAG_SQL = """
SELECT pg_is_in_recovery(),
       CASE
         WHEN NOT pg_is_in_recovery() THEN 0
         WHEN EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')
              AND pg_last_wal_receive_lsn() <= pg_last_wal_replay_lsn() THEN 0
         ELSE EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())
       END
"""


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@dataclass
class _Request:
    """What the router needs to know about the request being handled."""

    replica: bool = False  # its reads may go to the replica
    wrote: bool = False
    used_replica: bool = False
    retried: bool = False
    view: tuple | None = field(default=None, repr=False)


_current: ContextVar[_Request | None] = ContextVar("overblik_replica_request", default=None)


class ReplicaRouter:
    """Reads of an eligible citizen page to the replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        state = _current.get()
        if state is not None and state.replica and model._meta.label_lower not in PRIMARY_ONLY:
            state.used_replica = True
            return REPLICA
        return "default" if replica_configured() else None

    def db_for_write(self, model, **hints):
        state = _current.get()
        if state is not None:
            # Whatever this request reads from now on comes from where it wrote.
            state.replica = False
            if model._meta.label_lower not in sticky_exempt():
                state.wrote = True
        return "default" if replica_configured() else None

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: rows from both belong together.
        if {obj1._state.db, obj2._state.db} <= {"default", REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A standby is read-only; it gets its schema through the primary's WAL.
        return False if db == REPLICA else None


def sticky_exempt() -> frozenset[str]:
    return frozenset(label.lower() for label in settings.DATABASE_REPLICA_STICKY_EXEMPT)


# --- Health: is the replica there and close enough behind? --------------------------------


@dataclass
class ReplicaHealth:
    ok: bool = False
    reason: str = "unchecked"  # ok | unreachable | lagging | error | unchecked
    lag_seconds: float | None = None
    checked_at: float = 0.0  # time.monotonic()
    error: str = ""

    def as_status(self) -> dict:
        detail = {"status": "ok" if self.ok else "degraded", "reason": self.reason}
        if self.lag_seconds is not None:
            detail["lag_seconds"] = round(self.lag_seconds, 3)
        if self.error:
            detail["error"] = self.error
        if not self.ok:
            detail["serving"] = "primary"
        return detail


_health = ReplicaHealth()
_health_lock = threading.Lock()


def replica_health() -> ReplicaHealth:
    return _health


def _measure() -> ReplicaHealth:
    """Ask the replica (a fresh connection when there is none; short connect timeout)."""
    now = time.monotonic()
    connection = connections[REPLICA]
    try:
        with connection.cursor() as cursor:
            if connection.vendor != "postgresql":
                cursor.execute("SELECT 1")
                return ReplicaHealth(ok=True, reason="ok", checked_at=now)
            cursor.execute(LAG_SQL)
            _in_recovery, lag = cursor.fetchone()
    except Exception as exc:
        with contextlib.suppress(Exception):
            connection.close()
        return ReplicaHealth(
            ok=False, reason="unreachable", checked_at=now, error=type(exc).__name__
        )
    lag = None if lag is None else float(lag)
    limit = settings.DATABASE_REPLICA_MAX_LAG_SECONDS
    if lag is None or lag > limit:
        return ReplicaHealth(ok=False, reason="lagging", lag_seconds=lag, checked_at=now)
    return ReplicaHealth(ok=True, reason="ok", lag_seconds=lag, checked_at=now)


def _record(health: ReplicaHealth) -> ReplicaHealth:
    """Keep the newest health; log only when usable/not usable changes (once per change)."""
    global _health
    with _health_lock:
        previous, _health = _health, health
    if previous.reason == "unchecked" and health.ok:
        return health
    if not health.ok and (previous.ok or previous.reason == "unchecked"):
        logger.warning(
            "Read replica not used, the primary serves its reads: %s%s",
            health.reason,
            f" ({health.lag_seconds:.1f} s behind)" if health.lag_seconds is not None else "",
        )
    elif not previous.ok and health.ok:
        logger.warning("Read replica back in use (%s s behind)", health.lag_seconds)
    return health


def replica_check() -> ReplicaHealth:
    """Check the replica now (the health endpoint; a request when the last check is old)."""
    return _record(_measure())


def replica_failed(exc: BaseException) -> None:
    """A query on the replica failed mid-request: stop using it until the next check."""
    with contextlib.suppress(Exception):
        connections[REPLICA].close()
    _record(
        ReplicaHealth(
            ok=False, reason="error", checked_at=time.monotonic(), error=type(exc).__name__
        )
    )


def replica_usable() -> bool:
    if not replica_configured():
        return False
    health = _health
    if (
        health.reason == "unchecked"
        or time.monotonic() - health.checked_at >= settings.DATABASE_REPLICA_CHECK_SECONDS
    ):
        health = replica_check()
    return health.ok


# --- The request: which reads may go to the replica ----------------------------------------


def sticky_stamp(request) -> None:
    """This session reads from the primary for DATABASE_REPLICA_STICKY_SECONDS from now."""
    session = getattr(request, "session", None)
    if session is not None:
        session[STICKY_KEY] = time.time() + settings.DATABASE_REPLICA_STICKY_SECONDS


def _on_login(sender, request, user, **kwargs) -> None:
    if request is not None and replica_configured():
        sticky_stamp(request)


class ReplicaMiddleware:
    """Turns the replica on for an eligible citizen page read; stamps sessions that wrote.

    After SessionMiddleware and AuthenticationMiddleware (it reads and stamps the
    session), so the session and the user are loaded from the primary before it runs.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        user_logged_in.connect(_on_login, dispatch_uid="config.replica.sticky_on_login")

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        state = _Request()
        token = _current.set(state)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        user = getattr(request, "user", None)
        if (state.wrote or request.method not in SAFE_METHODS) and (
            user is not None and user.is_authenticated
        ):
            sticky_stamp(request)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        state = _current.get()
        if state is None or request.method not in ("GET", "HEAD"):
            return None
        match = request.resolver_match
        if match is None or match.view_name not in settings.DATABASE_REPLICA_VIEWS:
            return None
        session = getattr(request, "session", None)
        if session is not None and session.get(STICKY_KEY, 0) > time.time():
            return None  # read-your-writes
        if replica_usable():
            state.replica = True
            state.view = (view_func, view_args, view_kwargs)
        return None

    def process_exception(self, request, exception):
        state = _current.get()
        if (
            state is None
            or not state.used_replica
            or state.retried
            or state.view is None
            or not isinstance(exception, (OperationalError, InterfaceError))
        ):
            return None
        # The replica went away under the page: the same read again, on the primary.
        replica_failed(exception)
        state.replica, state.retried = False, True
        view_func, view_args, view_kwargs = state.view
        response = view_func(request, *view_args, **view_kwargs)
        if hasattr(response, "render") and callable(response.render):
            response = response.render()
        return response
