"""Retention of the outboxes: the events back to the source systems (cursor API and
webhooks) and the messages sent to citizens go after their own settings, by the nightly
run; an event with a delivery still pending, and a message still to be sent, never go.
Audited by counts per municipality and kind, as the rest of the run.

The rule: ``borgerblikket.services.retention`` (``_delete_events`` and the purges the
apps register, overblik's ``notification_messages_purge``).
"""

import datetime as dt

import pytest

from borgerblikket.models import RetentionCount, RetentionRun
from borgerblikket.services.retention import retention_run
from indexes.models import OutboxEvent, WebhookDelivery, WebhookSubscription
from overblik.models import NotificationMessage
from tests.indexes import factories as ix
from tests.notifications.helpers import kim_settings

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = dt.datetime(2025, 6, 15, 3, 0, tzinfo=dt.UTC)
EVENT_DAYS = 30
MESSAGE_DAYS = 365
SECOND = dt.timedelta(seconds=1)
Kind = RetentionCount.Kind


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.OVERBLIK_EVENTS_RETENTION_DAYS = EVENT_DAYS
    settings.OVERBLIK_NOTIFICATION_RETENTION_DAYS = MESSAGE_DAYS


@pytest.fixture
def odense():
    return ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code="461"))


@pytest.fixture
def aarhus():
    return ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code="751"))


def run() -> RetentionRun:
    return retention_run(trigger=RetentionRun.Trigger.COMMAND, now=NOW)


def counts_of(retention: RetentionRun) -> dict:
    return {(c.municipality_id, c.kind): c.count for c in retention.counts.all()}


def event(system, *, days_old: float, delivery: str | None = None, **fields) -> OutboxEvent:
    at = NOW - dt.timedelta(days=days_old)
    made = OutboxEvent.objects.create(
        type="batch.completed", source_system=system, subject="batch/x", time=at, **fields
    )
    if delivery:
        subscription, _ = WebhookSubscription.objects.get_or_create(
            source_system=system, url="https://example.invalid/hook"
        )
        WebhookDelivery.objects.create(
            subscription=subscription,
            event=made,
            ordering_key="k",
            status=delivery,
            delivered_at=at if delivery == WebhookDelivery.Status.DELIVERED else None,
            died_at=at if delivery == WebhookDelivery.Status.DEAD else None,
        )
    return made


def test_events_older_than_their_retention_go_with_their_finished_deliveries(odense, aarhus):
    old_delivered = event(odense, days_old=EVENT_DAYS + 1, delivery="delivered")
    old_dead = event(aarhus, days_old=EVENT_DAYS + 2, delivery="dead")
    old_unsubscribed = event(odense, days_old=EVENT_DAYS + 3)
    old_of_a_sheet = event(None, days_old=EVENT_DAYS + 3, municipality=aarhus.municipality)
    old_but_pending = event(odense, days_old=EVENT_DAYS + 9, delivery="pending")
    just_inside = event(aarhus, days_old=EVENT_DAYS - 0.01, delivery="delivered")

    retention = run()

    left = set(OutboxEvent.objects.values_list("pk", flat=True))
    assert left == {old_but_pending.pk, just_inside.pk}
    assert not OutboxEvent.objects.filter(
        pk__in=[old_delivered.pk, old_dead.pk, old_unsubscribed.pk, old_of_a_sheet.pk]
    ).exists()
    assert WebhookDelivery.objects.count() == 2
    counts = counts_of(retention)
    assert counts[("461", Kind.EVENT)] == 2
    assert counts[("751", Kind.EVENT)] == 2
    assert counts[("461", Kind.DELIVERY)] == 1
    assert counts[("751", Kind.DELIVERY)] == 1
    assert retention.events_cutoff == NOW - dt.timedelta(days=EVENT_DAYS)


def test_a_kle_event_of_no_municipality_goes_too_counted_without_one(odense):
    event(None, days_old=EVENT_DAYS + 1)
    retention = run()
    assert not OutboxEvent.objects.exists()
    assert counts_of(retention) == {(None, Kind.EVENT): 1}


def message(settings, *, days_old: float, status: str, channel="email") -> NotificationMessage:
    at = NOW - dt.timedelta(days=days_old)
    return NotificationMessage.objects.create(
        settings=settings,
        channel=channel,
        status=status,
        send_after=at,
        due_at=at,
        created_at=at,
        sent_at=at if status == NotificationMessage.Status.SENT else None,
    )


def test_messages_to_citizens_go_after_their_retention_never_one_still_to_be_sent():
    settings = kim_settings()
    Status = NotificationMessage.Status
    gone = [
        message(settings, days_old=MESSAGE_DAYS + 1 + n, status=status)
        for n, status in enumerate((Status.SENT, Status.NOTHING, Status.BOUNCED, Status.STOPPED))
    ]
    kept = [
        message(settings, days_old=MESSAGE_DAYS + 5, status=Status.PENDING),
        message(settings, days_old=MESSAGE_DAYS + 6, status=Status.SENDING),
        message(settings, days_old=MESSAGE_DAYS - 1, status=Status.SENT),
    ]

    retention = run()

    assert set(NotificationMessage.objects.values_list("pk", flat=True)) == {m.pk for m in kept}
    assert not NotificationMessage.objects.filter(pk__in=[m.pk for m in gone]).exists()
    # A message belongs to a citizen, not to a municipality.
    assert counts_of(retention) == {(None, Kind.NOTIFICATION): 4}
