"""A document's sender and recipient (issue 16): the wire format, its validation with a
field path per problem, the read-back, the change history and the schema."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest

from indexes.admin import cpr_mask_in
from indexes.models import Change, Document
from tests.indexes.api_support import (
    CPR,
    OTHER_CPR,
    case_record,
    document_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"
BAD_CPR = "3102701234"  # 31 February: no date


def put(client, path, record):
    return client.put(path, data=json.dumps(record), content_type="application/json")


@pytest.fixture
def case(source_system_client):
    response = put(source_system_client, "/api/v1/cases/c-1", case_record("c-1"))
    assert response.status_code == 201, response.content
    return "c-1"


def test_sender_and_recipient_are_stored_read_back_and_optional(source_system_client, case):
    record = document_record(
        case,
        "d-1",
        type="Brev, indgaaende",
        sender={"cpr": "010170-1234", "name": "Test Testesen"},
        recipient={"cvr": "29189846"},
    )
    response = put(source_system_client, "/api/v1/documents/d-1", record)
    assert response.status_code == 201, response.content
    document = Document.objects.get(external_id="d-1")
    assert (document.sender_cpr, document.sender_cvr, document.sender_name) == (
        CPR,
        None,
        "Test Testesen",
    )
    assert (document.recipient_cpr, document.recipient_cvr, document.recipient_name) == (
        None,
        "29189846",
        "",
    )
    body = source_system_client.get("/api/v1/documents/d-1").json()
    assert body["sender"] == {"cpr": CPR, "name": "Test Testesen"}
    assert body["recipient"] == {"cvr": "29189846"}
    # Absent and null are both "no party".
    for absent in (document_record(case, "d-2"), document_record(case, "d-3", sender=None)):
        response = put(source_system_client, f"/api/v1/documents/{absent['external_id']}", absent)
        assert response.status_code == 201, response.content
        body = source_system_client.get(f"/api/v1/documents/{absent['external_id']}").json()
        assert body["sender"] is None and body["recipient"] is None


@pytest.mark.parametrize(
    ("party", "pointer", "code"),
    [
        ({"cpr": BAD_CPR}, "/sender/cpr", "invalid_cpr"),
        ({"cpr": "12345"}, "/sender/cpr", "invalid_cpr"),
        ({"cvr": "12345678"}, "/sender/cvr", "invalid_cvr"),
        ({"cpr": CPR, "cvr": "29189846"}, "/sender", "party_ambiguous"),
        ({}, "/sender", "required"),
        ({"name": "Hans Hansen"}, "/sender", "required"),
        ({"cpr": CPR, "name": "Hans\nHansen"}, "/sender/name", "not_single_line"),
        ({"cpr": CPR, "name": "x" * 256}, "/sender/name", "too_long"),
        ({"cpr": CPR, "role": "afsender"}, "/sender/role", "unknown_field"),
        ("0101701234", "/sender", "invalid_type"),
    ],
)
def test_a_bad_party_is_422_naming_the_field_without_the_cpr(
    source_system_client, case, party, pointer, code
):
    for field in ("sender", "recipient"):
        record = document_record(case, "d-1", **{field: party})
        response = put(source_system_client, "/api/v1/documents/d-1", record)
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == PROBLEM
        errors = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
        assert (pointer.replace("/sender", f"/{field}"), code) in errors, errors
        text = response.content.decode()
        assert BAD_CPR not in text and CPR not in text and "010170" not in text
    assert not Document.objects.exists()


def test_a_changed_party_is_in_the_history(source_system_client, case):
    first = document_record(case, "d-1", recipient={"cpr": CPR, "name": "Test Testesen"})
    assert put(source_system_client, "/api/v1/documents/d-1", first).status_code == 201
    second = document_record(case, "d-1", minutes=5, recipient={"cpr": OTHER_CPR})
    response = put(source_system_client, "/api/v1/documents/d-1", second)
    assert response.json()["outcome"] == "updated"
    change = Change.objects.filter(record_type="document").order_by("version").last()
    assert change.diff["recipient"] == [{"cpr": CPR, "name": "Test Testesen"}, {"cpr": OTHER_CPR}]
    # The history's admin page shows it masked.
    assert cpr_mask_in(change.diff)["recipient"] == [
        {"cpr": "010170-****", "name": "Test Testesen"},
        {"cpr": "020280-****"},
    ]
    # The same party again is no change.
    again = document_record(case, "d-1", minutes=10, recipient={"cpr": OTHER_CPR, "name": ""})
    assert put(source_system_client, "/api/v1/documents/d-1", again).json()["outcome"] == (
        "unchanged"
    )


def test_the_admin_history_and_detail_show_the_party_cpr_masked(
    source_system_client, case, admin_client
):
    first = document_record(case, "d-1", recipient={"cpr": CPR, "name": "Test Testesen"})
    put(source_system_client, "/api/v1/documents/d-1", first)
    put(
        source_system_client,
        "/api/v1/documents/d-1",
        document_record(case, "d-1", minutes=5, recipient={"cpr": OTHER_CPR}),
    )
    document = Document.objects.get(external_id="d-1")
    page = admin_client.get(f"/admin/indexes/document/{document.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "020280-****" in html and OTHER_CPR not in html and "020280-2345" not in html
    history = admin_client.get(f"/admin/indexes/document/{document.pk}/history/")
    assert history.status_code == 200
    assert CPR not in history.content.decode() and OTHER_CPR not in history.content.decode()


def test_the_schema_allows_null_parties_and_exactly_one_number():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    sender = components["DocumentInRequest"]["properties"]["sender"]
    assert {"type": "object", "nullable": True, "enum": [None]} in sender["oneOf"]
    assert {"$ref": "#/components/schemas/DocumentPartyInRequest"} in sender["oneOf"]
    party = components["DocumentPartyInRequest"]
    assert party["oneOf"] == [{"required": ["cpr"]}, {"required": ["cvr"]}]
    assert party["additionalProperties"] is False
