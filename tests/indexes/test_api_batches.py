"""Bulk delivery: validation per record, durable inbox, per-record results."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json
from datetime import timedelta

import pytest
from django.test import override_settings

from borgerblikket.models import RetentionRun
from borgerblikket.services.retention import retention_run
from indexes.models import Case, Document, InboxBatch, InboxRecord
from indexes.services.inbox import inbox_batch_process
from tests.indexes.api_support import (
    case_record,
    document_record,
    kle,  # noqa: F401
    other_system,  # noqa: F401
    other_system_client,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"
BAD_CPR = "3102701234"


def post(client, records, **headers):
    return client.post(
        "/api/v1/batches",
        data=json.dumps({"records": records}),
        content_type="application/json",
        **headers,
    )


def test_mixed_batch_accepts_the_good_records_and_reports_each_rejection(source_system_client):
    records = [
        {"kind": "case", "record": case_record("c-1")},
        {"kind": "case", "record": case_record("c-2", party={"cpr": BAD_CPR})},
        {"kind": "document", "record": document_record("c-1", "d-1")},
        {"kind": "folder", "record": {}},
    ]
    response = post(source_system_client, records)
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["received"] == 4 and body["accepted"] == 2
    assert [(r["index"], r["problems"][0]["pointer"]) for r in body["rejected"]] == [
        (1, "/records/1/record/party/cpr"),
        (3, "/records/3/kind"),
    ]
    assert BAD_CPR not in response.content.decode()
    assert response["Location"].endswith(body["url"])
    # Durable before the answer, nothing applied yet, no data of rejected records kept.
    batch = InboxBatch.objects.get(pk=body["id"])
    assert batch.status == "pending"
    assert list(batch.records.values_list("position", "outcome")) == [
        (0, "pending"),
        (1, "rejected"),
        (2, "pending"),
        (3, "rejected"),
    ]
    assert batch.records.get(position=1).payload == {}
    assert not Case.objects.exists()

    inbox_batch_process(batch_id=batch.id)

    status = source_system_client.get(body["url"])
    assert status.status_code == 200
    result = status.json()
    assert result["status"] == "done"
    assert [(r["index"], r["outcome"]) for r in result["records"]] == [
        (0, "created"),
        (1, "rejected"),
        (2, "created"),
        (3, "rejected"),
    ]
    assert result["records"][1]["problems"][0]["code"] == "invalid_cpr"
    assert Case.objects.get().external_id == "c-1"
    assert Document.objects.get().external_id == "d-1"


def test_processing_twice_applies_nothing_twice(source_system_client):
    response = post(source_system_client, [{"kind": "case", "record": case_record("c-1")}])
    batch_id = response.json()["id"]
    inbox_batch_process(batch_id=batch_id)
    version = Case.objects.get().version
    inbox_batch_process(batch_id=batch_id)
    assert Case.objects.get().version == version
    assert InboxRecord.objects.get().outcome == "created"


def test_a_batch_of_only_rejected_records_is_422_and_writes_nothing(source_system_client):
    response = post(
        source_system_client,
        [{"kind": "case", "record": case_record("c-1", kle_number="15.62.77")}],
    )
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] == "/records/0/record/kle_number"
    assert not InboxBatch.objects.exists()


@pytest.mark.parametrize(
    ("body", "pointer"),
    [({"records": []}, "/records"), ({"records": "x"}, "/records"), ({}, "/records")],
)
def test_bad_envelope_is_422(source_system_client, body, pointer):
    response = source_system_client.post(
        "/api/v1/batches", data=json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == pointer
    assert not InboxBatch.objects.exists()


def test_more_than_1000_records_is_refused(source_system_client):
    records = [{"kind": "case", "record": {"external_id": str(i)}} for i in range(1001)]
    response = post(source_system_client, records)
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "batch_size"
    assert not InboxBatch.objects.exists()


@override_settings(INDEXES_API_MAX_BODY_BYTES=10_000)
def test_a_too_large_batch_is_413(source_system_client):
    records = [{"kind": "case", "record": case_record(f"c-{i}")} for i in range(50)]
    response = post(source_system_client, records)
    assert response.status_code == 413
    assert response["Content-Type"] == PROBLEM
    assert not InboxBatch.objects.exists()


def test_a_batch_belongs_to_its_source_system_only(source_system_client, other_system_client):
    batch_id = post(source_system_client, [{"kind": "case", "record": case_record()}]).json()["id"]
    theirs = other_system_client.get(f"/api/v1/batches/{batch_id}")
    missing = other_system_client.get("/api/v1/batches/00000000-0000-0000-0000-000000000000")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


def test_a_batch_past_its_retention_answers_404_with_the_documented_problem(
    source_system_client, settings
):
    """docs/api.md, "Batch status": a done batch is kept OVERBLIK_INBOX_RETENTION_DAYS
    after it finished; the nightly retention run then deletes it and its id is a 404 that
    says so — the same answer as an unknown id (no trace is kept of what was deleted)."""
    settings.OVERBLIK_INBOX_RETENTION_DAYS = 30
    url = post(source_system_client, [{"kind": "case", "record": case_record()}]).json()["url"]
    batch_id = url.rstrip("/").rsplit("/", 1)[-1]
    inbox_batch_process(batch_id=batch_id)
    finished = InboxBatch.objects.get(pk=batch_id).finished_at
    retention_run(trigger=RetentionRun.Trigger.COMMAND, now=finished + timedelta(days=30))
    assert source_system_client.get(url).status_code == 200  # kept the whole 30 days

    retention_run(trigger=RetentionRun.Trigger.COMMAND, now=finished + timedelta(days=31))
    expired = source_system_client.get(url)
    unknown = source_system_client.get("/api/v1/batches/00000000-0000-0000-0000-000000000000")
    assert expired.status_code == 404
    assert expired["Content-Type"] == PROBLEM
    assert expired.json() == unknown.json()
    problem = expired.json()
    assert problem["type"] == "urn:overblik:problem:not-found"
    assert "30 dage" in problem["detail"] and "slettet" in problem["detail"]
    assert not InboxRecord.objects.exists()
    assert Case.objects.count() == 1  # the delivery log goes; the index keeps the case


def test_idempotency_key_replays_the_same_batch(source_system_client):
    records = [{"kind": "case", "record": case_record("c-1")}]
    first = post(source_system_client, records, HTTP_IDEMPOTENCY_KEY="b-1")
    again = post(source_system_client, records, HTTP_IDEMPOTENCY_KEY="b-1")
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert InboxBatch.objects.count() == 1
    different = post(
        source_system_client,
        [{"kind": "case", "record": case_record("c-2")}],
        HTTP_IDEMPOTENCY_KEY="b-1",
    )
    assert different.status_code == 422
    assert InboxBatch.objects.count() == 1
