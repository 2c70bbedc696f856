"""What the municipality waits for and by when: ``awaiting_party_due`` (a date) and
``awaiting_party_reason`` (one line of plain text), beside ``awaiting_party_since``
(issue 14, "Deadlines and expected times").

Both belong to a wait: without ``awaiting_party_since`` they are refused
(``due_without_wait``, ``reason_without_wait``), and a due date before the day the
wait began is refused (``due_before_wait``); every problem names its field. Through
every path: the API, DRF and the compiled validator alike, the change history, the
bulk path, the read-back and the database's own constraint.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import datetime
import json

import pytest
from django.db import IntegrityError, transaction

from indexes.models import Case
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
DUE = "2024-04-26"
REASON = "Send lønsedler for de seneste tre måneder"
WAIT = {"awaiting_party_since": SINCE, "awaiting_party_due": DUE, "awaiting_party_reason": REASON}


def put(client, external_id, record):
    return client.put(
        f"/api/v1/cases/{external_id}", data=json.dumps(record), content_type="application/json"
    )


def problems(response) -> set[tuple[str, str]]:
    return {(e["pointer"], e["code"]) for e in response.json()["errors"]}


def test_the_api_stores_reads_back_and_clears_what_and_by_when(source_system_client):
    response = put(source_system_client, "d-1", case_record("d-1", **WAIT))
    assert response.status_code == 201, response.content
    case = Case.objects.get(external_id="d-1")
    assert case.awaiting_party_due == datetime.date(2024, 4, 26)
    assert case.awaiting_party_reason == REASON
    read = source_system_client.get("/api/v1/cases/d-1").json()
    assert (read["awaiting_party_due"], read["awaiting_party_reason"]) == (DUE, REASON)

    # The wait ends: the three are left out (or null/empty) together.
    cleared = put(source_system_client, "d-1", case_record("d-1", minutes=5))
    assert cleared.json()["outcome"] == "updated"
    case.refresh_from_db()
    assert (case.awaiting_party_due, case.awaiting_party_reason) == (None, "")
    read = source_system_client.get("/api/v1/cases/d-1").json()
    assert (read["awaiting_party_due"], read["awaiting_party_reason"]) == (None, "")


def test_a_wait_without_a_due_date_or_a_reason_is_accepted(source_system_client):
    response = put(source_system_client, "d-2", case_record("d-2", awaiting_party_since=SINCE))
    assert response.status_code == 201, response.content
    only_due = put(
        source_system_client,
        "d-3",
        case_record("d-3", awaiting_party_since=SINCE, awaiting_party_due=DUE),
    )
    assert only_due.status_code == 201, only_due.content
    # A due date already passed is a wait gone overdue, not an error; the day the wait
    # began is the earliest due date.
    passed = put(
        source_system_client,
        "d-4",
        case_record("d-4", awaiting_party_since=SINCE, awaiting_party_due="2024-04-12"),
    )
    assert passed.status_code == 201, passed.content


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"awaiting_party_due": DUE}, "/awaiting_party_due", "due_without_wait"),
        ({"awaiting_party_reason": REASON}, "/awaiting_party_reason", "reason_without_wait"),
        (WAIT | {"awaiting_party_due": "2024-04-11"}, "/awaiting_party_due", "due_before_wait"),
        (WAIT | {"awaiting_party_due": "26-04-2024"}, "/awaiting_party_due", "invalid_date"),
        (WAIT | {"awaiting_party_due": SINCE}, "/awaiting_party_due", "invalid_date"),
        (WAIT | {"awaiting_party_due": 20240426}, "/awaiting_party_due", "invalid_date"),
        (
            WAIT | {"awaiting_party_reason": "Send lønsedler\nog kontoudtog"},
            "/awaiting_party_reason",
            "not_single_line",
        ),
        (
            WAIT | {"awaiting_party_reason": "Send\x07 lønsedler"},
            "/awaiting_party_reason",
            "invalid_character",
        ),
        (WAIT | {"awaiting_party_reason": "x" * 256}, "/awaiting_party_reason", "too_long"),
        (WAIT | {"awaiting_party_reason": 17}, "/awaiting_party_reason", "invalid_type"),
    ],
)
def test_the_api_rejects_a_wrong_due_date_or_reason_naming_the_field(
    source_system_client, change, pointer, code
):
    response = put(source_system_client, "d-5", case_record("d-5") | change)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert (pointer, code) in problems(response)
    assert not Case.objects.filter(external_id="d-5").exists()


def test_a_closed_case_waits_for_nothing_and_by_no_date(source_system_client):
    closed = [
        {"status": "Opstaaet", "from": "2024-04-01T09:00:00+02:00", "to": "2024-04-10T09:00:00+02:00"},
        {"status": "Afsluttet", "from": "2024-04-10T09:00:00+02:00"},
    ]  # fmt: skip
    response = put(source_system_client, "d-6", case_record("d-6", progress=closed) | WAIT)
    assert response.status_code == 422
    assert ("/awaiting_party_since", "awaiting_closed_case") in problems(response)
    without_since = {k: v for k, v in WAIT.items() if k != "awaiting_party_since"}
    response = put(source_system_client, "d-6", case_record("d-6", progress=closed) | without_since)
    assert {("/awaiting_party_due", "due_without_wait"),
            ("/awaiting_party_reason", "reason_without_wait")} <= problems(response)  # fmt: skip


@pytest.mark.parametrize(
    ("due", "reason"),
    [
        (DUE, REASON),
        (None, ""),
        ("2024-04-26T00:00:00+02:00", REASON),
        (DUE, "  Send lønsedler  "),
        (DUE, "a\nb"),
        (DUE, "x" * 255),
        (DUE, "x" * 256),
        (DUE, None),
        ("", REASON),
    ],
)
def test_drf_and_the_compiled_validator_agree(due, reason):
    record = case_record(
        "d-7", awaiting_party_since=SINCE, awaiting_party_due=due, awaiting_party_reason=reason
    )
    serializer = CaseIn(data=record)
    drf_ok = serializer.is_valid()
    data, found = shape_check(kind="case", payload=record)
    assert drf_ok == (not found), (serializer.errors, found)
    if drf_ok:
        for name in ("awaiting_party_due", "awaiting_party_reason"):
            assert serializer.validated_data[name] == data[name]


def test_the_change_history_records_what_and_by_when(source_system):
    first = record_apply(source_system=source_system, kind="case", payload=case_record("d-8"))
    record_apply(
        source_system=source_system, kind="case", payload=case_record("d-8", minutes=5, **WAIT)
    )
    later = WAIT | {"awaiting_party_due": "2024-05-03"}
    record_apply(
        source_system=source_system, kind="case", payload=case_record("d-8", minutes=7, **later)
    )
    record_apply(source_system=source_system, kind="case", payload=case_record("d-8", minutes=9))
    changes = list(record_changes(kind="case", instance=first.instance))
    assert [c.version for c in changes] == [1, 2, 3, 4]
    assert "awaiting_party_due" not in changes[0].diff  # absent on a new case: not listed
    assert changes[1].diff == {
        "awaiting_party_since": [None, SINCE],
        "awaiting_party_due": [None, DUE],
        "awaiting_party_reason": ["", REASON],
    }
    assert changes[2].diff == {"awaiting_party_due": [DUE, "2024-05-03"]}
    assert changes[3].diff == {
        "awaiting_party_since": [SINCE, None],
        "awaiting_party_due": ["2024-05-03", None],
        "awaiting_party_reason": [REASON, ""],
    }


def test_the_bulk_path_stores_what_and_by_when(source_system):
    records = [case_record(f"d-b{n}", **(WAIT if n % 2 else {})) for n in range(4)]
    outcomes = records_apply_many(
        source_system=source_system, items=[("case", record) for record in records]
    )
    assert {o.outcome for o in outcomes} == {"created"}
    stored = dict(
        Case.objects.filter(external_id__startswith="d-b").values_list(
            "external_id", "awaiting_party_reason"
        )
    )
    assert stored == {"d-b0": "", "d-b1": REASON, "d-b2": "", "d-b3": REASON}
    due = Case.objects.filter(awaiting_party_due=datetime.date(2024, 4, 26))
    assert set(due.values_list("external_id", flat=True)) == {"d-b1", "d-b3"}


@pytest.mark.parametrize(
    "update",
    [
        {"awaiting_party_due": datetime.date(2024, 4, 26)},
        {"awaiting_party_reason": REASON},
    ],
)
def test_the_database_refuses_a_due_date_or_reason_without_a_wait(source_system, update):
    outcome = record_apply(source_system=source_system, kind="case", payload=case_record("d-9"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(pk=outcome.instance.pk).update(**update)
