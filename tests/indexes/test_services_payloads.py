"""The compiled validator and the DRF serializers of indexes.payloads agree on every value.

The serializers are the contract (and the OpenAPI schema); the ingestion path runs
them compiled for speed. Hypothesis puts arbitrary JSON values into every field of
valid records and checks both accept the same records, with the same converted
data, and reject the rest at the same places with the same codes.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ErrorDetail

from indexes.payloads import SERIALIZERS
from indexes.services.validation import shape_check

# DRF's codes for containers, and ours.
CONTAINER_CODES = {
    "not_a_list": "invalid_type",
    "empty": "required",
    "max_length": "too_many",
    "invalid": "invalid_type",
}

CASE = {
    "external_id": "case-1",
    "source_timestamp": "2024-05-01T10:00:00+02:00",
    "municipality": "461",
    "case_number": "S-1",
    "title": "Ansøgning om kontanthjælp",
    "description": "Første linje\r\nanden linje",
    "hidden_from_citizen": True,
    "kle_number": "32.18.02",
    "facet": "G01",
    "party": {"cpr": "010170-1234"},
    "created_on": "2024-04-02",
    "progress": [
        {"status": "Opstaaet", "from": "2024-04-02T09:00:00+02:00", "to": "2024-04-20T09:00:00Z"},
        {"status": "Oplyst", "from": "2024-04-20T09:00:00Z"},
    ],
    "related_cases": ["case-2"],
}
DOCUMENT = {
    "external_id": "doc-1",
    "source_timestamp": "2024-05-02T10:00:00+02:00",
    "municipality": "461",
    "title": "Afgørelse",
    "letter_date": "2024-05-02",
    "type": "Brev, udgaaende",
    "status": "Endeligt",
    "kle_number": None,
    "cases": [{"case_external_id": "case-1", "role": "Tilakteret"}],
}
GRANT = {
    "external_id": "grant-1",
    "source_timestamp": "2024-05-01T10:00:00+02:00",
    "municipality": "461",
    "party": {"cpr": "0101701234"},
    "start_on": "2024-04-01",
    "end_on": None,
    "status": "Aktiv",
    "related_case": "case-1",
    "benefits": [
        {
            "external_id": "b1",
            "name": "Kontanthjælp",
            "kind": "oekonomisk",
            "kle_number": "32.18.02",
            "start_on": "2024-04-01",
            "status": "Aktiv",
            "repayable": False,
            "payment_plan": {
                "frequency": "Månedlig",
                "timing": "Bagud",
                "payment_day": "Sidste bankdag",
                "amount": 12345.5,
            },
        }
    ],
}
PAYMENT = {
    "external_id": "payment-1",
    "source_timestamp": "2024-05-31T10:00:00+02:00",
    "municipality": "461",
    "grant_external_id": "grant-1",
    "benefit_external_id": "b1",
    "disposal_date": "2024-05-31",
    "period": {"start": "2024-05-01", "end": "2024-05-31"},
    "gross_amount": "12345.67",
    "amount_after_tax": 8765,
    "amount_paid": None,
}
RECORDS = {"case": CASE, "document": DOCUMENT, "grant": GRANT, "payment": PAYMENT}


def drf_problems(errors, pointer="") -> set[tuple[str, str]]:
    """DRF's nested errors as (JSON pointer, code) pairs."""
    found = set()
    if isinstance(errors, dict):
        for key, value in errors.items():
            here = pointer if key == "non_field_errors" else f"{pointer}/{key}"
            found |= drf_problems(value, here)
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if isinstance(value, ErrorDetail):
                found.add((pointer, CONTAINER_CODES.get(value.code, value.code)))
            elif value:  # a ListSerializer lists {} for the items without errors
                found |= drf_problems(value, f"{pointer}/{index}")
    return found


def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def both(kind: str, payload):
    serializer = SERIALIZERS[kind](data=payload)
    valid = serializer.is_valid()
    data, problems = shape_check(kind=kind, payload=payload)
    # DRF ignores unknown keys, ingestion refuses them (tested on its own below).
    problems = [p for p in problems if p.code != "unknown_field"]
    return (
        valid,
        plain(serializer.validated_data) if valid else drf_problems(serializer.errors),
        not problems,
        data if not problems else {(p.pointer, p.code) for p in problems},
    )


@pytest.mark.parametrize("kind", list(RECORDS))
def test_valid_records_convert_to_the_same_data(kind):
    drf_valid, drf_data, ours_valid, our_data = both(kind, RECORDS[kind])
    assert drf_valid and ours_valid
    assert drf_data == our_data


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(
        ["", " ", "461", "2024-05-01", "2024-05-01T10:00:00", "2024-05-01T10:00:00+02:00",
         "32.18", "32.18.02", "G01", "1.005", "-1", "12.50", "010170-1234", "3201701234",
         "Opstaaet", "Aktiv", "Tilakteret", "a\nb", "a\x00b", "x" * 300]
    ),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)  # fmt: skip


def paths(value, prefix=()):
    """Every path into a record (dict keys and list indexes)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from paths(item, (*prefix, index))


def replaced(record, path, new):
    if not path:
        return new
    copy = dict(record) if isinstance(record, dict) else list(record)
    copy[path[0]] = replaced(record[path[0]], path[1:], new)
    return copy


@settings(max_examples=1000, deadline=None)
@given(data=st.data())
def test_any_value_in_any_field_is_judged_alike(data):
    kind = data.draw(st.sampled_from(list(RECORDS)), label="kind")
    record = RECORDS[kind]
    path = data.draw(st.sampled_from(list(paths(record))), label="path")
    value = data.draw(json_values, label="value")
    payload = replaced(record, path, value)
    drf_valid, drf_result, ours_valid, our_result = both(kind, payload)
    assert drf_valid == ours_valid, (drf_result, our_result)
    assert drf_result == our_result


@pytest.mark.parametrize("kind", list(RECORDS))
def test_a_missing_field_is_judged_alike(kind):
    for key in RECORDS[kind]:
        payload = {k: v for k, v in RECORDS[kind].items() if k != key}
        drf_valid, drf_result, ours_valid, our_result = both(kind, payload)
        assert (drf_valid, drf_result) == (ours_valid, our_result), key


def test_unknown_fields_are_refused_by_the_compiled_validator_only():
    """DRF ignores unknown fields; ingestion refuses them (a misspelt flag must not pass)."""
    payload = CASE | {"hidden_from_citzen": True}
    assert SERIALIZERS["case"](data=payload).is_valid()
    _, problems = shape_check(kind="case", payload=payload)
    assert [(p.pointer, p.code) for p in problems] == [("/hidden_from_citzen", "unknown_field")]
