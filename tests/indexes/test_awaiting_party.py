"""``awaiting_party_since``: the municipality waits for the citizen ("Afventer dig").

Through every path a case takes: the API (accepts, rejects naming the field),
the DRF serializer and the compiled validator (the same verdicts), the change
history, the bulk path and the read-back.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import datetime
import json

import pytest

from indexes.models import Case, Change
from indexes.payloads import CaseIn
from indexes.selectors import record_changes
from indexes.services.ingestion import record_apply, records_apply_many
from indexes.services.validation import shape_check
from tests.indexes.api_support import (
    case_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("kle")]

SINCE = "2024-04-12T10:30:00+02:00"
CLOSED = [
    {"status": "Opstaaet", "from": "2024-04-01T09:00:00+02:00", "to": "2024-04-10T09:00:00+02:00"},
    {"status": "Afsluttet", "from": "2024-04-10T09:00:00+02:00"},
]


def put(client, external_id, record):
    return client.put(
        f"/api/v1/cases/{external_id}", data=json.dumps(record), content_type="application/json"
    )


def problems(response) -> set[tuple[str, str]]:
    return {(e["pointer"], e["code"]) for e in response.json()["errors"]}


def test_the_api_stores_reads_back_and_clears_the_wait(source_system_client):
    response = put(source_system_client, "w-1", case_record("w-1", awaiting_party_since=SINCE))
    assert response.status_code == 201, response.content
    case = Case.objects.get(external_id="w-1")
    assert case.awaiting_party_since == datetime.datetime.fromisoformat(SINCE)
    read = source_system_client.get("/api/v1/cases/w-1").json()
    assert read["awaiting_party_since"] == SINCE

    # null ends the wait; leaving the field out means the same.
    cleared = put(
        source_system_client,
        "w-1",
        case_record("w-1", minutes=5, awaiting_party_since=None),
    )
    assert cleared.json()["outcome"] == "updated"
    assert Case.objects.get(external_id="w-1").awaiting_party_since is None
    again = put(source_system_client, "w-1", case_record("w-1", minutes=10))
    assert again.json()["outcome"] == "unchanged"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"awaiting_party_since": "2024-04-12"}, "invalid_datetime"),
        ({"awaiting_party_since": "2024-04-12T10:30:00"}, "timezone_required"),
        ({"awaiting_party_since": True}, "invalid_datetime"),
        ({"awaiting_party_since": SINCE, "progress": CLOSED}, "awaiting_closed_case"),
        ({"awaiting_party_since": "2024-03-31T23:00:00+02:00"}, "awaiting_before_created"),
    ],
)
def test_the_api_rejects_a_wrong_wait_naming_the_field(source_system_client, change, code):
    response = put(source_system_client, "w-2", case_record("w-2") | change)
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert ("/awaiting_party_since", code) in problems(response)
    assert not Case.objects.filter(external_id="w-2").exists()


@pytest.mark.parametrize(
    "value",
    [SINCE, None, "2024-04-12", "2024-04-12T10:30:00", 17, "2024-04-12T10:30:00Z", ""],
)
def test_drf_and_the_compiled_validator_agree(value):
    record = case_record("w-3", awaiting_party_since=value)
    serializer = CaseIn(data=record)
    drf_ok = serializer.is_valid()
    data, found = shape_check(kind="case", payload=record)
    compiled_ok = not found
    assert drf_ok == compiled_ok, (serializer.errors, found)
    if drf_ok:
        assert serializer.validated_data["awaiting_party_since"] == data["awaiting_party_since"]


def test_the_change_history_records_the_wait_beginning_and_ending(source_system):
    first = record_apply(source_system=source_system, kind="case", payload=case_record("w-4"))
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-4", minutes=5, awaiting_party_since=SINCE),
    )
    record_apply(source_system=source_system, kind="case", payload=case_record("w-4", minutes=9))
    changes = list(record_changes(kind="case", instance=first.instance))
    assert [c.version for c in changes] == [1, 2, 3]
    assert "awaiting_party_since" not in changes[0].diff  # absent on a new case: not listed
    assert changes[1].diff == {"awaiting_party_since": [None, SINCE]}
    assert changes[2].diff == {"awaiting_party_since": [SINCE, None]}
    assert Change.objects.count() == 3


def test_the_bulk_path_stores_the_wait(source_system):
    records = [
        case_record(f"w-b{n}", awaiting_party_since=SINCE if n % 2 else None) for n in range(6)
    ]
    outcomes = records_apply_many(
        source_system=source_system, items=[("case", record) for record in records]
    )
    assert {o.outcome for o in outcomes} == {"created"}
    waiting = set(
        Case.objects.filter(awaiting_party_since__isnull=False).values_list(
            "external_id", flat=True
        )
    )
    assert waiting == {"w-b1", "w-b3", "w-b5"}


def test_the_database_refuses_a_closed_case_that_waits(source_system):
    from django.db import IntegrityError, transaction

    outcome = record_apply(
        source_system=source_system, kind="case", payload=case_record("w-5", progress=CLOSED)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=outcome.instance.pk).update(
            awaiting_party_since=datetime.datetime.fromisoformat(SINCE)
        )


# --- Issue 11.10: the wait brings the case forward -------------------------------------------

OPLYST = datetime.datetime.fromisoformat("2024-04-10T09:00:00+02:00")


def _last_changed(external_id: str) -> datetime.datetime:
    return Case.objects.get(external_id=external_id).last_changed_at


def test_a_wait_beginning_moves_the_cases_last_change_to_it(source_system):
    """When the municipality starts waiting, the case has changed: it moves up the
    citizen's lists and is marked new (the portal compares last_changed_at)."""
    record_apply(source_system=source_system, kind="case", payload=case_record("w-6"))
    assert _last_changed("w-6") == OPLYST
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-6", minutes=5, awaiting_party_since=SINCE),
    )
    assert _last_changed("w-6") == datetime.datetime.fromisoformat(SINCE)


def test_a_wait_ending_moves_the_last_change_to_when_the_source_ended_it(source_system):
    """The wait's end is dated by the delivery that ended it (its source timestamp):
    the case does not fall back to its last status change."""
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-7", awaiting_party_since=SINCE),
    )
    ended = case_record("w-7", minutes=9)
    record_apply(source_system=source_system, kind="case", payload=ended)
    assert _last_changed("w-7") == datetime.datetime.fromisoformat(ended["source_timestamp"])


def test_a_wait_older_than_the_status_change_does_not_move_the_case_back(source_system):
    earlier = "2024-04-05T08:00:00+02:00"
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-8", awaiting_party_since=earlier),
    )
    assert _last_changed("w-8") == OPLYST


def test_the_bulk_path_moves_the_last_change_too(source_system):
    records_apply_many(
        source_system=source_system,
        items=[("case", case_record("w-b9", awaiting_party_since=SINCE))],
    )
    assert _last_changed("w-b9") == datetime.datetime.fromisoformat(SINCE)


def test_a_later_update_keeps_the_date_a_wait_ended(source_system):
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-10", awaiting_party_since=SINCE),
    )
    ended = case_record("w-10", minutes=9)
    record_apply(source_system=source_system, kind="case", payload=ended)
    record_apply(
        source_system=source_system,
        kind="case",
        payload=case_record("w-10", minutes=20, title="Bevilling af rollator og stok"),
    )
    assert _last_changed("w-10") == datetime.datetime.fromisoformat(ended["source_timestamp"])
