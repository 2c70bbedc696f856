"""Dates and date-times the index cannot store are refused; one that slips through
poisons nothing (issue 12.1).

Three layers: validation bounds every date and date-time field of every kind to
what PostgreSQL and Europe/Copenhagen hold (years 0002-9998, UTC offsets within
±15:59); a record the database still refuses is rejected alone (``not_storable``)
while the rest of its chunk applies; the bounds are in the OpenAPI schema too.
"""

# ruff: noqa: F811

import copy
import datetime
import json
import re

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from indexes import payloads
from indexes.models import Case, Document, Grant, InboxBatch, InboxRecord, Payment
from indexes.selectors import record_to_payload
from indexes.services.inbox import inbox_batch_process
from indexes.services.ingestion import records_apply_many
from indexes.services.validation import shape_check
from tests.indexes.api_support import (
    case_record,
    document_record,
    grant_record,
    kle,  # noqa: F401
    payment_record,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

BAD_DATES = ["0001-01-01", "0001-12-31", "9999-01-01", "9999-12-31"]
BAD_DATETIMES = [
    "9999-12-31T23:59:59+00:00",  # Copenhagen is an hour ahead: year 10000
    "9999-01-01T00:00:00Z",
    "0001-01-01T00:30:00+01:00",  # UTC: year 0
    "0001-06-01T12:00:00Z",
    "2024-01-01T00:00:00+16:00",  # PostgreSQL: time zone displacement out of range
    "2024-01-01T00:00:00-16:00",
    "2024-01-01T00:00:00+23:59",
    "2024-01-01T00:00:00-23:29",
]
# The outermost values that are still stored (and shown in Copenhagen time).
EDGE_DATETIMES = ["0002-01-01T00:00:00+15:59", "9998-12-31T23:59:59-15:59"]


def samples() -> dict[str, dict]:
    """A valid record of each kind, with every optional object present."""
    grant = grant_record("g-1")
    return {
        "case": case_record("c-1", awaiting_party_since="2024-04-11T08:00:00+02:00"),
        "document": document_record("c-1", "d-1"),
        "grant": grant,
        "payment": payment_record("g-1", "p-1"),
    }


def date_fields(serializer, pointer: str = ""):
    """(pointer, field) of every date and date-time leaf of a wire format; lists at item 0."""
    for name, field in serializer.fields.items():
        here = f"{pointer}/{name}"
        if isinstance(field, serializers.ListSerializer):
            yield from date_fields(field.child, f"{here}/0")
        elif isinstance(field, serializers.Serializer):
            yield from date_fields(field, here)
        elif isinstance(field, payloads.DateField | payloads.DateTimeField):
            yield here, field


DATE_FIELDS = [
    (kind, pointer, isinstance(field, payloads.DateTimeField))
    for kind, serializer in payloads.SERIALIZERS.items()
    for pointer, field in date_fields(serializer())
]


def put_at(record: dict, pointer: str, value) -> dict:
    record = copy.deepcopy(record)
    *path, last = pointer.strip("/").split("/")
    here = record
    for part in path:
        here = here[int(part)] if isinstance(here, list) else here[part]
    here[last] = value
    return record


def test_every_kind_has_date_fields_and_the_walk_finds_the_nested_ones():
    pointers = {(kind, pointer) for kind, pointer, _ in DATE_FIELDS}
    assert {
        ("case", "/source_timestamp"),
        ("case", "/progress/0/from"),
        ("case", "/awaiting_party_since"),
        ("case", "/awaiting_party_due"),
        ("document", "/letter_date"),
        ("grant", "/benefits/0/payment_plan/end_on"),
        ("payment", "/period/start"),
    } <= pointers
    assert {kind for kind, _ in pointers} == set(payloads.SERIALIZERS)


@pytest.mark.parametrize(("kind", "pointer", "is_datetime"), DATE_FIELDS)
def test_every_date_field_refuses_what_cannot_be_stored_naming_the_field(
    kind, pointer, is_datetime
):
    record = samples()[kind]
    for value in BAD_DATETIMES if is_datetime else BAD_DATES:
        _, problems = shape_check(kind=kind, payload=put_at(record, pointer, value))
        assert [(p.pointer, p.code) for p in problems] == [(pointer, "out_of_range")], value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("\u0662\u0660\u0662\u0664-04-01", "invalid_date"),  # Arabic-Indic digits: Python's
        # parser takes them
        ("2024-04-0\x001", "invalid_date"),
        ("2024-06-01T12:00:00\x00+02:00", "invalid_datetime"),  # was accepted
        ("\u0662\u0660\u0662\u0664-06-01T12:00:00+02:00", "invalid_datetime"),
    ],
)
def test_dates_are_plain_ascii_as_the_schema_says(value, code):
    field = "/created_on" if code == "invalid_date" else "/source_timestamp"
    _, problems = shape_check(kind="case", payload=put_at(samples()["case"], field, value))
    assert [(p.pointer, p.code) for p in problems] == [(field, code)]


@pytest.mark.parametrize(("kind", "pointer", "is_datetime"), DATE_FIELDS)
def test_every_date_field_accepts_its_outermost_storable_values(kind, pointer, is_datetime):
    record = samples()[kind]
    for value in EDGE_DATETIMES if is_datetime else ["0002-01-01", "9998-12-31"]:
        _, problems = shape_check(kind=kind, payload=put_at(record, pointer, value))
        assert problems == [], value


@pytest.mark.parametrize("value", EDGE_DATETIMES)
def test_the_outermost_accepted_date_times_are_stored_and_read_back(source_system, value):
    """The bounds are not too loose: PostgreSQL and Copenhagen time hold both edges."""
    record = case_record("edge", source_timestamp=value)
    [outcome] = records_apply_many(source_system=source_system, items=[("case", record)])
    assert outcome.outcome == "created"
    case = Case.objects.get(pk=outcome.instance.pk)
    assert case.source_timestamp == datetime.datetime.fromisoformat(value)
    timezone.localtime(case.source_timestamp)  # no OverflowError
    assert record_to_payload(kind="case", instance=case)["source_timestamp"]


def test_the_schema_states_the_same_bounds():
    schema = SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]
    patterns = {}
    for name in ("CaseInRequest", "ProgressInRequest", "PeriodInRequest"):
        for prop, spec in schema[name]["properties"].items():
            if spec.get("format") in ("date", "date-time"):
                patterns[(name, prop)] = (spec["format"], spec["pattern"])
    assert patterns[("CaseInRequest", "source_timestamp")][0] == "date-time"
    assert patterns[("PeriodInRequest", "start")][0] == "date"
    for kind, pattern in patterns.values():
        bad = BAD_DATETIMES if kind == "date-time" else BAD_DATES
        good = EDGE_DATETIMES if kind == "date-time" else ["0002-01-01", "9998-12-31"]
        assert not any(re.search(pattern, value) for value in bad)
        assert all(re.search(pattern, value) for value in good)


# --- the worker: a record the database refuses is rejected alone ---------------------------


@pytest.fixture
def loose_validation(monkeypatch):
    """Validation without the bounds, as before the fix: what reaches the worker then."""
    monkeypatch.setattr(payloads, "DATE_MIN", datetime.date.min)
    monkeypatch.setattr(payloads, "DATE_MAX", datetime.date.max)
    monkeypatch.setattr(payloads, "MAX_UTC_OFFSET", datetime.timedelta(days=1))


def post(client, records):
    response = client.post(
        "/api/v1/batches", data=json.dumps({"records": records}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return response.json()


@pytest.mark.parametrize("poison", BAD_DATETIMES[:1] + BAD_DATETIMES[2:3] + BAD_DATETIMES[4:5])
def test_a_record_the_database_refuses_is_rejected_and_the_rest_of_its_chunk_applies(
    source_system_client, loose_validation, poison
):
    records = [
        {"kind": "document", "record": document_record("c-1", "d-1")},  # names a later case
        {"kind": "case", "record": case_record("c-poison", source_timestamp=poison)},
        {"kind": "case", "record": case_record("c-1")},
        {"kind": "grant", "record": grant_record("g-1")},
        {"kind": "payment", "record": payment_record("g-1", "p-1")},
        {"kind": "case", "record": case_record("c-2")},
        {
            "kind": "grant",
            "record": grant_record("g-poison", start_on="9999-12-31", source_timestamp=poison),
        },
        {"kind": "case", "record": case_record("c-3")},
    ]
    body = post(source_system_client, records)
    assert body["accepted"] == len(records)  # validation let the poison through

    batch = inbox_batch_process(batch_id=body["id"])

    assert batch.status == InboxBatch.Status.DONE
    outcomes = dict(InboxRecord.objects.filter(batch=batch).values_list("external_id", "outcome"))
    assert outcomes == {
        "d-1": "created",
        "c-poison": "rejected",
        "c-1": "created",
        "g-1": "created",
        "p-1": "created",
        "c-2": "created",
        "g-poison": "rejected",
        "c-3": "created",
    }
    problems = InboxRecord.objects.get(batch=batch, external_id="c-poison").problems
    assert [p["code"] for p in problems] == ["not_storable"]
    assert set(Case.objects.values_list("external_id", flat=True)) == {"c-1", "c-2", "c-3"}
    assert Document.objects.count() == Payment.objects.count() == Grant.objects.count() == 1


def test_a_single_put_the_database_refuses_is_a_422_problem(source_system_client, loose_validation):
    record = case_record("c-1", source_timestamp="2024-01-01T00:00:00+16:00")
    response = source_system_client.put(
        "/api/v1/cases/c-1", data=json.dumps(record), content_type="application/json"
    )
    assert response.status_code == 422, response.content
    assert [e["code"] for e in response.json()["errors"]] == ["not_storable"]
    assert not Case.objects.exists()
