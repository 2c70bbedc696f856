"""Hostile JSON bodies against the index API: always a 4xx problem, never a 5xx, nothing written.

Schemathesis (test_api_fuzz.py) sends what the schema describes; this sends
what no schema describes: bytes that are not JSON, nesting deeper than the
parser's stack, numbers no column holds, lone UTF-16 surrogates, NUL bytes and
wrong types in every field. tests/indexes/test_services_payloads.py already
checks the validator's verdict for any value in any field; here the whole
request path is under test (parser, middleware, views, PostgreSQL).
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import contextlib
import json
import sys

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from indexes.models import Case, InboxBatch
from tests.indexes.api_support import (
    CPR,
    case_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CASE_FIELDS = sorted(case_record("x"))

# Strings with what breaks naive code: NUL and other controls, lone surrogates
# (json.dumps escapes them as \ud800), right-to-left marks, combining marks.
nasty_text = st.one_of(
    st.text(max_size=30),
    st.text(
        alphabet=st.sampled_from(["\x00", "\x1f", "\ud800", "\udfff", "\u202e", "\u0301", "a"]),
        min_size=1,
        max_size=10,
    ),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["1e400", "-1e400", "1" * 4400, "0." + "0" * 5000 + "1", "1e-400"]),
)
json_values = st.recursive(
    st.none() | st.booleans() | huge_numbers.filter(lambda v: not isinstance(v, str)) | nasty_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(nasty_text, children, max_size=3)
    ),
    max_leaves=8,
)


@contextlib.contextmanager
def _example():
    """Each example in a savepoint of its own, rolled back: every one starts from an
    empty index. (A record an earlier example stored would make the next valid value a
    conflicting redelivery: same source_timestamp, other content, 409.)"""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def _counts():
    return Case.objects.count(), InboxBatch.objects.count()


def _assert_problem(response, *, statuses=(400, 413, 415, 422)):
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == response.status_code
    assert CPR not in response.content.decode()
    return body


def _send(client, method, path, body: bytes):
    return getattr(client, method)(path, data=body, content_type="application/json")


ENDPOINTS = [("put", "/api/v1/cases/c-1"), ("post", "/api/v1/batches")]


@pytest.mark.parametrize("method, path", ENDPOINTS)
@FUZZ
@given(body=st.binary(max_size=200))
def test_bytes_that_are_not_json_are_400(source_system_client, method, path, body):
    with _example():
        before = _counts()
        response = _send(source_system_client, method, path, body)
        try:
            json.loads(body or b"{}")  # no body at all is DRF's empty data: a 422
        except ValueError:
            assert _assert_problem(response, statuses=(400,))["type"].endswith("malformed-json")
        else:  # the odd byte string that is JSON (e.g. b"1") is not a record
            _assert_problem(response)
        assert _counts() == before


@pytest.mark.parametrize("method, path", ENDPOINTS)
@FUZZ
@given(data=st.data())
def test_a_mutated_record_is_refused_or_stored_whole(source_system_client, method, path, data):
    """Byte-level damage to a valid body: a 400/422 problem, or (if it survived) a 2xx."""
    with _example():
        record = json.dumps(case_record("c-1")).encode()
        if method == "post":
            record = b'{"records": [{"kind": "case", "record": ' + record + b"}]}"
        start = data.draw(st.integers(0, len(record) - 1))
        end = data.draw(st.integers(start, min(len(record), start + 8)))
        insert = data.draw(st.binary(max_size=6) | st.sampled_from([b"\\u0000", b"\\ud800", b"[["]))
        body = record[:start] + insert + record[end:]
        before = _counts()
        response = _send(source_system_client, method, path, body)
        if response.status_code < 300:
            return  # an edit that kept the record valid (e.g. a changed title)
        _assert_problem(response)
        assert _counts() == before


@pytest.mark.parametrize("method, path", ENDPOINTS)
@FUZZ
@given(depth=st.integers(1, 3000), opener=st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_a_problem_not_a_crash(source_system_client, method, path, depth, opener):
    with _example():
        closer = "]" if opener == "[" else "}"
        nested = opener * depth + "1" + closer * depth
        body = json.dumps(case_record("c-1", title="x")).replace('"x"', nested).encode()
        if method == "post":
            body = b'{"records": [{"kind": "case", "record": ' + body + b"}]}"
        before = _counts()
        body_json = _assert_problem(_send(source_system_client, method, path, body))
        pointers = [e["pointer"] for e in body_json.get("errors", [])]
        assert any(p.endswith("/title") or p == "" for p in pointers), pointers
        assert _counts() == before


@pytest.mark.parametrize("method, path", ENDPOINTS)
@pytest.mark.parametrize("recursion_limit", [None, 20_000])
@pytest.mark.parametrize("depth", [65, 500, 880, 896, 897, 990, 2500, 9000])
def test_nesting_beyond_the_bound_is_too_deep_whatever_the_recursion_limit(
    source_system_client, method, path, depth, recursion_limit
):
    """The bound is the parser's own, not Python's recursion limit: a body the parser took
    at one stack depth once failed deeper in DRF (json.dumps: RecursionError, a 500) —
    at depths 896-897 with the default limit, and wherever a raised limit let it parse."""
    original = sys.getrecursionlimit()
    nested = "[" * depth + "1" + "]" * depth
    body = json.dumps(case_record("c-1", title="x")).replace('"x"', nested).encode()
    if method == "post":
        body = b'{"records": [{"kind": "case", "record": ' + body + b"}]}"
    sys.setrecursionlimit(recursion_limit or original)  # Hypothesis raises it, for one
    try:
        problem = _assert_problem(_send(source_system_client, method, path, body), statuses=(400,))
    finally:
        sys.setrecursionlimit(original)
    assert problem["type"].endswith("malformed-json")
    assert [e["code"] for e in problem["errors"]] == ["too_deep"]
    assert not Case.objects.exists() and not InboxBatch.objects.exists()


@FUZZ
@given(field=st.sampled_from(CASE_FIELDS), value=json_values)
# Two valid values in a row: the second must be judged on its own, not as a
# conflicting redelivery of the first (same source_timestamp, other content).
@example(field="title", value="Første titel")
@example(field="title", value="Anden titel")
def test_any_value_in_any_field_is_judged_naming_the_field(source_system_client, field, value):
    with _example():
        record = case_record("c-1") | {field: value}
        body = json.dumps(record).encode()  # surrogates escaped, floats as Python writes them
        before = _counts()
        response = _send(source_system_client, "put", "/api/v1/cases/c-1", body)
        if response.status_code in (200, 201):
            return  # the value is a valid one for that field
        problem = _assert_problem(response)
        pointers = [e["pointer"] for e in problem.get("errors", [])]
        assert pointers, problem
        assert all(p == f"/{field}" or p.startswith(f"/{field}/") for p in pointers), (
            field,
            pointers,
        )
        assert _counts() == before


@FUZZ
@given(number=huge_numbers)
def test_huge_and_tiny_amounts_are_refused_or_stored_exactly(source_system_client, number):
    with _example():
        raw = number if isinstance(number, str) else json.dumps(number)
        record = json.dumps(case_record("c-1")).encode()
        body = record[:-1] + b', "progress_extra": ' + raw.encode() + b"}"
        # An unknown field holding the number: refused naming it, whatever the number.
        problem = _assert_problem(_send(source_system_client, "put", "/api/v1/cases/c-1", body))
        assert problem["type"].endswith(("malformed-json", "invalid-record")), problem
        assert not Case.objects.exists()
