"""Celery tasks of borgerblikket: thin wrappers that call one service."""

from celery import shared_task

from borgerblikket.models import RetentionRun
from borgerblikket.services.kle_releases import kle_release_sync
from borgerblikket.services.retention import retention_run
from borgerblikket.services.rollout import rollout_snapshot_take


@shared_task(
    name="borgerblikket.kle_release_sync",
    # Idempotent: a conditional GET, an import that skips what it has, a release built once.
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
)
def kle_release_sync_task() -> dict:
    """Sync KLE (KLE-online, else the file folder) and build each new release's impact
    (run nightly by Celery beat, ``CELERY_BEAT_SCHEDULE["kle-release-sync"]``)."""
    report, releases = kle_release_sync()
    return {
        "steps": [str(step) for step in report.steps],
        "releases": [release.pk for release in releases],
    }


@shared_task(
    name="borgerblikket.retention_run",
    # Idempotent: a second run finds nothing more due (the audit shows an empty run).
    acks_late=True,
    soft_time_limit=3 * 3600,
    time_limit=3 * 3600 + 60,
)
def retention_run_task() -> dict:
    """Delete what is due under the retention rules and the old access log (run nightly by
    Celery beat, ``CELERY_BEAT_SCHEDULE["retention"]``); returns the audit run's id."""
    run = retention_run(trigger=RetentionRun.Trigger.SCHEDULE)
    return {"run": run.pk, "batches": run.batches}


@shared_task(
    name="borgerblikket.rollout_snapshot",
    # Idempotent: a second run in the same week replaces the week's rows.
    acks_late=True,
    soft_time_limit=1800,
    time_limit=1860,
)
def rollout_snapshot_task() -> dict:
    """Record this week's roll-out position of every municipality (run nightly by Celery
    beat, ``CELERY_BEAT_SCHEDULE["rollout-snapshot"]``)."""
    result = rollout_snapshot_take()
    return {"week": result.week.isoformat(), "areas": result.areas, "rows": result.rows}
