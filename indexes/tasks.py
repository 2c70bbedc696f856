"""Celery tasks of the indexes: thin wrappers that take ids and call one service."""

from datetime import timedelta

from celery import shared_task

from indexes.services.inbox import TRANSIENT_ERRORS, inbox_batch_process, inbox_sweep
from indexes.services.webhooks import webhooks_dispatch, webhooks_due


@shared_task(
    name="indexes.inbox_batch_process",
    acks_late=True,  # inbox_batch_process is idempotent: redelivery is safe
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=10,
)
def inbox_batch_process_task(batch_id: str) -> None:
    """Apply the pending records of one inbox batch."""
    inbox_batch_process(batch_id=batch_id)


@shared_task(
    name="indexes.inbox_sweep",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=3,
)
def inbox_sweep_task(older_than_seconds: int | None = None) -> int:
    """Re-enqueue inbox batches that sat unprocessed (run by Celery beat)."""
    if older_than_seconds is None:
        return len(inbox_sweep())
    return len(inbox_sweep(older_than=timedelta(seconds=older_than_seconds)))


@shared_task(
    name="indexes.webhooks_dispatch",
    acks_late=True,  # a delivery is marked only after its 2xx: a redelivered task resends
    soft_time_limit=120,
    time_limit=150,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=5,
)
def webhooks_dispatch_task(subscription_id: int) -> int:
    """Send a subscription's due webhook deliveries.

    Work still due when it ends (its time ran out, or a delivery committed while it held
    the lease) is enqueued again at once; retries that fall due later are the sweeper's
    (``webhooks_sweep``, every ``INDEXES_WEBHOOK_SWEEP_EVERY`` seconds), so no chain of
    scheduled tasks can multiply.
    """
    from django.utils import timezone

    result = webhooks_dispatch(subscription_id=subscription_id)
    if result.leased and result.next_due is not None and result.next_due <= timezone.now():
        webhooks_dispatch_task.delay(subscription_id)
    return result.delivered


@shared_task(
    name="indexes.webhooks_sweep",
    acks_late=True,
    soft_time_limit=50,
    time_limit=60,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=3,
)
def webhooks_sweep_task() -> int:
    """Enqueue the dispatch of every subscription with a due delivery and no dispatcher."""
    due = webhooks_due()
    for subscription_id in due:
        webhooks_dispatch_task.delay(subscription_id)
    return len(due)
