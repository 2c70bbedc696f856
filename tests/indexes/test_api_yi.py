"""YI v6 XML intake (issue 18): ImporterYdelseIndeks, grants and payments.

``tests/indexes/kombit/bevilling_med_udbetaling.xml`` is written by hand from KOMBIT's
XSDs; the JSON it is compared with is written by hand from docs/api.md.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json
from pathlib import Path

import pytest
import yaml

from indexes.models import Grant, Payment, SourceSystem
from indexes.selectors import record_get, record_to_payload
from tests.indexes.api_support import (
    client_for,
    kle,  # noqa: F401
    municipality_ensure,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)
from tests.indexes.test_api_dry_run import index_tables
from tests.indexes.test_api_sf1470 import errors_of, outcomes, post_xml, processed

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("kle")]

IMPORT = "/api/v1/yi/v6/ImporterYdelseIndeks"
GRANT_ID = "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d"
PAYMENT_ID = "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e"
SAMPLE = Path(__file__).resolve().parent / "kombit" / "bevilling_med_udbetaling.xml"

GRANT_JSON = {
    "external_id": GRANT_ID,
    "source_timestamp": "2024-05-01T12:00:00+02:00",
    "municipality": "461",
    "case_number": "2024-000123",
    "party": {"cpr": "0101701234"},
    "start_on": "2024-01-01",
    "status": "Aktiv",
    "benefits": [
        {
            "external_id": "ydelse-1",
            "name": "Kontanthjælp",
            "kind": "oekonomisk",
            "kle_number": "15.62.10",
            "start_on": "2024-01-01",
            "status": "Aktiv",
            "payment_plan": {
                "frequency": "Månedlig",
                "timing": "Bagud",
                "payment_day": "Sidste bankdag i måneden",
                "amount": "12000.00",
            },
        }
    ],
}
PAYMENT_JSON = {
    "external_id": PAYMENT_ID,
    "source_timestamp": "2024-05-01T12:05:00+02:00",
    "municipality": "461",
    "grant_external_id": GRANT_ID,
    "benefit_external_id": "ydelse-1",
    "disposal_date": "2024-02-29",
    "period": {"start": "2024-02-01", "end": "2024-02-29"},
    "gross_amount": "12000.00",
    "amount_after_tax": "8400.50",
}


def sample() -> str:
    return SAMPLE.read_text(encoding="utf-8")


def test_the_index_after_yi_xml_equals_the_index_after_the_same_json(source_system_client):
    response = post_xml(source_system_client, IMPORT, sample())
    processed(response)
    assert outcomes(source_system_client, response) == [
        (GRANT_ID, "created"),
        (PAYMENT_ID, "created"),
    ]
    json_system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="KMD", name="KMD Odense (JSON)"
    )
    answer = client_for(json_system).post(
        "/api/v1/batches",
        data=json.dumps(
            {
                "records": [
                    {"kind": "grant", "record": GRANT_JSON},
                    {"kind": "payment", "record": PAYMENT_JSON},
                ]
            }
        ),
        content_type="application/json",
    )
    processed(answer)
    xml_system = SourceSystem.objects.exclude(pk=json_system.pk).get()
    for kind, external_id in (("grant", GRANT_ID), ("payment", PAYMENT_ID)):
        from_xml = record_to_payload(
            kind=kind,
            instance=record_get(source_system=xml_system, kind=kind, external_id=external_id),
        )
        from_json = record_to_payload(
            kind=kind,
            instance=record_get(source_system=json_system, kind=kind, external_id=external_id),
        )
        assert from_xml == from_json
    assert Grant.objects.count() == 2 and Payment.objects.count() == 2


def test_a_negative_amount_names_its_element(source_system_client):
    body = sample().replace(
        "<oei:SamletBruttobeloeb>12000.00<", "<oei:SamletBruttobeloeb>-12000.00<"
    )
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 202, response.content
    [rejected] = response.json()["rejected"]
    [problem] = rejected["problems"]
    assert problem["code"] == "negative_amount"
    assert problem["pointer"] == (
        "/yi:ImporterYdelseIndeksInput/yi:OekonomiskEffektueringIndeks/oei:Registrering"
        "/oei:AttributListe/oei:Egenskaber/oei:SamletBruttobeloeb"
    )
    assert problem["line"] == 55


def test_an_xsd_violation_names_the_element(source_system_client):
    body = sample().replace("<bi:ForudBagud>Bagud<", "<bi:ForudBagud>Midt<")
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["code"] == "xsd_invalid"
    assert error["pointer"].endswith("/bi:OekonomiskEffektueringsplan/bi:ForudBagud")
    assert error["line"] == 34


def test_a_passivated_grant_is_passive(source_system_client):
    body = sample().replace("<sd:LivscyklusKode>Importeret<", "<sd:LivscyklusKode>Passiveret<")
    processed(post_xml(source_system_client, IMPORT, body))
    assert Grant.objects.get(external_id=GRANT_ID).status == "Passiv"


def test_a_dry_run_writes_nothing(source_system_client):
    assert source_system_client.get("/api/v1/grants").status_code == 200
    before = index_tables()
    dry = post_xml(source_system_client, IMPORT + "?dry_run=true", sample())
    assert index_tables() == before
    assert [(r["external_id"], r["outcome"]) for r in dry.json()["records"]] == [
        (GRANT_ID, "created"),
        (PAYMENT_ID, "created"),
    ]


def test_the_openapi_schema_lists_the_yi_import():
    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
    operation = yaml.safe_load(committed.read_text())["paths"][IMPORT]["post"]
    assert "application/xml" in operation["requestBody"]["content"]


def _with_recipient(body: str, reference: str, name: str | None, *, first: bool = False) -> str:
    """The sample's grant with a Bevillingspart of the role Ydelsesmodtager (before or
    after the citizen's)."""
    part = (
        "<bi:Bevillingspart>"
        "<gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:ydelsesmodtager"
        "</sd:URNIdentifikator></gd:Rolle>"
        f"<gd:ReferenceID><sd:URNIdentifikator>{reference}</sd:URNIdentifikator></gd:ReferenceID>"
        + (f"<bi:FuldtNavn>{name}</bi:FuldtNavn>" if name else "")
        + "</bi:Bevillingspart>"
    )
    if first:
        return body.replace("<bi:RelationListe>", f"<bi:RelationListe>{part}", 1)
    return body.replace("</bi:Bevillingspart>", f"</bi:Bevillingspart>{part}", 1)


@pytest.mark.parametrize("first", [False, True])
def test_a_ydelsesmodtager_is_the_grants_recipient_not_its_party(source_system_client, first):
    body = _with_recipient(sample(), "urn:oio:cvr-nr:29189846", "Boligselskabet Test", first=first)
    processed(post_xml(source_system_client, IMPORT, body))
    grant = Grant.objects.get(external_id=GRANT_ID)
    assert grant.party_cpr == "0101701234"
    assert (grant.recipient_cvr, grant.recipient_cpr, grant.recipient_name) == (
        "29189846",
        None,
        "Boligselskabet Test",
    )
    payload = record_to_payload(kind="grant", instance=grant)
    assert payload["recipient"] == {"cvr": "29189846", "name": "Boligselskabet Test"}
    assert payload["party"] == {"cpr": "0101701234"}


def test_a_bad_ydelsesmodtager_names_its_element_without_the_number(source_system_client):
    body = _with_recipient(sample(), "urn:oio:cpr-nr:3201701234", None)
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422, response.content
    errors = response.json()["errors"]
    by_code = {error["code"]: error for error in errors}
    assert by_code["invalid_cpr"]["pointer"].endswith(
        "/bi:RelationListe/bi:Bevillingspart[2]/gd:ReferenceID"
    )
    assert "3201701234" not in response.content.decode()
