"""``?dry_run=true``: every write answers what it would do and writes nothing (issue 18).

Each test sends the dry run first, checks the database is unchanged to the byte (the
row count and an md5 of every row of every ``indexes_*`` table), then sends the same
request for real and requires the same outcome and problem document.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest
from django.db import DatabaseError, connection, transaction

from indexes.models import Case, IdempotencyKey, InboxBatch
from indexes.services.inbox import PROCESS_CHUNK, inbox_batch_process
from indexes.services.ingestion.dry_run import nothing_written
from tests.indexes.api_support import (
    case_record,
    document_record,
    grant_record,
    kle,  # noqa: F401
    payment_record,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
    timestamp,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("kle")]


@pytest.fixture(autouse=True)
def key_used(source_system_client):
    """The key's ``last_used_at`` is stamped on its first use (then at most once a
    minute): authentication's bookkeeping, before and apart from any dry run."""
    assert source_system_client.get("/api/v1/cases").status_code == 200


SEGMENT = {"case": "cases", "document": "documents", "grant": "grants", "payment": "payments"}


def index_tables() -> dict[str, tuple[int, str]]:
    """Every ``indexes_*`` table: (row count, md5 of all its rows in text form)."""
    tables = sorted(t for t in connection.introspection.table_names() if t.startswith("indexes_"))
    state = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "
                f'FROM "{table}" t'
            )
            state[table] = cursor.fetchone()
    return state


def send(client, method: str, url: str, body=None, *, dry: bool, **headers):
    if dry:
        url += ("&" if "?" in url else "?") + "dry_run=true"
    data = json.dumps(body) if body is not None else None
    return getattr(client, method.lower())(
        url, data=data, content_type="application/json", **headers
    )


def dry_then_real(client, method: str, url: str, body=None, **headers):
    """The dry run (which must leave every index table as it was), then the real write."""
    before = index_tables()
    dry = send(client, method, url, body, dry=True, **headers)
    assert index_tables() == before, "a dry run changed the database"
    assert dry["Dry-Run"] == "true"
    real = send(client, method, url, body, dry=False, **headers)
    return dry, real


def assert_same_answer(dry, real) -> None:
    assert dry.status_code < 500 and real.status_code < 500, (dry.content, real.content)
    if real.status_code >= 400:
        assert (dry.status_code, dry.json()) == (real.status_code, real.json())
        return
    assert dry.status_code == 200, dry.content
    body = dry.json()
    assert body.pop("dry_run") is True
    assert body == real.json()
    assert "ETag" not in dry and "Location" not in dry


def put(client, kind: str, record: dict, **headers):
    return dry_then_real(
        client, "PUT", f"/api/v1/{SEGMENT[kind]}/{record['external_id']}", record, **headers
    )


def delete(client, kind: str, external_id: str, minutes: int, **headers):
    return dry_then_real(
        client,
        "DELETE",
        f"/api/v1/{SEGMENT[kind]}/{external_id}",
        HTTP_SOURCE_TIMESTAMP=timestamp(minutes),
        **headers,
    )


def real_put(client, kind: str, record: dict):
    response = send(
        client, "PUT", f"/api/v1/{SEGMENT[kind]}/{record['external_id']}", record, dry=False
    )
    assert response.status_code in (200, 201), response.content
    return response


def records_of(kind: str, client) -> tuple:
    """Three deliveries of one record of ``kind`` (with what it needs delivered already):
    the first, a newer one with other content, an older one."""
    if kind == "case":
        make = lambda minutes, **over: case_record("r-1", minutes=minutes, **over)  # noqa: E731
        changed = {"title": "Afslag på hjælpemiddel"}
    elif kind == "document":
        real_put(client, "case", case_record("c-of-doc"))
        make = lambda minutes, **over: document_record("c-of-doc", "r-1", minutes=minutes, **over)  # noqa: E731
        changed = {"title": "Partshøring"}
    elif kind == "grant":
        make = lambda minutes, **over: grant_record("r-1", minutes=minutes, **over)  # noqa: E731
        changed = {"status": "Inaktiv"}
    else:
        real_put(client, "grant", grant_record("g-of-pay"))
        make = lambda minutes, **over: payment_record("g-of-pay", "r-1", minutes=minutes, **over)  # noqa: E731
        changed = {"gross_amount": "13000.00"}
    return make, changed


@pytest.mark.parametrize("kind", SEGMENT)
def test_every_put_outcome_of_a_dry_run_is_the_real_writes(source_system_client, kind):
    client = source_system_client
    make, changed = records_of(kind, client)
    cases = [
        ("created", make(0), 201),
        ("unchanged", make(0), 200),  # an identical replay
        ("unchanged", make(5), 200),  # newer, the same content: the timestamp moves on
        ("updated", make(10, **changed), 200),
        ("stale", make(7), 200),  # older than what the index holds
    ]
    for outcome, record, status in cases:
        dry, real = put(client, kind, record)
        assert_same_answer(dry, real)
        assert (real.status_code, real.json()["outcome"]) == (status, outcome)
    # The same timestamp with other content, and a record the rules refuse: 422 both.
    for record, code in [
        (make(10), "timestamp_conflict"),
        (make(20, municipality="101"), "foreign_municipality"),
    ]:
        dry, real = put(client, kind, record)
        assert_same_answer(dry, real)
        assert real.status_code == 422
        assert code in {e["code"] for e in real.json()["errors"]}


@pytest.mark.parametrize("kind", SEGMENT)
def test_every_delete_outcome_of_a_dry_run_is_the_real_writes(source_system_client, kind):
    client = source_system_client
    make, _ = records_of(kind, client)
    real_put(client, kind, make(10))
    for minutes, outcome in [(5, "stale"), (15, "retracted"), (20, "unchanged")]:
        dry, real = delete(client, kind, "r-1", minutes)
        assert_same_answer(dry, real)
        assert real.json()["outcome"] == outcome
    # A retracted record comes back with a newer PUT: updated, both ways.
    dry, real = put(client, kind, make(30))
    assert_same_answer(dry, real)
    assert real.json()["outcome"] == "updated"
    # Unknown record, missing and malformed timestamps.
    dry, real = delete(client, kind, "nope", 40)
    assert_same_answer(dry, real)
    assert real.status_code == 404
    dry, real = dry_then_real(client, "DELETE", f"/api/v1/{SEGMENT[kind]}/r-1")
    assert_same_answer(dry, real)
    assert real.status_code == 422


def test_if_match_is_checked_in_a_dry_run_as_in_the_write(source_system_client):
    client = source_system_client
    real_put(client, "case", case_record("c-1"))
    dry, real = put(client, "case", case_record("c-1", minutes=5, title="Ny"), HTTP_IF_MATCH='"7"')
    assert_same_answer(dry, real)
    assert real.status_code == 412
    dry, real = put(client, "case", case_record("c-1", minutes=5, title="Ny"), HTTP_IF_MATCH='"1"')
    assert_same_answer(dry, real)
    assert real.json()["outcome"] == "updated"


def test_a_dry_run_registers_no_work_for_after_commit(
    source_system_client, django_capture_on_commit_callbacks
):
    """A grant naming a case re-resolves references after commit; a dry run does not."""
    real_put(source_system_client, "case", case_record("c-1"))
    with django_capture_on_commit_callbacks() as callbacks:
        response = send(
            source_system_client,
            "PUT",
            "/api/v1/grants/g-1",
            grant_record("g-1", related_case="c-1"),
            dry=True,
        )
    assert response.json()["outcome"] == "created"
    assert callbacks == []


def batch(client, records: list, *, dry: bool, **headers):
    return send(client, "POST", "/api/v1/batches", {"records": records}, dry=dry, **headers)


def test_a_bulk_dry_run_answers_each_records_outcome_as_the_batch_shows_it_when_done(
    source_system_client,
):
    client = source_system_client
    real_put(client, "case", case_record("old", minutes=10))
    real_put(client, "grant", grant_record("g-old", minutes=10))
    records = [
        {"kind": "case", "record": case_record("c-1")},  # created
        {"kind": "document", "record": document_record("c-1", "d-1")},  # names c-1 above
        {"kind": "case", "record": case_record("c-1", minutes=5, title="Afslag")},  # updated
        {"kind": "case", "record": case_record("c-1", minutes=1)},  # stale after the update
        {"kind": "case", "record": case_record("old", minutes=10)},  # unchanged
        {"kind": "case", "record": case_record("old", minutes=10, title="X")},  # conflict
        {"kind": "case", "record": case_record("old", minutes=1)},  # stale
        {"kind": "case", "record": case_record("bad", kle_number="99.99.99")},  # receive-time
        {"kind": "document", "record": document_record("nowhere", "d-2")},  # unknown_case
        {"kind": "payment", "record": payment_record("g-old", "p-1")},  # created
        {"kind": "case", "record": case_record("c-2", case_number="S-c-1")},  # number taken
        {"kind": "folder", "record": {}},  # not a kind
    ]
    before = index_tables()
    dry = batch(client, records, dry=True)
    assert index_tables() == before
    assert dry.status_code == 200, dry.content
    assert dry["Dry-Run"] == "true"
    body = dry.json()
    real = batch(client, records, dry=False)
    assert real.status_code == 202, real.content
    inbox_batch_process(batch_id=real.json()["id"])
    done = client.get(f"/api/v1/batches/{real.json()['id']}").json()
    assert body["dry_run"] is True
    assert (body["received"], body["accepted"], body["rejected"]) == (
        real.json()["received"],
        real.json()["accepted"],
        real.json()["rejected"],
    )
    assert body["records"] == done["records"]
    outcomes = [r["outcome"] for r in done["records"]]
    assert outcomes == [
        "created",
        "created",
        "updated",
        "stale",
        "unchanged",
        "rejected",
        "stale",
        "rejected",
        "rejected",
        "created",
        "rejected",
        "rejected",
    ]


def test_a_bulk_dry_run_rehearses_the_workers_chunks(source_system_client):
    """A document naming a case of a later chunk is rejected by the worker: by the dry run too."""
    client = source_system_client
    records = [{"kind": "document", "record": document_record("late", "d-1")}]
    records += [{"kind": "case", "record": case_record(f"c-{i}")} for i in range(PROCESS_CHUNK - 1)]
    records += [{"kind": "case", "record": case_record("late")}]
    dry = batch(client, records, dry=True)
    assert dry.status_code == 200, dry.content
    real = batch(client, records, dry=False)
    inbox_batch_process(batch_id=real.json()["id"])
    done = client.get(f"/api/v1/batches/{real.json()['id']}").json()
    assert dry.json()["records"] == done["records"]
    assert done["records"][0]["problems"][0]["code"] == "unknown_case"


def test_a_bulk_dry_run_of_only_rejected_records_is_the_same_422(source_system_client):
    records = [{"kind": "case", "record": case_record("bad", kle_number="99.99.99")}]
    before = index_tables()
    dry = batch(source_system_client, records, dry=True)
    assert index_tables() == before
    real = batch(source_system_client, records, dry=False)
    assert_same_answer(dry, real)
    assert real.status_code == 422


@pytest.mark.parametrize("value", ["yes", "1", "", "TRUE", "true&dry_run=true"])
def test_a_dry_run_value_that_is_not_true_or_false_is_a_400_naming_it(source_system_client, value):
    before = index_tables()
    for method, url, body in [
        ("PUT", "/api/v1/cases/c-1", case_record("c-1")),
        ("DELETE", "/api/v1/cases/c-1", None),
        ("POST", "/api/v1/batches", {"records": [{"kind": "case", "record": case_record()}]}),
    ]:
        sep = "&" if "?" in url else "?"
        response = send(source_system_client, method, f"{url}{sep}dry_run={value}", body, dry=False)
        assert response.status_code == 400, (method, response.content)
        assert response["Content-Type"] == "application/problem+json"
        problem = response.json()
        assert [e["code"] for e in problem["errors"]] == ["invalid_dry_run"]
        assert "dry_run" in problem["detail"] and "dry_run" in problem["errors"][0]["message"]
    assert index_tables() == before


def test_dry_run_false_is_the_real_write(source_system_client):
    response = send(
        source_system_client,
        "PUT",
        "/api/v1/cases/c-1?dry_run=false",
        case_record("c-1"),
        dry=False,
    )
    assert response.status_code == 201
    assert "dry_run" not in response.json() and "Dry-Run" not in response
    assert Case.objects.filter(external_id="c-1").exists()


def test_a_dry_run_stores_no_idempotency_key_and_replays_a_stored_one(source_system_client):
    client = source_system_client
    record = case_record("c-1")
    url = "/api/v1/cases/c-1"
    dry = send(client, "PUT", url, record, dry=True, HTTP_IDEMPOTENCY_KEY="k-1")
    assert dry.json()["outcome"] == "created"
    assert not IdempotencyKey.objects.exists()
    real = send(client, "PUT", url, record, dry=False, HTTP_IDEMPOTENCY_KEY="k-1")
    assert real.status_code == 201 and "Idempotent-Replayed" not in real
    # The real request with this key would replay its stored answer: so does its dry run.
    again = send(client, "PUT", url, record, dry=True, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (again.status_code, again.json()) == (201, real.json())
    assert again["Idempotent-Replayed"] == "true" and again["Dry-Run"] == "true"
    # ... and would be refused with another body.
    other = send(
        client, "PUT", url, record | {"title": "Andet"}, dry=True, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert IdempotencyKey.objects.count() == 1
    assert not InboxBatch.objects.exists()


def test_nothing_written_refuses_a_write_and_leaves_the_transaction_writable(source_system):
    """The database's own guard: a write inside a dry run is an error, not a change."""
    with pytest.raises(DatabaseError, match="read-only"), nothing_written():
        Case.objects.filter(source_system=source_system).update(title="x")
    # The outer transaction (the test's) still writes.
    with transaction.atomic():
        source_system.name = "Omdøbt"
        source_system.save()
