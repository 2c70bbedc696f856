"""Celery tasks of scheduled ingestion: thin wrappers that take ids and call one service.

Their names are those of the time the feeds lived in ``indexes/sources/``: every
feed's PeriodicTask row (django-celery-beat) and any message still queued name
them, so they stay (tests/feeds/test_polling.py).
"""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from indexes.feeds.services import feed_poll, feeds_due
from indexes.models import FeedPoll

logger = logging.getLogger(__name__)

# Only these are transient (database restarted, connection dropped).
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


@shared_task(
    name="indexes.sources.feed_poll",
    bind=True,
    # A poll is idempotent: its cursor moves with the pages it applies, so a
    # redelivered task after a worker crash just continues from the cursor.
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=5,
    max_retries=5,
)
def feed_poll_task(self, feed_id: int, trigger: str = FeedPoll.Trigger.SCHEDULE) -> dict:
    """Poll one feed; when it has more than one poll may read, continue in a new task."""
    poll = feed_poll(feed_id=feed_id, trigger=trigger, task_id=self.request.id or "")
    if poll is None:
        return {"feed": feed_id, "status": "skipped"}
    if poll.more_pending and poll.status == FeedPoll.Status.SUCCEEDED:
        # Continue on the queue this task came from (a worker may serve only that one).
        queue = (self.request.delivery_info or {}).get("routing_key")
        feed_poll_task.apply_async(
            (feed_id, FeedPoll.Trigger.CONTINUATION), **({"queue": queue} if queue else {})
        )
    return {
        "feed": feed_id,
        "poll": poll.pk,
        "status": poll.status,
        "pages": poll.pages,
        "received": poll.received,
        "rejected": poll.rejected,
        "more": poll.more_pending,
    }


@shared_task(name="indexes.sources.feeds_poll_all", soft_time_limit=50, time_limit=60)
def feeds_poll_all_task(trigger: str = FeedPoll.Trigger.MANUAL) -> int:
    """Enqueue a poll of every enabled feed; the number enqueued."""
    feeds = feeds_due()
    for feed in feeds:
        feed_poll_task.delay(feed.pk, trigger)
    return len(feeds)
