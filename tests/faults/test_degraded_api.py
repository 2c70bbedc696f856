"""The index API with its Redis cache down: deliveries are still accepted.

The rate limits count in Redis (the broker's, in production); the inbox is in
PostgreSQL. A cache that refuses connections must not turn every request into
a 500 (it did, found by test_ingestion_faults.py): the request is let through,
uncounted, and a warning is logged.
"""

import json
import logging

import pytest
from django.test import override_settings

from config.settings.base import cache_config
from indexes.models import InboxBatch
from tests.faults.services import free_port
from tests.indexes.api_support import case_record, client_for, kle_minimal, municipality_ensure

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_a_delivery_is_accepted_while_the_rate_limit_cache_refuses_connections(caplog):
    from indexes.models import SourceSystem

    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="SBSYS"
    )
    client = client_for(system)
    # Nothing listens on this port: every cache call is refused.
    dead = cache_config(f"redis://127.0.0.1:{free_port()}/0")
    with (
        override_settings(CACHES={"default": dead}, INDEXES_API_RATE="1/minute"),
        caplog.at_level(logging.WARNING, logger="indexes.api.throttling"),
    ):
        responses = [
            client.post(
                "/api/v1/batches",
                data=json.dumps({"records": [{"kind": "case", "record": case_record(f"c-{n}")}]}),
                content_type="application/json",
            )
            for n in range(2)
        ]
    # Both accepted (uncounted, so the 1/minute limit could not refuse the second).
    assert [r.status_code for r in responses] == [202, 202], responses[0].content
    assert InboxBatch.objects.filter(source_system=system).count() == 2
    assert "the cache does not answer (ConnectionError)" in caplog.text


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_stored_delivery_is_answered_202_when_the_database_fails_right_after_commit(
    monkeypatch, caplog
):
    """PostgreSQL dying between the commit and the enqueue (seen in the restart drill):
    the delivery is stored, so the answer is 202 and the sweeper enqueues it later."""
    from django.db import OperationalError

    from indexes.models import SourceSystem
    from indexes.services import inbox

    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="SBSYS"
    )

    def database_gone(*, batch_id):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr(inbox, "inbox_batch_enqueue", database_gone)
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"):
        response = client_for(system).post(
            "/api/v1/batches",
            data=json.dumps({"records": [{"kind": "case", "record": case_record("c-1")}]}),
            content_type="application/json",
        )
    assert response.status_code == 202, response.content
    batch = InboxBatch.objects.get(pk=response.json()["id"])
    assert batch.status == "pending" and batch.enqueued_at is None  # the sweeper's to enqueue
    assert "in on_commit()" in caplog.text
