"""Celery queues per delivery size and source system (settings, "Queues"; docs/scaling.md).

A small delivery goes to ``ingest.single``, a big one to its source system's bulk shard,
the sweeper re-enqueues a batch to the same queue, and a real worker started on the split
queues applies both. The latency this buys is measured by bench/queues.py.
"""

import json
import uuid
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from indexes.models import InboxBatch, SourceSystem
from indexes.services.inbox import inbox_queue, inbox_sweep
from tests.conftest import ARTIFACTS, WorkerProcess, _database_url_for
from tests.indexes.api_support import case_record, client_for, kle_minimal, municipality_ensure
from tests.indexes.test_inbox_integration import all_done, wait_until

SPLIT = {"INDEXES_QUEUES_SPLIT": True, "INDEXES_QUEUE_SINGLE_MAX_RECORDS": 5}
SPLIT_QUEUES = [
    "ingest.single",
    *(f"ingest.bulk.{shard}" for shard in range(settings.INDEXES_QUEUE_BULK_SHARDS)),
]


def test_a_small_delivery_is_single_and_a_big_one_goes_to_its_systems_bulk_shard():
    with override_settings(**SPLIT, INDEXES_QUEUE_BULK_SHARDS=8):
        assert inbox_queue(source_system_id=11, record_count=1) == "ingest.single"
        assert inbox_queue(source_system_id=11, record_count=5) == "ingest.single"
        assert inbox_queue(source_system_id=11, record_count=6) == "ingest.bulk.3"
        assert inbox_queue(source_system_id=12, record_count=1000) == "ingest.bulk.4"
    with override_settings(INDEXES_QUEUES_SPLIT=False):
        assert inbox_queue(source_system_id=11, record_count=1000) is None


def test_every_split_queue_is_consumed_by_a_worker_started_without_q():
    names = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert {"celery", "ingest.feeds", *SPLIT_QUEUES} <= names


@pytest.fixture
def broker():
    if not (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        pytest.skip("needs PostgreSQL and Redis (outside CI)")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    # Nothing but this test's messages in the split queues (the suite's own workers never
    # listen to them; a message left by an interrupted run would be counted).
    client.delete(*SPLIT_QUEUES)
    yield client
    client.delete(*SPLIT_QUEUES)
    client.close()


def _systems() -> tuple[SourceSystem, SourceSystem]:
    kle_minimal()
    municipality = municipality_ensure("461")
    return (
        SourceSystem.objects.create(municipality=municipality, product="SBSYS", name="SBSYS"),
        SourceSystem.objects.create(municipality=municipality, product="FASIT", name="FASIT"),
    )


def _post(client, count: int, prefix: str) -> str:
    records = [{"kind": "case", "record": case_record(f"{prefix}-{i}")} for i in range(count)]
    response = client.post(
        "/api/v1/batches", data=json.dumps({"records": records}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return response.json()["id"]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_deliveries_and_the_sweeper_enqueue_to_the_batchs_own_queue(broker):
    bulk_system, single_system = _systems()
    with override_settings(**SPLIT):
        bulk = _post(client_for(bulk_system), 20, "bulk")
        single = _post(client_for(single_system), 1, "single")
        bulk_queue = f"ingest.bulk.{bulk_system.pk % settings.INDEXES_QUEUE_BULK_SHARDS}"
        assert broker.llen(bulk_queue) == 1
        assert broker.llen("ingest.single") == 1
        # As after a lost Redis: the queues are empty, the batches pending and old.
        broker.delete(*SPLIT_QUEUES)
        InboxBatch.objects.filter(pk__in=[bulk, single]).update(
            received_at=timezone.now() - timedelta(minutes=5), enqueued_at=None
        )
        assert set(inbox_sweep(older_than=timedelta(seconds=30))) >= {
            uuid.UUID(bulk),
            uuid.UUID(single),
        }
        assert broker.llen(bulk_queue) == 1
        assert broker.llen("ingest.single") == 1
        messages = [json.loads(m) for m in broker.lrange(bulk_queue, 0, -1)]
        assert messages[0]["headers"]["task"] == "indexes.inbox_batch_process"
        assert messages[0]["headers"]["kwargsrepr"].count(bulk) == 1


class SplitQueuesWorker(WorkerProcess):
    """The suite's worker process, on the split queues instead of a queue of its own."""

    def __init__(self, database_url: str):
        super().__init__(database_url, ",".join(SPLIT_QUEUES), ARTIFACTS / "celery-split.log")
        self.hostname = f"test-split-{uuid.uuid4().hex[:6]}@localhost"


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_the_split_queues_applies_bulk_and_single_deliveries(broker):
    bulk_system, single_system = _systems()
    worker = SplitQueuesWorker(_database_url_for(connection.settings_dict))
    worker.start()
    try:
        with override_settings(**SPLIT):
            batches = [
                _post(client_for(bulk_system), 50, "bulk"),
                _post(client_for(single_system), 1, "single"),
            ]
        wait_until(lambda: all_done(batches), timeout=60)
    finally:
        worker.stop()
