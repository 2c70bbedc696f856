"""Events back delivered by a real Celery worker to a real local HTTP receiver (issue 18)."""

import time

import pytest

from indexes.models import WebhookDelivery
from indexes.services.ingestion import record_apply
from tests.indexes import api_support as api
from tests.indexes.test_webhooks import Receiver, free_port, subscribe

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_worker_delivers_each_records_events_in_order_after_the_commit(celery_worker):
    from indexes.models import SourceSystem

    api.kle_minimal()
    system = SourceSystem.objects.create(
        municipality=api.municipality_ensure("461"), product="SBSYS", name="SBSYS"
    )
    receiver = Receiver("", free_port())
    subscription = subscribe(system, receiver.url)
    receiver.secret = subscription.secret
    receiver.start()
    try:
        for version in range(3):
            for n in range(10):
                record = api.case_record(
                    f"w-{n}", minutes=version, title=f"Afgørelse om hjælp {version}"
                )
                record_apply(source_system=system, kind="case", payload=record)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(receiver.acked) < 30:
            time.sleep(0.1)
    finally:
        receiver.stop()
    assert len(receiver.acked) == 30
    assert receiver.after_ack == []
    for n in range(10):
        versions = [
            e["data"]["version"] for e in receiver.acked_events if e["subject"] == f"case/w-{n}"
        ]
        assert versions == [1, 2, 3]
    assert not WebhookDelivery.objects.exclude(status="delivered").exists()
