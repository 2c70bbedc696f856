"""A real Celery worker polls feeds; killing it mid-poll loses and repeats nothing."""

import datetime
import json
import signal
import time
import uuid

import pytest
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app as celery_app
from indexes.feeds.tasks import feed_poll_task
from indexes.models import FeedCursor, FeedPoll
from simulators.feeds import stand_in_feed_register
from simulators.systems import SimulatorConfig, simulator_get
from tests.conftest import ARTIFACTS, WorkerProcess, _database_url_for
from tests.feeds.conftest import (
    changes_are_exactly_once,
    expected_outcomes,
    index_matches_truth,
    kle_fixture_load,
    poll_totals,
    source_system_make,
)

# Committed data, for the worker to see; tests/conftest.py puts the migrated rows
# (municipalities, content types) back after each test's flush.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def past_config(**settings) -> SimulatorConfig:
    """A world that ended a month ago, so the real clock adds nothing during the test."""
    horizon = timezone.localdate() - datetime.timedelta(days=30)
    return SimulatorConfig(
        start=horizon - datetime.timedelta(days=3 * 365), horizon=horizon, **settings
    )


def wait_for(condition, *, timeout: float = 90.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_real_worker_runs_the_poll_exactly_as_beat_schedules_it(celery_worker, celery_queue):
    kle_fixture_load()
    config = past_config(seed=21, citizens=40)
    feed = stand_in_feed_register(source_system=source_system_make(product="FASIT"), config=config)
    task = PeriodicTask.objects.get(pk=feed.periodic_task_id)

    celery_app.send_task(
        task.task, args=json.loads(task.args), kwargs=json.loads(task.kwargs), queue=celery_queue
    )

    poll = wait_for(
        lambda: FeedPoll.objects.filter(feed=feed).exclude(status=FeedPoll.Status.RUNNING).first(),
        what="the scheduled poll",
    )
    assert poll.status == FeedPoll.Status.SUCCEEDED and poll.trigger == "schedule"
    sim = simulator_get(product="FASIT", municipality="461", config=config)
    assert poll.received == len(sim.log) > 0
    index_matches_truth(feed, sim.truth())
    changes_are_exactly_once(feed)


def test_killing_the_worker_mid_poll_loses_nothing_and_repeats_nothing(celery_worker, celery_queue):
    kle_fixture_load()
    # Slow pages (as a real system's), duplicates and overtaking updates included.
    config = past_config(
        seed=22, citizens=60, latency_ms=150, faults={"duplicate": 0.1, "out_of_order": 0.3}
    )
    feed = stand_in_feed_register(
        source_system=source_system_make(product="FASIT"), config=config, page_size=15
    )
    feed.lease_seconds = 2
    feed.max_pages_per_poll = 6  # continuations carry the poll on
    feed.save()
    sim = simulator_get(product="FASIT", municipality="461", config=config)
    assert len(sim.log) > 15 * 10

    queue = f"doomed-{uuid.uuid4().hex[:8]}"
    doomed = WorkerProcess(
        _database_url_for(connection.settings_dict), queue, ARTIFACTS / f"celery-{queue}.log"
    )
    doomed.start()
    try:
        feed_poll_task.apply_async((feed.pk, FeedPoll.Trigger.MANUAL), queue=queue)
        wait_for(lambda: FeedCursor.objects.get(feed=feed).pages >= 3, what="three pages")
    finally:
        doomed.kill(signal.SIGKILL)
    killed_at = FeedCursor.objects.get(feed=feed)
    assert killed_at.pages < 6 * 5  # it died well before the end
    dead = FeedPoll.objects.get(feed=feed)
    assert dead.status == FeedPoll.Status.RUNNING  # nobody told the database

    time.sleep(feed.lease_seconds + 0.5)
    feed_poll_task.apply_async((feed.pk, FeedPoll.Trigger.SCHEDULE), queue=celery_queue)
    wait_for(
        lambda: FeedPoll.objects.filter(
            feed=feed, status=FeedPoll.Status.SUCCEEDED, more_pending=False
        ).exists(),
        timeout=180,
        what="the feed to be read to its end",
    )

    dead.refresh_from_db()
    assert dead.status == FeedPoll.Status.INTERRUPTED
    later = FeedPoll.objects.filter(feed=feed).exclude(pk=dead.pk).order_by("started_at")
    assert later.first().cursor_before == killed_at.position  # resumed where it stopped
    totals = poll_totals(feed)
    assert totals["received"] == len(sim.log)  # every change once, none twice
    assert totals["rejected"] == 0
    expected = expected_outcomes(sim.log)
    for outcome in ("created", "updated", "unchanged", "stale"):
        assert totals[outcome] == expected[outcome], outcome
    index_matches_truth(feed, sim.truth())
    changes_are_exactly_once(feed)
