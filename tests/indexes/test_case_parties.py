"""A case's secondary parties, benefit recipient and municipality of residence (issue 18,
SF1470 Sagspart *Sekundær part*, *Ydelsesmodtager*, Sagsaktør *Bopælskommune*): the wire
format, validation with a field path per problem and never the number, the read-back, the
change history (CPR masked in the admin) and the schema."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json

import pytest

from indexes.admin import cpr_mask_in
from indexes.models import Case, Change, Grant
from tests.indexes.api_support import (
    CPR,
    OTHER_CPR,
    case_record,
    grant_record,
    kle,  # noqa: F401
    municipality_ensure,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]

PROBLEM = "application/problem+json"
BAD_CPR = "3102701234"  # 31 February: no date
THIRD_CPR = "0303903456"


def put(client, record):
    return client.put(
        f"/api/v1/cases/{record['external_id']}",
        data=json.dumps(record),
        content_type="application/json",
    )


def test_the_parties_and_residence_are_stored_read_back_and_optional(source_system_client):
    municipality_ensure("101")
    record = case_record(
        "c-1",
        secondary_parties=[
            {"cpr": "020280-2345", "name": "Anden Part"},
            {"cvr": "29189846"},
        ],
        benefit_recipient={"cpr": THIRD_CPR, "name": "Modtager Modtagersen"},
        residence_municipality="101",
    )
    response = put(source_system_client, record)
    assert response.status_code == 201, response.content
    case = Case.objects.get(external_id="c-1")
    assert case.secondary_parties == [
        {"cpr": OTHER_CPR, "name": "Anden Part"},
        {"cvr": "29189846"},
    ]
    assert (case.benefit_recipient_cpr, case.benefit_recipient_cvr) == (THIRD_CPR, None)
    assert case.benefit_recipient_name == "Modtager Modtagersen"
    assert case.residence_municipality_id == "101"
    body = source_system_client.get("/api/v1/cases/c-1").json()
    assert body["secondary_parties"] == [
        {"cpr": OTHER_CPR, "name": "Anden Part"},
        {"cvr": "29189846"},
    ]
    assert body["benefit_recipient"] == {"cpr": THIRD_CPR, "name": "Modtager Modtagersen"}
    assert body["residence_municipality"] == "101"
    # Absent and null are "none"; reading back and putting again is unchanged.
    for absent in (
        case_record("c-2"),
        case_record("c-3", benefit_recipient=None, residence_municipality=None),
    ):
        assert put(source_system_client, absent).status_code == 201
        body = source_system_client.get(f"/api/v1/cases/{absent['external_id']}").json()
        assert body["secondary_parties"] == []
        assert body["benefit_recipient"] is None and body["residence_municipality"] is None
    again = case_record(
        "c-1",
        secondary_parties=[{"cpr": OTHER_CPR, "name": "Anden Part"}, {"cvr": "29189846"}],
        benefit_recipient={"cpr": THIRD_CPR, "name": "Modtager Modtagersen"},
        residence_municipality="101",
    )
    assert put(source_system_client, again).json()["outcome"] == "unchanged"


@pytest.mark.parametrize(
    ("party", "pointer", "code"),
    [
        ({"cpr": BAD_CPR}, "/cpr", "invalid_cpr"),
        ({"cpr": "12345"}, "/cpr", "invalid_cpr"),
        ({"cvr": "12345678"}, "/cvr", "invalid_cvr"),
        ({"cpr": CPR, "cvr": "29189846"}, "", "party_ambiguous"),
        ({}, "", "required"),
        ({"name": "Hans Hansen"}, "", "required"),
        ({"cpr": CPR, "name": "Hans\nHansen"}, "/name", "not_single_line"),
        ({"cpr": CPR, "name": "x" * 256}, "/name", "too_long"),
        ({"cpr": CPR, "role": "værge"}, "/role", "unknown_field"),
        (CPR, "", "invalid_type"),
    ],
)
def test_a_bad_party_is_422_naming_the_field_without_the_cpr(
    source_system_client, party, pointer, code
):
    for field, value, at in (
        ("secondary_parties", [{"cvr": "29189846"}, {"cvr": "29189846"}, party], "/2"),
        ("benefit_recipient", party, ""),
    ):
        response = put(source_system_client, case_record("c-1", **{field: value}))
        assert response.status_code == 422, response.content
        assert response["Content-Type"] == PROBLEM
        errors = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
        assert (f"/{field}{at}{pointer}", code) in errors, errors
        text = response.content.decode()
        assert BAD_CPR not in text and CPR not in text and "010170" not in text
    assert not Case.objects.exists()


def test_more_than_twenty_secondary_parties_are_refused(source_system_client):
    parties = [{"cvr": "29189846"}] * 21
    response = put(source_system_client, case_record("c-1", secondary_parties=parties))
    assert response.status_code == 422, response.content
    assert "/secondary_parties" in {e["pointer"] for e in response.json()["errors"]}
    twenty = put(source_system_client, case_record("c-1", secondary_parties=parties[:20]))
    assert twenty.status_code == 201, twenty.content


@pytest.mark.parametrize(
    ("code", "problem"), [("999", "unknown_municipality"), ("46", "invalid_format")]
)
def test_an_unknown_municipality_of_residence_is_refused(source_system_client, code, problem):
    response = put(source_system_client, case_record("c-1", residence_municipality=code))
    assert response.status_code == 422, response.content
    errors = {(e["pointer"], e["code"]) for e in response.json()["errors"]}
    assert ("/residence_municipality", problem) in errors, errors
    assert not Case.objects.exists()


def test_a_changed_party_is_in_the_history_masked_in_the_admin(source_system_client, admin_client):
    municipality_ensure("101")
    first = case_record("c-1", secondary_parties=[{"cpr": OTHER_CPR, "name": "Anden Part"}])
    assert put(source_system_client, first).status_code == 201
    second = case_record(
        "c-1",
        minutes=5,
        secondary_parties=[{"cpr": THIRD_CPR}],
        benefit_recipient={"cpr": OTHER_CPR},
        residence_municipality="101",
    )
    assert put(source_system_client, second).json()["outcome"] == "updated"
    change = Change.objects.filter(record_type="case").order_by("version").last()
    assert change.diff["secondary_parties"] == [
        [{"cpr": OTHER_CPR, "name": "Anden Part"}],
        [{"cpr": THIRD_CPR}],
    ]
    assert change.diff["benefit_recipient"] == [None, {"cpr": OTHER_CPR}]
    assert change.diff["residence_municipality"] == [None, "101"]
    masked = cpr_mask_in(change.diff)
    assert masked["secondary_parties"] == [
        [{"cpr": "020280-****", "name": "Anden Part"}],
        [{"cpr": "030390-****"}],
    ]
    assert masked["benefit_recipient"] == [None, {"cpr": "020280-****"}]
    case = Case.objects.get(external_id="c-1")
    history = admin_client.get(f"/admin/indexes/case/{case.pk}/history/")
    assert history.status_code == 200
    html = history.content.decode()
    assert OTHER_CPR not in html and THIRD_CPR not in html
    page = admin_client.get(f"/admin/indexes/case/{case.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert OTHER_CPR not in html and THIRD_CPR not in html and "030390-3456" not in html


def test_the_schema_states_the_case_parties():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    case = components["CaseInRequest"]["properties"]
    assert case["secondary_parties"]["maxItems"] == 20
    assert case["secondary_parties"]["items"] == {"$ref": "#/components/schemas/CasePartyInRequest"}
    assert {"type": "object", "nullable": True, "enum": [None]} in case["benefit_recipient"][
        "oneOf"
    ]
    assert case["residence_municipality"]["nullable"] is True
    party = components["CasePartyInRequest"]
    assert party["oneOf"] == [{"required": ["cpr"]}, {"required": ["cvr"]}]
    assert party["additionalProperties"] is False


def test_a_grants_recipient_is_stored_validated_and_in_the_history(source_system_client):
    def put_grant(record):
        return source_system_client.put(
            f"/api/v1/grants/{record['external_id']}",
            data=json.dumps(record),
            content_type="application/json",
        )

    first = grant_record("g-1", recipient={"cvr": "29189846", "name": "Boligselskabet Test"})
    response = put_grant(first)
    assert response.status_code == 201, response.content
    body = source_system_client.get("/api/v1/grants/g-1").json()
    assert body["recipient"] == {"cvr": "29189846", "name": "Boligselskabet Test"}
    second = grant_record("g-1", minutes=5, recipient={"cpr": OTHER_CPR})
    assert put_grant(second).json()["outcome"] == "updated"
    assert Grant.objects.get(external_id="g-1").recipient_cpr == OTHER_CPR
    change = Change.objects.filter(record_type="grant").order_by("version").last()
    assert cpr_mask_in(change.diff)["recipient"] == [
        {"cvr": "29189846", "name": "Boligselskabet Test"},
        {"cpr": "020280-****"},
    ]
    bad = put_grant(grant_record("g-2", recipient={"cpr": BAD_CPR}))
    assert bad.status_code == 422
    assert ("/recipient/cpr", "invalid_cpr") in {
        (e["pointer"], e["code"]) for e in bad.json()["errors"]
    }
    assert BAD_CPR not in bad.content.decode()
    both = put_grant(grant_record("g-2", recipient={"cpr": CPR, "cvr": "29189846"}))
    assert ("/recipient", "party_ambiguous") in {
        (e["pointer"], e["code"]) for e in both.json()["errors"]
    }
