"""What the Schemathesis run found in the index API, pinned as plain tests."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest

from indexes.models import Case
from tests.indexes.api_support import (
    case_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]


def _put(client, external_id, record, **headers):
    return client.put(
        f"/api/v1/cases/{external_id}",
        data=json.dumps(record),
        content_type="application/json",
        **headers,
    )


@pytest.mark.parametrize(
    "header, query",
    [
        ("2024-13-45T10:00:00+00:00", None),  # well formed, impossible: was a 500
        ("2024-02-30T10:00:00Z", None),
        (None, None),  # missing
        ("2024-06-01T10:00:00Z", ""),  # a valid header does not hide a query form
        ("2024-06-01T10:00:00Z", "yesterday"),
        ("2024-06-01T10:00:00+16:00", None),  # offset beyond what PostgreSQL stores
        ("2024-06-01T10:00:00", None),  # naive
    ],
)
def test_retraction_timestamps_are_checked_in_every_form(source_system_client, header, query):
    client = source_system_client
    assert _put(client, "c-1", case_record("c-1")).status_code == 201
    extra = {"HTTP_SOURCE_TIMESTAMP": header} if header is not None else {}
    path = "/api/v1/cases/c-1" + (f"?source_timestamp={query}" if query is not None else "")
    response = client.delete(path, **extra)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["pointer"] == "/source_timestamp"
    assert Case.objects.get(external_id="c-1").retracted_at is None


def test_an_invalid_body_is_named_before_a_failed_precondition(source_system_client):
    response = _put(
        source_system_client,
        "c-2",
        case_record("c-2", kle_number="no.such"),
        HTTP_IF_MATCH='"7"',
    )
    assert response.status_code == 422
    assert {e["pointer"] for e in response.json()["errors"]} == {"/kle_number"}
    # A valid body with a stale ETag is still a 412.
    response = _put(source_system_client, "c-2", case_record("c-2"), HTTP_IF_MATCH='"7"')
    assert response.status_code == 412
    assert not Case.objects.filter(external_id="c-2").exists()


def test_an_external_id_with_a_line_break_is_a_404_problem(source_system_client):
    response = _put(source_system_client, "a%0Ab", case_record("a\nb"))
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_timestamp_before_1894_reads_back_as_rfc_3339(source_system_client):
    """Copenhagen's local mean time (+00:50:20) has seconds, which RFC 3339 offsets lack."""
    record = case_record("c-3", source_timestamp="1850-01-01T10:00:00+00:00")
    assert _put(source_system_client, "c-3", record).status_code == 201
    body = source_system_client.get("/api/v1/cases/c-3").json()
    assert body["source_timestamp"] == "1850-01-01T10:00:00+00:00"
