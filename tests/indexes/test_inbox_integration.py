"""The inbox with a real Celery worker on Redis and PostgreSQL.

Bulk post → worker applies → batch status; a worker killed mid-batch and the
sweeper lose nothing and apply nothing twice; a dead broker at posting time
still gives 202 and the sweeper delivers later.
"""

import contextlib
import json
import time
from datetime import timedelta

import pytest
from django.db.models import Count

from config.celery import app as celery_app
from indexes.models import Case, Change, InboxBatch, InboxRecord
from indexes.services.inbox import inbox_sweep
from tests.indexes.api_support import (
    case_record,
    client_for,
    document_record,
    kle_minimal,
    municipality_ensure,
)

# Committed data, for the worker to see; tests/conftest.py puts the migrated rows
# (municipalities, content types) back after each test's flush.
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def client(transactional_db):
    from indexes.models import SourceSystem

    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="SBSYS"
    )
    return client_for(system)


def post(client, records):
    response = client.post(
        "/api/v1/batches", data=json.dumps({"records": records}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def wait_until(condition, timeout: float = 90.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def all_done(batch_ids) -> bool:
    return InboxBatch.objects.filter(pk__in=batch_ids, status="done").count() == len(batch_ids)


@contextlib.contextmanager
def broker_at(url: str):
    """Point this process's Celery producer at ``url`` (e.g. a port nothing listens on)."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool
    conf.broker_url = conf.broker_write_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        conf.broker_url, conf.broker_write_url, celery_app._pool, celery_app.amqp._producer_pool = (
            saved
        )


def test_bulk_post_is_applied_by_the_worker_and_reported_per_record(client, celery_worker):
    body = post(
        client,
        [
            {"kind": "case", "record": case_record("c-1")},
            {"kind": "document", "record": document_record("c-1", "d-1")},
            {"kind": "case", "record": case_record("c-1")},  # the same again: unchanged
            {"kind": "document", "record": document_record("c-missing", "d-2")},
        ],
    )
    wait_until(lambda: all_done([body["id"]]))
    result = client.get(body["url"]).json()
    assert result["status"] == "done"
    outcomes = [r["outcome"] for r in result["records"]]
    assert outcomes[:3] == ["created", "created", "unchanged"]
    # A document pointing at a case that does not exist is rejected by the worker.
    assert outcomes[3] == "rejected" and result["records"][3]["problems"]
    assert InboxBatch.objects.get(pk=body["id"]).attempts == 1


def test_a_worker_killed_mid_batch_loses_nothing_and_applies_nothing_twice(client, celery_workers):
    # Stored but not yet enqueued (no broker at POST time), so the worker starts
    # with an empty queue and the kill below lands while it is applying chunks;
    # a worker that took its tasks while still starting could finish them all.
    with broker_at("redis://127.0.0.1:1/0"):
        batches = [
            post(
                client,
                [{"kind": "case", "record": case_record(f"b{b}-c{i}")} for i in range(1000)],
            )["id"]
            for b in range(4)
        ]
    worker = celery_workers.start()
    assert sorted(map(str, inbox_sweep(older_than=timedelta(0)))) == sorted(batches)
    wait_until(
        lambda: InboxRecord.objects.exclude(outcome="pending").exists(), timeout=60, interval=0.01
    )
    worker.kill()
    processed = InboxRecord.objects.exclude(outcome="pending").count()
    assert 0 < processed < 4000, "the worker must die mid-delivery for this test to mean anything"

    celery_workers.start()
    # The dead worker's task is not redelivered before the visibility timeout:
    # the sweeper hands the unfinished batches to the new worker.
    assert inbox_sweep(older_than=timedelta(0))
    wait_until(lambda: all_done(batches), timeout=180)

    assert InboxRecord.objects.filter(outcome="created").count() == 4000
    assert Case.objects.count() == 4000
    assert not Case.objects.exclude(version=1).exists()
    applied_twice = (
        Change.objects.filter(record_type="case")
        .values("record_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not applied_twice.exists()
    assert Change.objects.filter(record_type="case").count() == 4000


def test_broker_down_at_post_still_accepts_and_the_sweeper_delivers(client, celery_worker):
    with broker_at("redis://127.0.0.1:1/0"):
        started = time.monotonic()
        body = post(client, [{"kind": "case", "record": case_record("c-1")}])
        assert time.monotonic() - started < 10
    batch = InboxBatch.objects.get(pk=body["id"])
    assert batch.enqueued_at is None and batch.status == "pending"
    assert InboxRecord.objects.get().payload["external_id"] == "c-1"

    assert inbox_sweep(older_than=timedelta(0)) == [batch.id]
    wait_until(lambda: all_done([batch.id]))
    assert Case.objects.get().external_id == "c-1"


def test_batches_poisoned_before_the_bounds_existed_are_drained_and_health_stays_green(
    client, celery_worker
):
    """Records stored in the inbox by a version without the date bounds (the upgrade
    case): the worker checks them again, rejects each poison record alone and applies
    the rest (before: the chunk rolled back and the batch was swept for ever)."""
    from config import health

    poisons = [
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:30:00+01:00",
        "2024-01-01T00:00:00+16:00",
        "2024-01-01T00:00:00-23:59",
    ]
    with broker_at("redis://127.0.0.1:1/0"):  # stored, not enqueued: the sweeper hands it over
        body = post(client, [{"kind": "case", "record": case_record(f"c-{i}")} for i in range(8)])
    batch = InboxBatch.objects.get(pk=body["id"])
    for position, poison in zip((1, 3, 4, 6), poisons, strict=True):
        record = InboxRecord.objects.get(batch=batch, position=position)
        record.payload = record.payload | {"source_timestamp": poison}
        record.save(update_fields=["payload"])

    assert inbox_sweep(older_than=timedelta(0)) == [batch.id]
    wait_until(lambda: all_done([batch.id]))

    outcomes = dict(InboxRecord.objects.filter(batch=batch).values_list("position", "outcome"))
    assert [p for p, o in sorted(outcomes.items()) if o == "rejected"] == [1, 3, 4, 6]
    assert [p for p, o in sorted(outcomes.items()) if o == "created"] == [0, 2, 5, 7]
    codes = {
        p["code"]
        for problems in InboxRecord.objects.filter(outcome="rejected").values_list(
            "problems", flat=True
        )
        for p in problems
    }
    assert codes == {"out_of_range"}
    assert Case.objects.count() == 4
    ok, detail = health._inbox()
    assert ok and detail["pending_batches"] == detail["parked_batches"] == 0
