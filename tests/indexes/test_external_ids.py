"""External ids and case numbers (issues 12.8, 12.12): what the API takes as an id.

An external id appears in URLs and logs, so one that looks like a CPR number is
refused wherever it enters (the path of every operation, a record's own id, the ids
a record names, bulk records) with a problem that names the field and never repeats
the number, in the answer or in any log line. Ids are printable ASCII of bounded
length; case numbers are printable ASCII too, so two spellings of one visible number
(a fullwidth digit, a zero-width space) cannot both be accepted.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json
import logging
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from indexes.models import Case, InboxRecord
from indexes.payloads import ExternalIdField, external_id_problem
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

# Valid CPR numbers (birth date and century) in the shapes the detector knows.
CPR_IDS = ["0101701234", "010170-1234", "sag-0101701234", "x/010170-1234/y"]
SEGMENTS = ["cases", "documents", "grants", "payments"]


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def _no_trace(value: str, text: str) -> None:
    """Neither the id nor its ten digits (with or without the dash) occur in ``text``."""
    digits = _digits(value)[-10:]
    for form in {value, digits, f"{digits[:6]}-{digits[6:]}"}:
        assert form not in text, form


@pytest.fixture
def raw_logs():
    """Every log message of the test as the code made it, before any filter rewrote it
    (the console handler's CPR filter redacts records in place, so ``caplog`` cannot tell)."""
    messages: list[str] = []
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        messages.append(record.getMessage())
        return record

    logging.setLogRecordFactory(factory)
    logging.disable(logging.NOTSET)
    yield messages
    logging.setLogRecordFactory(previous)


def _logged(messages: list[str]) -> str:
    return "\n".join(messages)


def _put(client, path, record):
    return client.put(path, data=json.dumps(record), content_type="application/json")


RECORDS = {
    "cases": lambda external_id: case_record(external_id),
    "documents": lambda external_id: document_record("c-1", external_id),
    "grants": lambda external_id: grant_record(external_id),
    "payments": lambda external_id: payment_record("g-1", external_id),
}


@pytest.mark.parametrize("segment", SEGMENTS)
@pytest.mark.parametrize("method", ["put", "get", "delete"])
@pytest.mark.parametrize("external_id", CPR_IDS)
def test_a_cpr_shaped_id_in_the_path_is_refused_naming_the_field_never_the_number(
    source_system_client, raw_logs, segment, method, external_id
):
    path = f"/api/v1/{segment}/{external_id}"
    if method == "put":
        response = _put(source_system_client, path, RECORDS[segment](external_id))
    elif method == "delete":
        response = source_system_client.delete(
            path, HTTP_SOURCE_TIMESTAMP="2024-06-01T00:00:00+02:00"
        )
    else:
        response = source_system_client.get(path)
    assert response.status_code == 422, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [(e["pointer"], e["code"]) for e in errors] == [("/external_id", "cpr_shaped")]
    assert "CPR" in errors[0]["message"]
    _no_trace(external_id, response.content.decode())
    _no_trace(external_id, _logged(raw_logs))
    # Django logs every 4xx with its path: the line is there, without the number.
    assert any(m.startswith("Unprocessable") for m in raw_logs), raw_logs
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("segment", "record", "pointer"),
    [
        ("documents", document_record("010170-1234"), "/cases/0/case_external_id"),
        ("payments", payment_record("0101701234"), "/grant_external_id"),
        (
            "payments",
            payment_record("g-1", benefit_external_id="b0101701234"),
            "/benefit_external_id",
        ),
        ("cases", case_record(related_cases=["0101701234"]), "/related_cases/0"),
        ("grants", grant_record(related_case="0101701234"), "/related_case"),
        (
            "grants",
            grant_record(benefits=[grant_record()["benefits"][0] | {"external_id": "010170-1234"}]),
            "/benefits/0/external_id",
        ),
        (
            "grants",
            grant_record(benefits=[grant_record()["benefits"][0] | {"related_case": "0101701234"}]),
            "/benefits/0/related_case",
        ),
    ],
)
def test_a_cpr_shaped_id_named_in_a_body_is_refused(
    source_system_client, raw_logs, segment, record, pointer
):
    response = _put(source_system_client, f"/api/v1/{segment}/{record['external_id']}", record)
    assert response.status_code == 422, response.content
    codes = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
    assert (pointer, "cpr_shaped") in codes, codes
    _no_trace("0101701234", response.content.decode())
    _no_trace("0101701234", _logged(raw_logs))


def test_a_bulk_record_with_a_cpr_shaped_id_is_rejected_and_its_id_not_echoed(
    source_system_client, raw_logs
):
    response = source_system_client.post(
        "/api/v1/batches",
        data=json.dumps(
            {
                "records": [
                    {"kind": "case", "record": case_record("ok-1")},
                    {"kind": "case", "record": case_record("010170-1234")},
                ]
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["accepted"] == 1
    [rejection] = body["rejected"]
    assert rejection["index"] == 1
    assert rejection["external_id"] == ""
    assert {(p["pointer"], p["code"]) for p in rejection["problems"]} == {
        ("/records/1/record/external_id", "cpr_shaped")
    }
    _no_trace("0101701234", response.content.decode())
    _no_trace("0101701234", _logged(raw_logs))
    stored = InboxRecord.objects.get(position=1)
    assert stored.external_id == ""
    _no_trace("0101701234", json.dumps(stored.problems))
    detail = source_system_client.get(body["url"])
    _no_trace("0101701234", detail.content.decode())


@pytest.mark.parametrize(
    ("external_id", "code"),
    [
        ("sag 1", "invalid_external_id"),  # a space: not in a URL path as it is
        ("sag-ø", "invalid_external_id"),  # non-ASCII
        ("sag\u200b1", "invalid_external_id"),  # zero-width space
        ("\uff11\uff12\uff13", "invalid_external_id"),  # fullwidth digits look like 123
        ("a%2Fb", "invalid_external_id"),  # "%": percent-encoding is the URL's, not the id's
        ("a//b", "invalid_external_id"),  # empty path segment
        ("a/../b", "invalid_external_id"),  # dot segments are removed by URL clients
        ("./a", "invalid_external_id"),
        # Python's "$" matches before a final line break: the id's format is a full match.
        ("sag-1\n", "invalid_external_id"),
        ("x" * 101, "too_long"),
    ],
)
def test_an_id_outside_printable_url_ascii_is_refused(source_system_client, external_id, code):
    response = source_system_client.post(
        "/api/v1/batches",
        data=json.dumps(
            {
                "records": [
                    {"kind": "case", "record": case_record("ok-1")},
                    {"kind": "case", "record": case_record(external_id, case_number="S-2")},
                ]
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    [rejection] = response.json()["rejected"]
    assert {(p["pointer"], p["code"]) for p in rejection["problems"]} == {
        ("/records/1/record/external_id", code)
    }


@pytest.mark.parametrize(
    "external_id",
    ["sbsys-4711", "FAS-0000001-A", "YD-0000123-U202401", "100001", "a/b.c", "x:y@z~_!$&'()*+,;="],
)
def test_ids_of_printable_url_ascii_are_accepted_and_read_back(source_system_client, external_id):
    response = _put(source_system_client, f"/api/v1/cases/{external_id}", case_record(external_id))
    assert response.status_code == 201, response.content
    assert source_system_client.get(f"/api/v1/cases/{external_id}").status_code == 200


@pytest.mark.parametrize(
    ("case_number", "code"),
    [
        ("2024-\uff11\uff12\uff13", "not_ascii"),  # fullwidth digits: looks like 2024-123
        ("2024-123\u200b", "invalid_character"),  # zero-width space
        ("2024\u00ad-123", "invalid_character"),  # soft hyphen (Cf)
        ("2024-12\u0033\u0301", "not_ascii"),  # a combining accent
        ("2024\u2011123", "not_ascii"),  # non-breaking hyphen
        ("2024\t123", "invalid_character"),
    ],
)
def test_case_numbers_with_invisible_or_lookalike_characters_are_refused(
    source_system_client, case_number, code
):
    response = _put(
        source_system_client, "/api/v1/cases/c-1", case_record("c-1", case_number=case_number)
    )
    assert response.status_code == 422, response.content
    codes = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
    assert codes == {("/case_number", code)}, codes


@pytest.mark.parametrize("field", ["related_case_number"])
def test_related_case_numbers_follow_the_case_number_rule(source_system_client, field):
    benefit = grant_record()["benefits"][0]
    for record, pointer in [
        (grant_record("g-1", **{field: "2024\u200b-1"}), f"/{field}"),
        (
            grant_record("g-2", benefits=[benefit | {field: "\uff12\uff10\uff12\uff14-1"}]),
            f"/benefits/0/{field}",
        ),
    ]:
        response = _put(source_system_client, f"/api/v1/grants/{record['external_id']}", record)
        assert response.status_code == 422, response.content
        codes = {e["pointer"] for e in response.json()["errors"]}
        assert codes == {pointer}, codes


def test_a_case_number_with_surrounding_spaces_is_the_same_number(source_system_client):
    """Leading and trailing spaces are trimmed, so " 2024-1 " and "2024-1" are one number."""
    first = _put(
        source_system_client, "/api/v1/cases/c-1", case_record("c-1", case_number=" 2024-1 ")
    )
    assert first.status_code == 201, first.content
    assert Case.objects.get(external_id="c-1").case_number == "2024-1"
    second = _put(
        source_system_client, "/api/v1/cases/c-2", case_record("c-2", case_number="2024-1")
    )
    assert second.status_code == 422
    assert second.json()["errors"][0]["code"] == "case_number_taken"


# A random UUID whose digits look like a CPR number (about 5 in 10,000 do): "ab010170-1234".
UUID_WITH_CPR_DIGITS = "ab010170-1234-4c5d-8e9f-a0b1c2d3e4f5"


@settings(max_examples=500, deadline=None)
@given(value=st.uuids(version=4).map(str))
def test_every_uuid4_in_canonical_form_is_an_external_id(value):
    """Ids are often SF1470 UUIDIdentifikatorer: none is refused as ``cpr_shaped``, also
    when its digits happen to look like a CPR number — in either case, and as the schema
    says (``docs/openapi.yaml``'s pattern, read by Python's ``re``)."""
    for form in (value, value.upper()):
        assert external_id_problem(form) is None, form
        schema = ExternalIdField().schema()
        assert re.search(schema["pattern"], form)
        assert any(
            ("pattern" in rule and re.search(rule["pattern"], form))
            or ("not" in rule and not re.search(rule["not"]["pattern"], form))
            for rule in schema["anyOf"]
        )


@pytest.mark.parametrize(
    "external_id",
    [
        "ab010170-1234",  # a UUID's start, no UUID
        "sag-ab010170-1234-4c5d-8e9f-a0b1c2d3e4f5",  # a UUID inside a longer id
        "ab010170-1234-4c5d-8e9f-a0b1c2d3e4f5/x",
        "ab010170-1234-4c5d-8e9f-a0b1c2d3e4f",  # 11 digits in the last part
        "ab010170-1234-4c5d-8e9f-a0b1c2d3e4fg",  # not hexadecimal
        "0101701234",
    ],
)
def test_a_cpr_in_an_id_that_is_not_a_canonical_uuid_is_still_refused(external_id):
    problem = external_id_problem(external_id)
    assert problem is not None and problem.code == "cpr_shaped", external_id
    schema = ExternalIdField().schema()
    assert not re.search(schema["anyOf"][0]["pattern"], external_id)
    assert re.search(schema["anyOf"][1]["not"]["pattern"], external_id)


@pytest.mark.parametrize("segment", SEGMENTS)
def test_a_uuid_with_cpr_like_digits_is_stored_read_and_retracted(source_system_client, segment):
    path = f"/api/v1/{segment}/{UUID_WITH_CPR_DIGITS}"
    record = RECORDS[segment](UUID_WITH_CPR_DIGITS)
    if segment == "grants":  # its benefit's id "<uuid>-b1" is no UUID, so it would be refused
        record["benefits"][0]["external_id"] = "b-1"
    if segment == "documents":
        assert _put(source_system_client, "/api/v1/cases/c-1", case_record("c-1")).status_code in (
            200,
            201,
        )
    if segment == "payments":
        grant = grant_record("g-1")
        assert _put(source_system_client, "/api/v1/grants/g-1", grant).status_code in (200, 201)
    response = _put(source_system_client, path, record)
    assert response.status_code in (200, 201), response.content
    assert source_system_client.get(path).json()["external_id"] == UUID_WITH_CPR_DIGITS
    deleted = source_system_client.delete(path, HTTP_SOURCE_TIMESTAMP="2030-01-01T00:00:00+01:00")
    assert deleted.status_code in (200, 204), deleted.content
