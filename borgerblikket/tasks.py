"""Celery tasks of borgerblikket: thin wrappers that call one service."""

from celery import shared_task

from borgerblikket.services.kle_releases import kle_release_sync


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
