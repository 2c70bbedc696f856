"""Every bad input gets its status code and a problem+json body naming the field,
and leaves nothing written."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest
from django.test import override_settings

from indexes.models import Case, Change, Document, Grant, IdempotencyKey, Payment
from tests.indexes.api_support import (
    case_record,
    grant_record,
    kle,  # noqa: F401
    payment_record,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"
BAD_CPR = "3102701234"  # 31 February: not a CPR number


def _counts():
    return [
        model.objects.count() for model in (Case, Document, Grant, Payment, Change, IdempotencyKey)
    ]


def _assert_problem(response, status: int, pointer: str | None = None, code: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    if pointer is not None:
        pointers = {(e["pointer"], e["code"]) for e in body["errors"]}
        assert any(p == pointer and (code is None or c == code) for p, c in pointers), pointers
    return body


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"party": {"cpr": BAD_CPR}}, "/party/cpr", "invalid_cpr"),
        ({"kle_number": "15.62.77"}, "/kle_number", "unknown_kle"),
        ({"kle_number": "15.62.99"}, "/kle_number", "kle_expired"),
        ({"facet": "G99"}, "/facet", None),
        ({"municipality": "999"}, "/municipality", None),
        ({"title": ""}, "/title", None),
        ({"created_on": "2024-13-01"}, "/created_on", None),
    ],
)
def test_bad_case_is_422_naming_the_field(source_system_client, change, pointer, code):
    before = _counts()
    response = source_system_client.put(
        "/api/v1/cases/c-1",
        data=json.dumps(case_record("c-1", **change)),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    _assert_problem(response, 422, pointer, code)
    assert BAD_CPR not in response.content.decode()
    assert _counts() == before


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"gross_amount": "-1.00"}, "/gross_amount", "negative_amount"),
        ({"amount_after_tax": "10.005"}, "/amount_after_tax", "too_many_decimals"),
        ({"period": {"start": "2024-02-29", "end": "2024-02-01"}}, "/period", None),
    ],
)
def test_bad_payment_is_422_naming_the_field(source_system_client, change, pointer, code):
    source_system_client.put(
        "/api/v1/grants/g-1", data=json.dumps(grant_record("g-1")), content_type="application/json"
    )
    before = _counts()
    response = source_system_client.put(
        "/api/v1/payments/p-1",
        data=json.dumps(payment_record("g-1", "p-1", **change)),
        content_type="application/json",
    )
    body = _assert_problem(response, 422)
    assert any(
        e["pointer"].startswith(pointer) and (code is None or e["code"] == code)
        for e in body["errors"]
    ), body
    assert _counts() == before


def test_wrong_content_type_is_415(source_system_client):
    before = _counts()
    response = source_system_client.put(
        "/api/v1/cases/c-1",
        data="external_id=c-1",
        content_type="application/x-www-form-urlencoded",
    )
    _assert_problem(response, 415)
    assert _counts() == before


def test_malformed_json_is_400(source_system_client):
    response = source_system_client.put(
        "/api/v1/cases/c-1", data='{"external_id": "c-1",', content_type="application/json"
    )
    _assert_problem(response, 400)
    assert not Case.objects.exists()


@override_settings(INDEXES_API_MAX_BODY_BYTES=1000)
def test_body_too_large_is_413_before_it_is_read(source_system_client):
    record = case_record("c-1", description="x" * 2000)
    response = source_system_client.put(
        "/api/v1/cases/c-1", data=json.dumps(record), content_type="application/json"
    )
    _assert_problem(response, 413)
    assert not Case.objects.exists()


def test_missing_or_wrong_credentials_are_401_with_a_challenge(client):
    for headers in (
        {},
        {"HTTP_AUTHORIZATION": "Bearer nope.nope"},
        {"HTTP_AUTHORIZATION": "Basic eA=="},
    ):
        response = client.get("/api/v1/cases", **headers)
        _assert_problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")


def test_unknown_api_path_and_method_are_problems(source_system_client):
    _assert_problem(source_system_client.get("/api/v1/nothing-here"), 404)
    _assert_problem(source_system_client.get("/api/v1/cases/unknown-id"), 404)
    _assert_problem(source_system_client.post("/api/v1/cases", data={}, format="json"), 405)


def test_a_body_that_is_not_an_object_is_422(source_system_client):
    response = source_system_client.put(
        "/api/v1/cases/c-1", data="[1, 2]", content_type="application/json"
    )
    _assert_problem(response, 422, "")
