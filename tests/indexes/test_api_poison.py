"""No input gives a 5xx (issue 12.2): poison values at every endpoint and method.

Out-of-range dates and offsets, huge numbers, NUL characters, wrong types, bad
cursors and page sizes, in bodies, paths, query strings and headers. Every answer
is a 4xx ``application/problem+json`` whose errors name the field at fault, and
nothing is written.
"""

# ruff: noqa: F811

import base64
import json

import pytest

from indexes.models import Case, IdempotencyKey, InboxBatch
from tests.indexes.api_support import (
    case_record,
    document_record,
    grant_record,
    kle,  # noqa: F401
    payment_record,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)
from tests.indexes.test_poison_dates import BAD_DATES, BAD_DATETIMES, DATE_FIELDS, put_at

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"
SEGMENTS = {"case": "cases", "document": "documents", "grant": "grants", "payment": "payments"}
HUGE = 10**400


def records() -> dict[str, dict]:
    return {
        "case": case_record("c-1"),
        "document": document_record("c-1", "d-1"),
        "grant": grant_record("g-1"),
        "payment": payment_record("g-1", "p-1"),
    }


@pytest.fixture
def client(source_system_client):
    source_system_client.raise_request_exception = False  # a 500 is an answer to check
    return source_system_client


def problem_of(response, *, status: int | None = None) -> dict:
    assert response.status_code < 500, response.content[:500]
    assert response.status_code >= 400, response.content[:500]
    if status is not None:
        assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith(PROBLEM)
    return response.json()


def pointers(body: dict) -> set[str]:
    return {error["pointer"] for error in body.get("errors", [])}


def put(client, kind, external_id, record, **headers):
    return client.put(
        f"/api/v1/{SEGMENTS[kind]}/{external_id}",
        data=json.dumps(record),
        content_type="application/json",
        **headers,
    )


def post(client, body, **headers):
    return client.post(
        "/api/v1/batches", data=json.dumps(body), content_type="application/json", **headers
    )


# --- dates and date-times in every field, by PUT and in a bulk POST --------------------------

POISON_DATES = [
    (kind, pointer, value)
    for kind, pointer, is_datetime in DATE_FIELDS
    for value in (BAD_DATETIMES if is_datetime else BAD_DATES)
]


@pytest.mark.parametrize(("kind", "pointer", "value"), POISON_DATES)
def test_a_put_with_a_date_the_index_cannot_store_is_a_422_naming_the_field(
    client, kind, pointer, value
):
    if kind in ("document", "payment"):  # what they name must exist
        put(client, "case", "c-1", records()["case"])
        put(client, "grant", "g-1", records()["grant"])
    record = put_at(records()[kind], pointer, value)
    body = problem_of(put(client, kind, record["external_id"], record), status=422)
    assert pointer in pointers(body)


def test_a_bulk_post_with_poison_dates_rejects_those_records_and_keeps_the_rest(client):
    items = [{"kind": "case", "record": case_record("good")}]
    for n, (kind, pointer, value) in enumerate(POISON_DATES[:40]):
        record = put_at(records()[kind], pointer, value) | {"external_id": f"x-{n}"}
        items.append({"kind": kind, "record": record})
    response = post(client, {"records": items})
    assert response.status_code == 202, response.content[:500]
    body = response.json()
    assert body["accepted"] == 1
    for rejection in body["rejected"]:
        kind, pointer, _ = POISON_DATES[rejection["index"] - 1]
        assert f"/records/{rejection['index']}/record{pointer}" in {
            p["pointer"] for p in rejection["problems"]
        }


@pytest.mark.parametrize(
    "value",
    [
        "2024-06-01T12:00:00+23:29",
        "2024-06-01T12:00:00-20:00",
        "9999-12-31T23:59:59+00:00",
        "0001-01-01T00:00:00+01:00",
        "2024-06-01T12:00:00\x00+02:00",
        "1" * 10000,
    ],
)
@pytest.mark.parametrize("where", ["header", "query"])
def test_a_delete_with_a_poison_timestamp_is_a_422_and_retracts_nothing(client, value, where):
    assert put(client, "case", "c-1", records()["case"]).status_code == 201
    if where == "header":
        response = client.delete("/api/v1/cases/c-1", HTTP_SOURCE_TIMESTAMP=value)
    else:
        response = client.delete("/api/v1/cases/c-1", QUERY_STRING=f"source_timestamp={value}")
    if where == "query" and "\x00" in value:
        assert "NUL" in problem_of(response, status=400)["detail"]  # config.middleware
    else:
        body = problem_of(response, status=422)
        assert pointers(body) == {"/source_timestamp"}
    assert Case.objects.get(external_id="c-1").retracted_at is None


# --- huge numbers, NUL characters and wrong types in bodies ----------------------------------

BODY_POISONS = [
    ("/source_timestamp", HUGE),
    ("/source_timestamp", 1e308),
    ("/created_on", HUGE),
    ("/created_on", "2024-04-01\x00"),
    ("/title", "Titel\x00med NUL"),
    ("/title", HUGE),
    ("/title", ["a list"]),
    ("/case_number", {"an": "object"}),
    ("/kle_number", "15.62.10\x00"),
    ("/party", "0101701234"),
    ("/party/cpr", HUGE),
    ("/progress", {"status": "Opstaaet"}),
    ("/progress/0/from", True),
    ("/progress/0/status", "Opstaaet\x00"),
    ("/related_cases", [HUGE]),
    ("/hidden_from_citizen", "no"),
    ("/title\x00", "an unknown field with a NUL in its name"),
]


@pytest.mark.parametrize(("pointer", "value"), BODY_POISONS)
def test_a_put_with_a_poison_value_is_a_422_naming_the_field(client, pointer, value):
    record = put_at(records()["case"], pointer, value)
    body = problem_of(put(client, "case", "c-1", record), status=422)
    assert pointer in pointers(body) or any(p.startswith(pointer + "/") for p in pointers(body))
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("/gross_amount", HUGE),
        ("/gross_amount", "1e400"),
        ("/gross_amount", 1e308),
        ("/gross_amount", "9" * 5000),
        ("/amount_sent", -(10**30)),
        ("/period", [1, 2]),
        ("/period/start", "2024-02-01\x00"),
    ],
)
def test_a_payment_with_a_poison_amount_or_period_is_a_422_naming_the_field(client, pointer, value):
    put(client, "grant", "g-1", records()["grant"])
    record = put_at(records()["payment"], pointer, value)
    body = problem_of(put(client, "payment", "p-1", record), status=422)
    assert pointer in pointers(body)


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"records": "not a list"}, "/records"),
        ({"records": [None]}, "/records/0"),
        ({"records": [{"kind": HUGE, "record": {}}]}, "/records/0/kind"),
        ({"records": [{"kind": "case\x00", "record": {}}]}, "/records/0/kind"),
        ({"records": [{"kind": "case", "record": "x"}]}, "/records/0/record"),
        (
            {"records": [{"kind": "case", "record": {"external_id": "a\x00b"}}]},
            "/records/0/record/external_id",
        ),
        (
            {"records": [{"kind": "case", "record": {"external_id": HUGE}}]},
            "/records/0/record/external_id",
        ),
        (
            {"records": [{"kind": "case", "record": {"ti\x00tle": "x"}}]},
            "/records/0/record/ti\x00tle",
        ),
        ({"records": [], "extra\x00": 1}, "/records"),
    ],
)
def test_a_bulk_post_with_poison_shapes_is_a_4xx_naming_the_field(client, body, pointer):
    response = post(client, body)
    problem = problem_of(response)
    assert any(p.replace("\x00", "\\u0000") == pointer.replace("\x00", "\\u0000") or p == pointer
               for p in pointers(problem)) or pointer in json.dumps(problem)  # fmt: skip
    assert not InboxBatch.objects.exists()


def test_a_bulk_post_whose_accepted_records_sit_beside_nul_rejections_is_stored(client):
    """The rejection of a record with NULs (its id, a field name) is stored without them."""
    items = [
        {"kind": "case", "record": case_record("good")},
        {"kind": "case", "record": case_record("a\x00b")},
        {"kind": "case", "record": case_record("c-2") | {"ti\x00tle": "x"}},
    ]
    response = post(client, {"records": items})
    assert response.status_code == 202, response.content[:500]
    body = response.json()
    assert body["accepted"] == 1 and len(body["rejected"]) == 2


# --- headers, cursors and page sizes ---------------------------------------------------------


@pytest.mark.parametrize("key", ["k\x00ey", "x" * 10000, "\x00"], ids=["nul", "long", "only-nul"])
def test_a_poison_idempotency_key_is_a_4xx(client, key):
    response = put(client, "case", "c-1", records()["case"], HTTP_IDEMPOTENCY_KEY=key)
    problem_of(response)
    assert not IdempotencyKey.objects.exists()
    response = post(
        client, {"records": [{"kind": "case", "record": case_record("c-2")}]},
        HTTP_IDEMPOTENCY_KEY=key,
    )  # fmt: skip
    problem_of(response)


@pytest.mark.parametrize("value", ['"1"\x00', "\x00", "W/" + '"' * 5000])
def test_a_poison_if_match_is_a_4xx(client, value):
    assert put(client, "case", "c-1", records()["case"]).status_code == 201
    problem_of(put(client, "case", "c-1", records()["case"], HTTP_IF_MATCH=value), status=412)
    problem_of(
        client.delete(
            "/api/v1/cases/c-1",
            HTTP_IF_MATCH=value,
            HTTP_SOURCE_TIMESTAMP="2025-01-01T00:00:00Z",
        ),
        status=412,
    )


def _cursor(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "query",
    [
        "cursor=garbage",
        "cursor=%00",
        f"cursor={_cursor('p=' + '9' * 400)}",
        f"cursor={_cursor('o=' + '9' * 400)}",
        f"cursor={_cursor('p=%00&o=-1')}",
        f"cursor={_cursor('o=-5&r=1')}",
        f"cursor={_cursor('p=abc')}",
        "page_size=-1",
        "page_size=0",
        "page_size=abc",
        "page_size=" + "9" * 400,
        "page_size=%00",
        "page_size=1e3",
    ],
)
@pytest.mark.parametrize("segment", SEGMENTS.values())
def test_a_list_with_a_poison_cursor_or_page_size_is_never_a_5xx(client, segment, query):
    put(client, "case", "c-1", records()["case"])
    response = client.get(f"/api/v1/{segment}?{query}")
    assert response.status_code < 500, response.content[:500]
    if response.status_code >= 400:
        body = problem_of(response)
        name = query.split("=", 1)[0]
        assert pointers(body) == {name} or "NUL" in body["detail"]  # config.middleware


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/batches/not-a-uuid",
        "/api/v1/batches/00000000-0000-0000-0000-000000000000",
        "/api/v1/cases/" + "x" * 5000,
        "/api/v1/cases/%00",
        "/api/v1/grants/" + "9" * 400,
    ],
)
@pytest.mark.parametrize("method", ["get", "put", "delete", "post", "patch"])
def test_poison_paths_and_methods_are_4xx(client, path, method):
    call = getattr(client, method)
    kwargs = {"data": json.dumps(records()["case"]), "content_type": "application/json"}
    response = call(path, **kwargs) if method in ("put", "post", "patch") else call(path)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
