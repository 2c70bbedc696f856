"""Retention of the delivery logs: finished inbox batches with their delivered JSON, and the
feed log (rejections, finished polls), go after their own setting, by the nightly run;
pending batches never; audited by counts per municipality and kind.

The rule: ``borgerblikket.services.retention`` (``inbox_batches_expired``, ``_delete_feed_log``).
"""

import datetime as dt

import pytest

from borgerblikket.models import RetentionCount, RetentionRun
from borgerblikket.services.retention import retention_run
from indexes.models import FeedPoll, FeedRejection, InboxBatch, InboxRecord, SourceFeed
from tests.indexes import factories as ix

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = dt.UTC
NOW = dt.datetime(2025, 6, 15, 3, 0, tzinfo=TZ)
DAYS = 30
CUTOFF = NOW - dt.timedelta(days=DAYS)
SECOND = dt.timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.OVERBLIK_INBOX_RETENTION_DAYS = DAYS
    settings.OVERBLIK_FEED_LOG_RETENTION_DAYS = DAYS


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


def batch(system, *, status: str, at: dt.datetime | None, records: int = 2) -> InboxBatch:
    """A batch of ``records`` delivered records; done at ``at``, or parked at ``at``."""
    received = (at or NOW) - dt.timedelta(hours=1)
    made = InboxBatch.objects.create(
        source_system=system,
        status=status,
        received_at=received,
        record_count=records,
        finished_at=at if status == InboxBatch.Status.DONE else None,
        parked_at=at if status == InboxBatch.Status.PARKED else None,
    )
    InboxRecord.objects.bulk_create(
        InboxRecord(
            batch=made,
            position=i,
            kind="case",
            external_id=f"sag-{made.pk}-{i}",
            payload={"external_id": f"sag-{i}", "title": "Indhold der skal væk"},
            outcome=(
                InboxRecord.Outcome.PENDING
                if status == InboxBatch.Status.PENDING
                else InboxRecord.Outcome.CREATED
            ),
        )
        for i in range(records)
    )
    return made


# --- inbox batches ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "gone"),
    [(-SECOND, True), (dt.timedelta(0), False), (SECOND, False)],
    ids=["just-before-the-cutoff", "at-the-cutoff", "just-after-the-cutoff"],
)
@pytest.mark.parametrize("status", [InboxBatch.Status.DONE, InboxBatch.Status.PARKED])
def test_a_finished_batch_goes_with_its_records_once_its_retention_has_run(
    odense, status, offset, gone
):
    made = batch(odense, status=status, at=CUTOFF + offset)
    retention = run()
    assert InboxBatch.objects.filter(pk=made.pk).exists() is not gone
    assert InboxRecord.objects.filter(batch_id=made.pk).exists() is not gone
    expected = {("461", "batch"): 1, ("461", "batch_record"): 2} if gone else {}
    assert counts_of(retention) == expected
    assert retention.inbox_cutoff == CUTOFF


def test_the_boundary_follows_the_setting_in_days(odense, settings):
    settings.OVERBLIK_INBOX_RETENTION_DAYS = 7
    day_7 = batch(odense, status=InboxBatch.Status.DONE, at=NOW - dt.timedelta(days=7))
    over_7 = batch(odense, status=InboxBatch.Status.DONE, at=NOW - dt.timedelta(days=7, hours=1))
    day_6 = batch(odense, status=InboxBatch.Status.DONE, at=NOW - dt.timedelta(days=6))
    run()
    assert set(InboxBatch.objects.values_list("pk", flat=True)) == {day_7.pk, day_6.pk}
    assert not InboxBatch.objects.filter(pk=over_7.pk).exists()


def test_a_pending_batch_never_goes_however_old(odense):
    ancient = batch(odense, status=InboxBatch.Status.PENDING, at=None)
    InboxBatch.objects.filter(pk=ancient.pk).update(
        received_at=NOW - dt.timedelta(days=3650), enqueued_at=NOW - dt.timedelta(days=3650)
    )
    # A half-applied pending batch (some records done long ago) stays whole too.
    InboxRecord.objects.filter(batch=ancient, position=0).update(
        outcome=InboxRecord.Outcome.CREATED, processed_at=NOW - dt.timedelta(days=3000)
    )
    retention = run()
    assert InboxBatch.objects.filter(pk=ancient.pk).exists()
    assert InboxRecord.objects.filter(batch=ancient).count() == 2
    assert counts_of(retention) == {}


def test_batches_are_counted_per_municipality_and_deleted_in_bounded_transactions(odense, aarhus):
    old = CUTOFF - dt.timedelta(days=1)
    for _ in range(3):
        batch(odense, status=InboxBatch.Status.DONE, at=old, records=2)
    batch(aarhus, status=InboxBatch.Status.PARKED, at=old, records=3)
    batch(aarhus, status=InboxBatch.Status.DONE, at=old, records=5)  # over the size: alone
    kept = batch(aarhus, status=InboxBatch.Status.DONE, at=NOW - dt.timedelta(days=1))
    retention = retention_run(trigger=RetentionRun.Trigger.COMMAND, now=NOW, batch_size=4)
    assert list(InboxBatch.objects.values_list("pk", flat=True)) == [kept.pk]
    assert set(InboxRecord.objects.values_list("batch_id", flat=True)) == {kept.pk}
    assert counts_of(retention) == {
        ("461", "batch"): 3,
        ("461", "batch_record"): 6,
        ("751", "batch"): 2,
        ("751", "batch_record"): 8,
    }
    assert retention.status == RetentionRun.Status.FINISHED


def test_a_deleted_cases_finished_delivery_goes_by_age_and_a_pending_one_stays(odense):
    """When a case is deleted, a done batch that delivered it stays until its own age
    rule (at most OVERBLIK_INBOX_RETENTION_DAYS), a pending one until it is applied."""
    recent = batch(odense, status=InboxBatch.Status.DONE, at=NOW - dt.timedelta(days=DAYS - 1))
    pending = batch(odense, status=InboxBatch.Status.PENDING, at=None)
    run()
    assert InboxBatch.objects.filter(pk__in=[recent.pk, pending.pk]).count() == 2
    later = NOW + dt.timedelta(days=1, seconds=1)
    retention_run(trigger=RetentionRun.Trigger.COMMAND, now=later)
    assert list(InboxBatch.objects.values_list("pk", flat=True)) == [pending.pk]


# --- the feed log -------------------------------------------------------------------------


def feed_of(system) -> SourceFeed:
    return SourceFeed.objects.create(source_system=system, adapter="fasit_json")


def poll(feed, *, finished: dt.datetime | None, status=FeedPoll.Status.SUCCEEDED) -> FeedPoll:
    started = (finished or NOW) - dt.timedelta(minutes=5)
    return FeedPoll.objects.create(
        feed=feed, status=status, started_at=started, heartbeat_at=started, finished_at=finished
    )


def reject(feed, the_poll, *, at: dt.datetime) -> FeedRejection:
    return FeedRejection.objects.create(
        poll=the_poll,
        feed=feed,
        kind="case",
        external_id="sag-1",
        code="unknown_kle",
        problems=[{"pointer": "/kle_number", "code": "unknown_kle", "message": "Ukendt."}],
        received_at=at,
    )


def test_feed_rejections_and_finished_polls_go_after_their_retention(odense, aarhus):
    feed, other = feed_of(odense), feed_of(aarhus)
    old = poll(feed, finished=CUTOFF - SECOND)
    reject(feed, old, at=CUTOFF - SECOND - dt.timedelta(minutes=1))
    at_cutoff = poll(feed, finished=CUTOFF)
    kept_rejection = reject(feed, at_cutoff, at=CUTOFF)
    gone_rejection = reject(feed, at_cutoff, at=CUTOFF - SECOND)  # before the cut-off itself
    newest = poll(feed, finished=NOW - dt.timedelta(days=1))
    # The other feed polled last long ago: its latest poll stays (the feed admin shows it),
    # the rejections go; an older failed one goes.
    failed = poll(other, finished=CUTOFF - dt.timedelta(days=9), status=FeedPoll.Status.FAILED)
    last = poll(other, finished=CUTOFF - dt.timedelta(days=5))
    reject(other, last, at=CUTOFF - dt.timedelta(days=5, minutes=1))
    retention = run()
    assert set(FeedPoll.objects.values_list("pk", flat=True)) == {
        at_cutoff.pk,
        newest.pk,
        last.pk,
    }
    assert not FeedPoll.objects.filter(pk__in=[old.pk, failed.pk]).exists()
    assert list(FeedRejection.objects.values_list("pk", flat=True)) == [kept_rejection.pk]
    assert not FeedRejection.objects.filter(pk=gone_rejection.pk).exists()
    assert counts_of(retention) == {
        ("461", "feed_poll"): 1,
        ("461", "feed_reject"): 2,
        ("751", "feed_poll"): 1,
        ("751", "feed_reject"): 1,
    }
    assert retention.feed_log_cutoff == CUTOFF


def test_a_running_poll_never_goes(odense):
    feed = feed_of(odense)
    running = poll(feed, finished=None, status=FeedPoll.Status.RUNNING)
    FeedPoll.objects.filter(pk=running.pk).update(started_at=NOW - dt.timedelta(days=400))
    newer = poll(feed, finished=CUTOFF - dt.timedelta(days=2))
    run()
    assert set(FeedPoll.objects.values_list("pk", flat=True)) == {running.pk, newer.pk}


def test_the_audit_names_the_new_kinds():
    labels = dict(RetentionCount.Kind.choices)
    for kind in ("batch", "batch_record", "feed_poll", "feed_reject"):
        assert labels[kind]
