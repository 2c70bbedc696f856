"""The index API per record: PUT (upsert), DELETE (retract), GET one and list."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest

from indexes.models import Case, Change, DataAccess
from tests.indexes.api_support import (
    CPR,
    OTHER_CPR,
    case_record,
    client_for,
    kle,  # noqa: F401
    other_system,  # noqa: F401
    other_system_client,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"


def put(client, path, record, **headers):
    return client.put(path, data=json.dumps(record), content_type="application/json", **headers)


def test_put_creates_then_replay_is_unchanged_and_newer_updates(source_system_client):
    record = case_record("c-1")
    response = put(source_system_client, "/api/v1/cases/c-1", record)
    assert response.status_code == 201, response.content
    assert response.json() == {
        "kind": "case",
        "external_id": "c-1",
        "outcome": "created",
        "version": 1,
    }
    assert response["ETag"] == '"1"'
    assert response["Location"].endswith("/api/v1/cases/c-1")

    again = put(source_system_client, "/api/v1/cases/c-1", record)
    assert again.status_code == 200
    assert again.json()["outcome"] == "unchanged"
    assert again["ETag"] == '"1"'

    newer = put(
        source_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", minutes=5, title="Afslag på hjælpemiddel"),
    )
    assert newer.json()["outcome"] == "updated"
    assert newer["ETag"] == '"2"'
    assert Case.objects.get(external_id="c-1").title == "Afslag på hjælpemiddel"


def test_put_with_an_older_source_timestamp_is_stale_and_writes_nothing(source_system_client):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1", minutes=10, title="Ny titel"))
    changes = Change.objects.count()
    response = put(
        source_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", minutes=1, title="Gammel titel"),
    )
    assert response.status_code == 200
    assert response.json()["outcome"] == "stale"
    assert Case.objects.get(external_id="c-1").title == "Ny titel"
    assert Change.objects.count() == changes


def test_put_external_id_in_body_must_match_url(source_system_client):
    response = put(source_system_client, "/api/v1/cases/c-1", case_record("c-2"))
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["errors"][0]["pointer"] == "/external_id"
    assert not Case.objects.exists()


def test_get_returns_the_record_with_etag_and_logs_one_read_per_citizen(source_system_client):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    response = source_system_client.get("/api/v1/cases/c-1")
    assert response.status_code == 200
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["external_id"] == "c-1"
    assert body["party"] == {"cpr": CPR}
    log = DataAccess.objects.get()
    assert log.citizen_cpr == CPR
    assert log.actor_type == "source_system"
    assert log.source_system_id is not None


def test_list_is_paginated_own_records_only_and_logs_each_citizen_once(
    source_system_client, other_system_client
):
    for index in range(3):
        put(source_system_client, f"/api/v1/cases/c-{index}", case_record(f"c-{index}", cpr=CPR))
    put(source_system_client, "/api/v1/cases/c-x", case_record("c-x", cpr=OTHER_CPR))
    put(
        other_system_client,
        "/api/v1/cases/k-1",
        case_record("k-1", municipality="101", case_number="K-1"),
    )
    DataAccess.objects.all().delete()

    first = source_system_client.get("/api/v1/cases?page_size=2")
    assert first.status_code == 200
    page = first.json()
    assert [r["external_id"] for r in page["results"]] == ["c-0", "c-1"]
    second = source_system_client.get(page["next"])
    assert [r["external_id"] for r in second.json()["results"]] == ["c-2", "c-x"]
    assert second.json()["next"] is None
    # Page 1: one citizen (twice) -> one row; page 2: two citizens -> two rows.
    assert DataAccess.objects.count() == 3
    assert sorted(DataAccess.objects.values_list("citizen_cpr", flat=True)) == sorted(
        [CPR, CPR, OTHER_CPR]
    )


def test_if_match_guards_put_and_delete(source_system_client):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1", minutes=1, title="Version 2"))
    stale_etag = put(
        source_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", minutes=2, title="Version 3"),
        HTTP_IF_MATCH='"1"',
    )
    assert stale_etag.status_code == 412
    assert stale_etag["Content-Type"] == PROBLEM
    assert Case.objects.get(external_id="c-1").title == "Version 2"

    ok = put(
        source_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", minutes=2, title="Version 3"),
        HTTP_IF_MATCH='"2"',
    )
    assert ok.status_code == 200 and ok["ETag"] == '"3"'

    refused = source_system_client.delete(
        "/api/v1/cases/c-1", HTTP_SOURCE_TIMESTAMP="2024-05-02T10:00:00+02:00", HTTP_IF_MATCH='"2"'
    )
    assert refused.status_code == 412
    assert Case.objects.get(external_id="c-1").retracted_at is None
    # If-Match on a record that does not exist fails too (RFC 9110 §13.1.1).
    missing = put(source_system_client, "/api/v1/cases/c-9", case_record("c-9"), HTTP_IF_MATCH="*")
    assert missing.status_code == 412
    assert not Case.objects.filter(external_id="c-9").exists()


def test_delete_needs_a_source_timestamp_and_retracts(source_system_client):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    missing = source_system_client.delete("/api/v1/cases/c-1")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["pointer"] == "/source_timestamp"
    assert Case.objects.get(external_id="c-1").retracted_at is None

    response = source_system_client.delete(
        "/api/v1/cases/c-1", HTTP_SOURCE_TIMESTAMP="2024-05-02T10:00:00+02:00"
    )
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "retracted"
    assert Case.objects.get(external_id="c-1").retracted_at is not None

    # The same retraction again changes nothing more.
    again = source_system_client.delete(
        "/api/v1/cases/c-1", HTTP_SOURCE_TIMESTAMP="2024-05-02T10:00:00+02:00"
    )
    assert again.status_code == 200
    assert again.json()["outcome"] in ("unchanged", "retracted")
    assert again.json()["version"] == response.json()["version"]


@pytest.mark.parametrize("header", [None, "2024-05-02T10:00:00+02:00"])
def test_a_retraction_time_as_a_query_parameter_is_refused_by_name(source_system_client, header):
    """The header is the one form (the OpenAPI contract says so); the old query form is named."""
    source_system_client.put("/api/v1/cases/c-1", case_record("c-1"), format="json")
    extra = {"HTTP_SOURCE_TIMESTAMP": header} if header else {}
    response = source_system_client.delete(
        "/api/v1/cases/c-1?source_timestamp=2024-05-02T10:00:00%2B02:00", **extra
    )
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == PROBLEM
    [error] = response.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/source_timestamp", "header_required")
    assert "Source-Timestamp header" in error["message"]
    assert Case.objects.get(external_id="c-1").retracted_at is None


def test_delete_of_an_unknown_record_is_404(source_system_client):
    response = source_system_client.delete(
        "/api/v1/cases/nope", HTTP_SOURCE_TIMESTAMP="2024-05-02T10:00:00+02:00"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM


def test_idempotency_key_replays_the_stored_answer_and_refuses_a_different_body(
    source_system_client,
):
    record = case_record("c-1")
    first = put(source_system_client, "/api/v1/cases/c-1", record, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    changes = Change.objects.count()

    replay = put(source_system_client, "/api/v1/cases/c-1", record, HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 201  # the stored answer, not "unchanged"
    assert replay.json() == first.json()
    assert replay["ETag"] == first["ETag"]
    assert replay["Idempotent-Replayed"] == "true"
    assert Change.objects.count() == changes

    other = put(
        source_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", minutes=3, title="Andet"),
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("idempotency-key-reused")
    assert Case.objects.get(external_id="c-1").title == record["title"]


def test_idempotency_keys_are_per_source_system(source_system_client, other_system_client):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"), HTTP_IDEMPOTENCY_KEY="same")
    response = put(
        other_system_client,
        "/api/v1/cases/c-1",
        case_record("c-1", municipality="101", case_number="K-1"),
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert response.status_code == 201
    assert Case.objects.filter(external_id="c-1").count() == 2


def test_another_system_cannot_read_or_retract_and_learns_nothing(
    source_system_client, other_system_client
):
    put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    theirs = other_system_client.get("/api/v1/cases/c-1")
    missing = other_system_client.get("/api/v1/cases/does-not-exist")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert theirs.headers.get("ETag") is None
    retract = other_system_client.delete(
        "/api/v1/cases/c-1", HTTP_SOURCE_TIMESTAMP="2024-06-01T10:00:00+02:00"
    )
    retract_missing = other_system_client.delete(
        "/api/v1/cases/does-not-exist", HTTP_SOURCE_TIMESTAMP="2024-06-01T10:00:00+02:00"
    )
    assert retract.status_code == retract_missing.status_code == 404
    assert retract.json() == retract_missing.json()
    assert Case.objects.get(external_id="c-1").retracted_at is None
    assert other_system_client.get("/api/v1/cases").json()["results"] == []
    assert not DataAccess.objects.exists()


def test_a_system_cannot_write_another_municipalitys_records(other_system_client):
    # other_system belongs to København (101); the record says Odense (461).
    response = put(other_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/municipality"
    assert not Case.objects.exists()


def test_revoked_key_is_refused(source_system):
    from indexes.models import ApiCredential
    from indexes.services.credentials import credential_revoke

    client = client_for(source_system)
    assert client.get("/api/v1/cases").status_code == 200
    credential_revoke(credential=ApiCredential.objects.get(source_system=source_system))
    response = client.get("/api/v1/cases")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
