"""Polls of the four simulated feeds, interrupted by a killed worker and a stopped Redis.

Real Celery worker and beat (each feed's schedule: every second) on the
session's private PostgreSQL and Redis (tests/faults/conftest.py). While the
feeds are being read, the worker is SIGKILLed (its poll stays "running" until
the 5 s lease lets the next one take over from the cursor) and Redis is
stopped, losing every queued poll. Afterwards every change of every feed's log
is in the index exactly once (tests/faults/workload.py ``feed_count``).
"""

import signal
import time

import pytest

from tests.faults.services import wait_for

pytestmark = pytest.mark.integration


def test_polls_interrupted_by_a_killed_worker_and_redis_read_every_change_once(drill):
    setup = drill.probe("polls-setup", "20")
    feeds, changes = setup["feeds"], setup["changes"]
    ids = ",".join(str(pk) for pk in feeds)

    def read() -> int:
        return (
            drill.scalar(
                f"SELECT coalesce(sum(records), 0) FROM indexes_feedcursor WHERE feed_id IN ({ids})"
            )
            or 0
        )

    def finished() -> bool:
        return drill.scalar(
            "SELECT count(DISTINCT feed_id) FROM indexes_feedpoll "
            f"WHERE feed_id IN ({ids}) AND status = 'succeeded' "
            "AND NOT more_pending AND received = 0"
        ) == len(feeds)

    processes = drill.stack.start_all(web_workers=0, workers=1)
    worker = processes[0]
    wait_for(lambda: read() >= 0.2 * changes, timeout=60, interval=0.05, what="a fifth read")
    worker.kill(signal.SIGKILL)
    killed_at = read()
    assert killed_at < changes, "the worker must die mid-way for this test to mean anything"
    drill.stack.worker("w-again")

    wait_for(lambda: read() >= 0.5 * changes, timeout=60, interval=0.05, what="half read")
    drill.stack.redis.stop()  # queued polls and continuations are lost
    time.sleep(5)
    drill.stack.redis.start()

    wait_for(finished, timeout=90, interval=0.5, what="every feed read to its end")
    tallies = drill.probe("polls-count", *map(str, feeds))
    wrong = [t for t in tallies if t["expected"] != t["actual"]]
    assert not wrong, wrong
    assert len(tallies) == 10 * len(feeds)
    assert read() == changes
