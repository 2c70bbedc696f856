"""Health endpoints an operator's monitor can poll.

- ``/healthz/live``: the process answers (for restarts).
- ``/healthz/ready``: this web process can serve (for load balancers): 503 only
  when the database does not answer. Redis is reported but does not fail it:
  without Redis the API still accepts deliveries into the PostgreSQL inbox and
  the sweeper hands them to the workers later, so taking the web tier out of a
  load balancer would turn a delay into an outage.
- ``/healthz/status``: everything an operator watches — database, Redis, Celery
  workers and the inbox backlog — 503 when any is unhealthy. Parked inbox
  batches (``parked_batches``) are counted but do not make it unhealthy. With a read
  replica configured (``DATABASE_REPLICA_URL``), ``replica`` says whether it is used:
  ``degraded`` (unreachable or lagging; the primary serves its reads) is not a 503.
"""

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.replica import replica_check, replica_configured

# An inbox batch older than this means no worker is taking work.
INBOX_STALL_SECONDS = 300


def _database() -> tuple[bool, dict]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return False, {"status": "error", "error": type(exc).__name__}
    return True, {"status": "ok", "vendor": connection.vendor}


def _broker() -> tuple[bool, dict]:
    if not settings.CELERY_BROKER_URL:
        return True, {"status": "ok", "mode": "in-process"}
    try:
        import redis

        client = redis.Redis.from_url(
            settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1
        )
        client.ping()
    except Exception as exc:
        return False, {"status": "error", "error": type(exc).__name__}
    return True, {"status": "ok"}


def _workers() -> tuple[bool, dict]:
    if not settings.CELERY_BROKER_URL:
        return True, {"status": "ok", "mode": "in-process"}
    from config.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:
        return False, {"status": "error", "error": type(exc).__name__}
    names = sorted(name for reply in replies for name in reply)
    return bool(names), {"status": "ok" if names else "none", "count": len(names)}


def _inbox() -> tuple[bool, dict]:
    from indexes.models import InboxBatch

    try:
        pending = InboxBatch.objects.filter(status=InboxBatch.Status.PENDING).aggregate(
            batches=Count("id"), oldest=Min("received_at")
        )
        parked = InboxBatch.objects.filter(status=InboxBatch.Status.PARKED).count()
    except Exception as exc:
        return False, {"status": "error", "error": type(exc).__name__}
    age = (timezone.now() - pending["oldest"]).total_seconds() if pending["oldest"] else 0.0
    stalled = age > INBOX_STALL_SECONDS
    # Parked batches failed INDEXES_INBOX_MAX_TRIES times and wait for an operator
    # (admin: indbakke-batches, "Prøv igen"); they are reported, not a reason for 503:
    # every other delivery is still applied.
    return not stalled, {
        "status": "stalled" if stalled else "ok",
        "pending_batches": pending["batches"],
        "oldest_pending_seconds": round(age, 1),
        "parked_batches": parked,
    }


def _replica() -> tuple[bool, dict]:
    # Degraded, never down: without the replica the primary serves the citizen pages.
    return True, replica_check().as_status()


def _report(checks: dict[str, tuple[bool, dict]]) -> JsonResponse:
    healthy = all(ok for ok, _ in checks.values())
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: detail for name, (_, detail) in checks.items()},
    }
    return JsonResponse(body, status=200 if healthy else 503)


@never_cache
@require_GET
def live(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def ready(request):
    broker_ok, broker = _broker()
    if not broker_ok:
        broker = broker | {"status": "degraded"}
    return _report({"database": _database(), "broker": (True, broker)})


@never_cache
@require_GET
def status(request):
    checks = {
        "database": _database(),
        "broker": _broker(),
        "workers": _workers(),
        "inbox": _inbox(),
    }
    if replica_configured():
        checks["replica"] = _replica()
    return _report(checks)
