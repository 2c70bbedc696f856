"""Ingestion through Redis stopped and PostgreSQL restarted, on private services.

Real gunicorn, a real Celery worker and beat (inbox sweep every second for
batches older than 3 s) against the session's private PostgreSQL cluster and
redis-server (tests/faults/conftest.py). Clients post as source systems do and
retry a 5xx with the same Idempotency-Key. Each test ends by counting the index
exactly (tests/faults/workload.py ``index_count``).
"""

import http.client
import json
import time
import uuid

import pytest

from tests.faults.services import wait_for
from tests.faults.workload import Delivery, Poster, waves

pytestmark = pytest.mark.integration

CASES = 600  # with their documents and older versions: 1,800 records in 10 deliveries
BODY = 200


def deliveries_for(cases: int = CASES) -> tuple[list[Delivery], object]:
    bodies, expected = waves(uuid.uuid4().hex[:8], cases, size=BODY)
    return [Delivery(records=body) for body in bodies], expected


def assert_counted(drill, system: int, expected, deliveries: list[Delivery]) -> None:
    wait_for(drill.drained, timeout=60, interval=0.2, what="every batch applied")
    tallies = drill.probe(
        "count", str(system), str(expected.cases), str(expected.documents), str(len(deliveries))
    )
    wrong = [t for t in tallies if t["expected"] != t["actual"]]
    assert not wrong, wrong
    assert sum(d.accepted for d in deliveries) == sum(len(d.records) for d in deliveries)
    assert not [r for d in deliveries for r in d.rejected]


def test_clients_keep_posting_while_redis_is_down_and_nothing_is_lost(drill):
    system, key = drill.setup()
    deliveries, expected = deliveries_for()
    drill.start()
    down_for = 8.0
    # Two clients, 5 deliveries each, 2 s apart: posting spans the whole outage.
    poster = Poster(port=drill.stack.web_port, key=key, clients=2, pace=2.0).start(deliveries)
    wait_for(lambda: poster.posted >= 2, timeout=30, interval=0.05, what="first deliveries")

    drill.stack.redis.stop()
    poster.phase = "down"
    time.sleep(down_for)
    drill.stack.redis.start()  # empty: the queued task messages are gone
    poster.phase = "back"
    poster.join(timeout=60)

    assert not poster.failures, poster.failures
    # The inbox is in PostgreSQL: every delivery during the outage was accepted.
    assert poster.answers_by_phase["down"], "no delivery was posted while Redis was down"
    assert set(poster.answers_by_phase["down"]) == {"202"}, poster.answers_by_phase
    assert poster.slowest < 10, "a POST waited on the dead broker"
    assert_counted(drill, system, expected, deliveries)


def post_once(port: int, key: str, idempotency_key: str, records: list[dict]):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    started = time.monotonic()
    connection.request(
        "POST",
        "/api/v1/batches",
        body=json.dumps({"records": records}),
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
            "Idempotency-Key": idempotency_key,
        },
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    return response, body, time.monotonic() - started


def test_postgres_down_answers_503_and_the_retry_is_stored_once(drill):
    system, key = drill.setup()
    deliveries, expected = deliveries_for(cases=100)
    drill.start()
    first = deliveries[0]

    drill.stack.postgres.stop(mode="fast")
    try:
        response, body, seconds = post_once(drill.stack.web_port, key, first.key, first.records)
    finally:
        drill.stack.postgres.start()
    assert response.status == 503, body
    assert response.getheader("Content-Type") == "application/problem+json"
    assert response.getheader("Retry-After") == "5"
    assert body["type"] == "urn:overblik:problem:service-unavailable"
    assert seconds < 10, "the request hung on the stopped database"

    # The source system retries the same delivery with the same key: stored once.
    response, body, _ = post_once(drill.stack.web_port, key, first.key, first.records)
    assert response.status == 202, body
    first.batch_id, first.accepted, first.rejected = body["id"], body["accepted"], body["rejected"]
    response, again, _ = post_once(drill.stack.web_port, key, first.key, first.records)
    assert response.status == 202 and response.getheader("Idempotent-Replayed") == "true"
    assert again["id"] == first.batch_id

    Poster(port=drill.stack.web_port, key=key, clients=1).start(deliveries[1:]).join(timeout=60)
    assert_counted(drill, system, expected, deliveries)


def test_postgres_restarted_twice_during_ingestion_loses_and_repeats_nothing(drill):
    system, key = drill.setup()
    deliveries, expected = deliveries_for()
    total = sum(len(d.records) for d in deliveries)
    drill.start(web_workers=2)
    poster = Poster(port=drill.stack.web_port, key=key, clients=3, pace=0.3).start(deliveries)
    for round_, fraction in enumerate((0.1, 0.5), start=1):
        wait_for(lambda f=fraction: drill.applied() >= f * total, timeout=60, interval=0.05)
        poster.phase = f"restart {round_}"
        drill.stack.postgres.restart(mode="fast")
    poster.join(timeout=90)

    assert not poster.failures, poster.failures
    # A client sees 202, or 503 + Retry-After while the server restarts; never a 500.
    assert set(poster.answers) <= {"202", "503"}, poster.answers
    assert_counted(drill, system, expected, deliveries)


def test_a_worker_that_logs_only_warnings_is_still_seen_ready(drill, monkeypatch):
    """Readiness is Celery's own ping, not the worker's INFO "ready." line (issue 12.13)."""
    monkeypatch.setenv("DJANGO_LOG_LEVEL", "WARNING")
    worker = drill.stack.worker("quiet", timeout=60)
    assert worker.alive()
    assert "ready." not in worker.log.read_text(errors="replace")  # the old signal is absent
