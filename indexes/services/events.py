"""The transactional outbox: events written in the same transaction as their change.

``events_emit`` is called by the code that makes the change (ingestion, the inbox, the
sheet services, the KLE release build), inside its transaction: if the change rolls
back, so do its events and their deliveries. After the commit the dispatch of each
subscription that got a delivery is enqueued (``indexes.services.webhooks``).

Who an event concerns (and which subscriptions get it, and who reads it through the
cursor API): a source system's own records and batches (``source_system``); its
municipality's sheet (``municipality``: every system of the municipality); KLE
(neither: everyone).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from indexes.models import (
    EventType,
    OutboxEvent,
    SourceSystem,
    WebhookDelivery,
    WebhookSubscription,
)

logger = logging.getLogger(__name__)


@dataclass
class EventSpec:
    """An event to write: its type, whose it is, what it is about and its data."""

    type: str
    subject: str
    data: dict = field(default_factory=dict)
    source_system_id: int | None = None
    municipality_id: str | None = None
    ordering_key: str = ""


def record_ordering_key(*, source_system_id: int, kind: str, external_id: str) -> str:
    """One record's key: its events are delivered in the order they were written."""
    return f"{source_system_id}:{kind}:{external_id}"


def _subscriptions_for(spec: EventSpec, cache: dict) -> list[WebhookSubscription]:
    key = (spec.source_system_id, spec.municipality_id)
    if key not in cache:
        subscriptions = WebhookSubscription.objects.filter(is_active=True)
        if spec.source_system_id is not None:
            subscriptions = subscriptions.filter(source_system_id=spec.source_system_id)
        elif spec.municipality_id is not None:
            subscriptions = subscriptions.filter(
                source_system__municipality_id=spec.municipality_id
            )
        cache[key] = list(subscriptions.only("id", "event_types", "source_system_id"))
    return [s for s in cache[key] if s.wants(spec.type)]


def record_applied_wanted(*, source_system: SourceSystem) -> bool:
    """Whether an active subscription of the system asks for ``record.applied`` (else the
    events are not written: one per written record would double the writes for nobody)."""
    # In Python: SQLite (make run without services) has no JSON contains.
    chosen = WebhookSubscription.objects.filter(
        source_system=source_system, is_active=True
    ).values_list("event_types", flat=True)
    return any(EventType.RECORD_APPLIED.value in (types or []) for types in chosen)


def events_emit(*, events: list[EventSpec]) -> list[OutboxEvent]:
    """Write ``events`` and a delivery for each subscription they concern (call it inside
    the change's transaction); enqueue those subscriptions' dispatch after the commit."""
    if not events:
        return []
    now = timezone.now()
    rows = OutboxEvent.objects.bulk_create(
        [
            OutboxEvent(
                type=spec.type,
                source_system_id=spec.source_system_id,
                municipality_id=spec.municipality_id,
                subject=spec.subject[:200],
                ordering_key=(spec.ordering_key or spec.subject)[:250],
                time=now,
                data=spec.data,
            )
            for spec in events
        ]
    )
    cache: dict = {}
    deliveries = []
    for spec, row in zip(events, rows, strict=True):
        for subscription in _subscriptions_for(spec, cache):
            deliveries.append(
                WebhookDelivery(
                    subscription_id=subscription.pk,
                    event_id=row.pk,
                    ordering_key=row.ordering_key,
                    next_attempt_at=now,
                )
            )
    if deliveries:
        WebhookDelivery.objects.bulk_create(deliveries)
        subscription_ids = sorted({d.subscription_id for d in deliveries})
        transaction.on_commit(lambda: _dispatch_enqueue(subscription_ids), robust=True)
    return rows


def _dispatch_enqueue(subscription_ids: list[int]) -> None:
    from indexes.tasks import webhooks_dispatch_task  # tasks import services, not back

    for subscription_id in subscription_ids:
        try:
            webhooks_dispatch_task.delay(subscription_id)
        except Exception:  # Redis gone: the sweeper sends it later
            logger.warning("webhook dispatch of subscription %s not enqueued", subscription_id)


def events_for_source_system(*, source_system: SourceSystem) -> QuerySet[OutboxEvent]:
    """The events a source system may read: its own, its municipality's, everyone's."""
    return OutboxEvent.objects.filter(
        Q(source_system=source_system)
        | Q(source_system__isnull=True, municipality_id=source_system.municipality_id)
        | Q(source_system__isnull=True, municipality__isnull=True)
    )


def events_after(
    *, source_system: SourceSystem, after: int = 0, limit: int = 100, types: list[str] | None = None
) -> list[OutboxEvent]:
    """The system's events with an id above ``after``, oldest first (the cursor API).

    Events younger than ``INDEXES_EVENTS_CURSOR_SETTLE`` seconds are held back: ids are
    taken when a transaction writes and it may commit after a later one, so a reader that
    moved past a younger id could miss the older one committed late.
    """
    settle = dt.timedelta(seconds=settings.INDEXES_EVENTS_CURSOR_SETTLE)
    events = events_for_source_system(source_system=source_system).filter(
        pk__gt=after, time__lte=timezone.now() - settle
    )
    if types:
        events = events.filter(type__in=types)
    return list(events.order_by("pk")[:limit])
