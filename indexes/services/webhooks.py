"""Sending the outbox's deliveries: CloudEvents 1.0 JSON, signed per Standard Webhooks.

- **Body**: one CloudEvents 1.0 event in structured JSON mode
  (``Content-Type: application/cloudevents+json``): ``specversion``, ``id`` (the event's
  UUID), ``source``, ``type`` (``dk.overblik.<type>``), ``subject``, ``time``,
  ``datacontenttype`` and ``data``, plus the extension ``sequence`` (the cursor position).
- **Signature**: Standard Webhooks — headers ``webhook-id`` (the event's UUID, the same on
  every retry: the receiver's de-duplication key), ``webhook-timestamp`` (Unix seconds)
  and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of "id.timestamp.body">`` with the
  subscription's ``whsec_`` secret), made by the ``standardwebhooks`` package.
- **At least once**: a delivery is done only after a 2xx answer. Anything else (a refused
  connection, a timeout, a non-2xx) is tried again after an exponential backoff with
  jitter — ``min(cap, base·2^(n-1))`` halved plus a random part of the other half —
  until ``INDEXES_WEBHOOK_MAX_ATTEMPTS``; then the delivery is **dead** (the admin's
  dead-letter list, from where an operator replays it).
- **In order per record**: only the oldest pending delivery of each ordering key (one
  record's events) is sent; the next waits until it is delivered or dead. Different keys
  are sent concurrently (``INDEXES_WEBHOOK_CONCURRENCY`` threads).
- **One dispatcher per subscription**: a lease on the subscription row
  (``lease_until``); a killed worker's lease runs out and the sweeper takes over.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import logging
import random
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from indexes.models import OutboxEvent, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json"
TYPE_PREFIX = "dk.overblik."
HEADS_PER_ROUND = 500


def event_source(event: OutboxEvent) -> str:
    if event.source_system_id is not None:
        return f"/overblik/source-systems/{event.source_system_id}"
    if event.municipality_id is not None:
        return f"/overblik/municipalities/{event.municipality_id}"
    return "/overblik/kle"


def cloudevent(event: OutboxEvent) -> dict:
    """The CloudEvents 1.0 JSON form of an outbox event (the body and the cursor API)."""
    return {
        "specversion": "1.0",
        "id": str(event.event_id),
        "source": event_source(event),
        "type": TYPE_PREFIX + event.type,
        "subject": event.subject,
        "time": event.time.isoformat(),
        "datacontenttype": "application/json",
        "sequence": str(event.pk),
        "data": event.data,
    }


def webhook_sign(*, secret: str, msg_id: str, timestamp: dt.datetime, body: str) -> str:
    """The ``webhook-signature`` header value (Standard Webhooks v1)."""
    return Webhook(secret).sign(msg_id, timestamp, body)


def webhook_request(*, subscription: WebhookSubscription, event: OutboxEvent, now=None):
    """(body bytes, headers) of one delivery."""
    body = json.dumps(cloudevent(event), separators=(",", ":"), ensure_ascii=False)
    now = now or timezone.now()
    msg_id = str(event.event_id)
    headers = {
        "Content-Type": CONTENT_TYPE,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhook_sign(
            secret=subscription.secret, msg_id=msg_id, timestamp=now, body=body
        ),
        "User-Agent": "Overblik-Webhooks/1",
    }
    return body.encode(), headers


def backoff_seconds(*, attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before try ``attempts + 1``: exponential, capped, with equal jitter."""
    rng = rng or random
    base = settings.INDEXES_WEBHOOK_BACKOFF_BASE
    ceiling = min(settings.INDEXES_WEBHOOK_BACKOFF_CAP, base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


# --- HTTP: one keep-alive connection per thread and host --------------------------------

_local = threading.local()


def _post(url: str, body: bytes, headers: dict, timeout: float) -> int:
    parts = urllib.parse.urlsplit(url)
    key = (parts.scheme, parts.hostname, parts.port)
    connections = getattr(_local, "connections", None)
    if connections is None:
        connections = _local.connections = {}
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    for attempt in (1, 2):
        conn = connections.get(key)
        if conn is None:
            cls = (
                http.client.HTTPSConnection
                if parts.scheme == "https"
                else http.client.HTTPConnection
            )
            conn = connections[key] = cls(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
                connections.pop(key, None)
            return response.status
        except (http.client.HTTPException, OSError):
            conn.close()
            connections.pop(key, None)
            # A kept-alive connection the server closed meanwhile: once more, fresh.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass
class Sent:
    delivery_id: int
    ok: bool
    error: str = ""


def _send(subscription: WebhookSubscription, delivery: WebhookDelivery) -> Sent:
    body, headers = webhook_request(subscription=subscription, event=delivery.event)
    try:
        status = _post(subscription.url, body, headers, settings.INDEXES_WEBHOOK_TIMEOUT)
    except (OSError, http.client.HTTPException) as exc:
        return Sent(delivery.pk, False, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= status < 300:
        return Sent(delivery.pk, True)
    return Sent(delivery.pk, False, f"HTTP {status}")


# --- dispatch ----------------------------------------------------------------------------


def _lease_take(subscription_id: int, seconds: float) -> bool:
    now = timezone.now()
    return bool(
        WebhookSubscription.objects.filter(pk=subscription_id, is_active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_until=now + dt.timedelta(seconds=seconds))
    )


def _lease_release(subscription_id: int) -> None:
    WebhookSubscription.objects.filter(pk=subscription_id).update(lease_until=None)


# The pending deliveries' partial index (subscription, ordering_key, event) serves both.
_HEADS_SQL = """
SELECT id FROM (
    SELECT DISTINCT ON (ordering_key) id, event_id, next_attempt_at
    FROM indexes_webhookdelivery
    WHERE subscription_id = %s AND status = 'pending'
    ORDER BY ordering_key, event_id
) heads
WHERE next_attempt_at <= %s ORDER BY event_id LIMIT %s
"""
# SQLite (make run without services) has no DISTINCT ON.
_HEADS_SQL_SQLITE = """
SELECT d.id FROM indexes_webhookdelivery d
WHERE d.subscription_id = %s AND d.status = 'pending'
  AND d.event_id = (
    SELECT MIN(e.event_id) FROM indexes_webhookdelivery e
    WHERE e.subscription_id = d.subscription_id AND e.status = 'pending'
      AND e.ordering_key = d.ordering_key)
  AND d.next_attempt_at <= %s
ORDER BY d.event_id LIMIT %s
"""


def _heads(subscription_id: int, now: dt.datetime) -> list[int]:
    """Ids of the oldest pending delivery of each ordering key, if it is due."""
    sql = _HEADS_SQL if connection.vendor == "postgresql" else _HEADS_SQL_SQLITE
    with connection.cursor() as cursor:
        cursor.execute(sql, [subscription_id, now, HEADS_PER_ROUND])
        return [row[0] for row in cursor.fetchall()]


@dataclass
class DispatchResult:
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    next_due: dt.datetime | None = None
    leased: bool = True


def webhooks_dispatch(*, subscription_id: int, max_seconds: float | None = None) -> DispatchResult:
    """Send a subscription's due deliveries, round after round, until none is due or
    ``max_seconds`` passed; ``next_due`` says when the next pending one falls due.

    Returns at once (``leased`` false) while another worker dispatches it.
    """
    max_seconds = max_seconds or settings.INDEXES_WEBHOOK_DISPATCH_SECONDS
    result = DispatchResult()
    lease = max_seconds + settings.INDEXES_WEBHOOK_TIMEOUT + 30
    if not _lease_take(subscription_id, lease):
        result.leased = False
        return result
    started = time.monotonic()
    try:
        subscription = WebhookSubscription.objects.get(pk=subscription_id)
        threads = settings.INDEXES_WEBHOOK_CONCURRENCY
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook") as pool:
            while time.monotonic() - started < max_seconds:
                ids = _heads(subscription_id, timezone.now())
                if not ids:
                    break
                deliveries = list(
                    WebhookDelivery.objects.filter(pk__in=ids)
                    .select_related("event")
                    .order_by("event_id")
                )
                sent = list(pool.map(lambda d: _send(subscription, d), deliveries))
                _record(deliveries, sent, result)
    finally:
        _lease_release(subscription_id)
    # After the release: a delivery committed while this dispatcher held the lease (its
    # own task returned at once) is seen here, so the caller schedules it.
    pending = WebhookDelivery.objects.filter(
        subscription_id=subscription_id, status=WebhookDelivery.Status.PENDING
    ).aggregate(due=Min("next_attempt_at"))
    result.next_due = pending["due"]
    return result


def _record(deliveries: list[WebhookDelivery], sent: list[Sent], result: DispatchResult) -> None:
    now = timezone.now()
    by_id = {d.pk: d for d in deliveries}
    ok = [s.delivery_id for s in sent if s.ok]
    with transaction.atomic():
        if ok:
            WebhookDelivery.objects.filter(pk__in=ok).update(
                status=WebhookDelivery.Status.DELIVERED,
                delivered_at=now,
                last_error="",
                attempts=F("attempts") + 1,
            )
            result.delivered += len(ok)
        failures = [s for s in sent if not s.ok]
        updates = []
        for failure in failures:
            delivery = by_id[failure.delivery_id]
            delivery.attempts += 1
            delivery.last_error = failure.error
            if delivery.attempts >= settings.INDEXES_WEBHOOK_MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.DEAD
                delivery.died_at = now
                result.dead += 1
            else:
                delivery.next_attempt_at = now + dt.timedelta(
                    seconds=backoff_seconds(attempts=delivery.attempts)
                )
                result.failed += 1
            updates.append(delivery)
        if updates:
            WebhookDelivery.objects.bulk_update(
                updates, ["attempts", "last_error", "status", "died_at", "next_attempt_at"]
            )


def webhooks_due(*, limit: int = 500) -> list[int]:
    """Subscriptions with a due pending delivery and no dispatcher (the sweeper's list)."""
    now = timezone.now()
    return list(
        WebhookSubscription.objects.filter(is_active=True)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .filter(
            deliveries__status=WebhookDelivery.Status.PENDING,
            deliveries__next_attempt_at__lte=now,
        )
        .values_list("pk", flat=True)
        .distinct()[:limit]
    )


def webhook_deliveries_replay(*, delivery_ids: list[int]) -> int:
    """Put dead deliveries back to pending with fresh tries (the admin's replay); how many.

    A replayed delivery is the oldest of its record again, so that record's later events
    wait for it: the receiver sees them in order once more.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            WebhookDelivery.objects.filter(
                pk__in=delivery_ids, status=WebhookDelivery.Status.DEAD
            ).values_list("subscription_id", flat=True)
        )
        count = WebhookDelivery.objects.filter(
            pk__in=delivery_ids, status=WebhookDelivery.Status.DEAD
        ).update(
            status=WebhookDelivery.Status.PENDING,
            attempts=0,
            died_at=None,
            next_attempt_at=now,
        )
        from indexes.services.events import _dispatch_enqueue

        subscription_ids = sorted(set(rows))
        transaction.on_commit(lambda: _dispatch_enqueue(subscription_ids), robust=True)
    return count
