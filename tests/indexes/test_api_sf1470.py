"""SF1470 v6 XML intake (issue 18): ImporterSagDokumentIndeks and FjernSagDokumentIndeks.

The documents are written by hand from KOMBIT's XSDs (``tests/indexes/kombit/*.xml`` and
the strings below), never produced by Overblik's mapper; the JSON they are compared
with is written by hand too, from docs/api.md.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json
from pathlib import Path

import pytest
import yaml

from indexes.models import Case, Document, InboxBatch, SourceSystem
from indexes.selectors import record_get, record_to_payload
from indexes.services.inbox import inbox_batch_process
from tests.indexes.api_support import (
    client_for,
    kle,  # noqa: F401
    municipality_ensure,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)
from tests.indexes.test_api_dry_run import index_tables

pytestmark = [pytest.mark.django_db, pytest.mark.postgres, pytest.mark.usefixtures("kle")]

SAMPLES = Path(__file__).resolve().parent / "kombit"
IMPORT = "/api/v1/sf1470/v6/ImporterSagDokumentIndeks"
REMOVE = "/api/v1/sf1470/v6/FjernSagDokumentIndeks"
CASE_ID = "6f1c2d3e-0a4b-4c5d-8e6f-7a8b9c0d1e2f"
DOCUMENT_ID = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
ROOT = "/sdi:ImporterSagDokumentIndeksInput"
SAG = f"{ROOT}/sdi:SagIndeks/sag:Registrering"

# The same case and document as sag_med_dokument.xml, in the JSON of docs/api.md.
CASE_JSON = {
    "external_id": CASE_ID,
    "source_timestamp": "2024-05-01T12:00:00+02:00",
    "municipality": "461",
    "case_number": "27.60.08-G01-1-24",
    "title": "Bevilling af hjælpemiddel",
    "description": "Ansøgning om rollator",
    "source_status_text": "Under behandling",
    "sensitivity": "FORTROLIGE_PERSONOPLYSNINGER",
    "kle_number": "15.62.10",
    "facet": "G01",
    "responsible_unit": "Hjælpemiddelcentret",
    "party": {"cpr": "0101701234"},
    "created_on": "2024-04-01",
    "progress": [
        {
            "status": "Opstaaet",
            "from": "2024-04-01T09:00:00+02:00",
            "to": "2024-04-10T09:00:00+02:00",
        },
        {"status": "Oplyst", "from": "2024-04-10T09:00:00+02:00"},
    ],
}
DOCUMENT_JSON = {
    "external_id": DOCUMENT_ID,
    "source_timestamp": "2024-05-01T12:05:00+02:00",
    "municipality": "461",
    "title": "Afgørelse om hjælpemiddel",
    "letter_date": "2024-04-12",
    "type": "Brev, udgaaende",
    "status": "Endeligt",
    "sensitivity": "FORTROLIGE_PERSONOPLYSNINGER",
    "cases": [{"case_external_id": CASE_ID, "role": "Tilakteret"}],
}


def sample(name: str = "sag_med_dokument.xml") -> str:
    return (SAMPLES / name).read_text(encoding="utf-8")


def post_xml(client, url: str, body: str | bytes, **headers):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(url, data=data, content_type="application/xml", **headers)


def processed(response) -> InboxBatch:
    assert response.status_code == 202, response.content
    batch = inbox_batch_process(batch_id=response.json()["id"])
    assert batch.status == InboxBatch.Status.DONE
    return batch


def outcomes(client, response) -> list[tuple[str, str]]:
    body = client.get(response.json()["url"]).json()
    return [(row["external_id"], row["outcome"]) for row in body["records"]]


@pytest.fixture
def json_system(db):
    """A second system of the same municipality, fed the same content as JSON."""
    return SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="SBSYS Odense (JSON)"
    )


def test_the_index_after_xml_equals_the_index_after_the_same_json(
    source_system_client, json_system
):
    xml_system = source_system_client
    response = post_xml(xml_system, IMPORT, sample())
    processed(response)
    assert outcomes(xml_system, response) == [(CASE_ID, "created"), (DOCUMENT_ID, "created")]

    json_client = client_for(json_system)
    answer = json_client.post(
        "/api/v1/batches",
        data=json.dumps(
            {
                "records": [
                    {"kind": "case", "record": CASE_JSON},
                    {"kind": "document", "record": DOCUMENT_JSON},
                ]
            }
        ),
        content_type="application/json",
    )
    processed(answer)

    xml_source = SourceSystem.objects.exclude(pk=json_system.pk).get()
    for kind, external_id in (("case", CASE_ID), ("document", DOCUMENT_ID)):
        from_xml = record_to_payload(
            kind=kind,
            instance=record_get(source_system=xml_source, kind=kind, external_id=external_id),
        )
        from_json = record_to_payload(
            kind=kind,
            instance=record_get(source_system=json_system, kind=kind, external_id=external_id),
        )
        assert from_xml == from_json
    assert Case.objects.count() == 2 and Document.objects.count() == 2


def test_a_replay_is_unchanged_and_an_older_registration_stale(source_system_client):
    client = source_system_client
    processed(post_xml(client, IMPORT, sample()))
    replay = post_xml(client, IMPORT, sample())
    processed(replay)
    assert outcomes(client, replay) == [(CASE_ID, "unchanged"), (DOCUMENT_ID, "unchanged")]

    older = (
        sample()
        .replace(
            "2024-05-01T12:00:00+02:00</sd:Tidspunkt>", "2024-04-30T12:00:00+02:00</sd:Tidspunkt>"
        )
        .replace("<sag:Titel>Bevilling af hjælpemiddel", "<sag:Titel>Gammel titel")
    )
    stale = post_xml(client, IMPORT, older)
    processed(stale)
    assert outcomes(client, stale)[0] == (CASE_ID, "stale")
    assert Case.objects.get(external_id=CASE_ID).title == "Bevilling af hjælpemiddel"

    newer = (
        sample()
        .replace(
            "2024-05-01T12:00:00+02:00</sd:Tidspunkt>", "2024-05-02T08:00:00+02:00</sd:Tidspunkt>"
        )
        .replace("<sag:Titel>Bevilling af hjælpemiddel", "<sag:Titel>Afslag på hjælpemiddel")
    )
    updated = post_xml(client, IMPORT, newer)
    processed(updated)
    assert outcomes(client, updated)[0] == (CASE_ID, "updated")
    assert Case.objects.get(external_id=CASE_ID).title == "Afslag på hjælpemiddel"


def test_an_idempotency_key_replays_the_batch(source_system_client):
    first = post_xml(source_system_client, IMPORT, sample(), HTTP_IDEMPOTENCY_KEY="k-1")
    again = post_xml(source_system_client, IMPORT, sample(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert again["Idempotent-Replayed"] == "true"
    assert InboxBatch.objects.count() == 1


def errors_of(response) -> list[dict]:
    assert response["Content-Type"] == "application/problem+json", response.content
    return response.json()["errors"]


def test_an_xsd_violation_names_the_element_and_its_line(source_system_client):
    body = sample().replace(
        "<sag:Titel>Bevilling af hjælpemiddel</sag:Titel>", f"<sag:Titel>{'x' * 256}</sag:Titel>"
    )
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422
    [error] = errors_of(response)
    assert error["code"] == "xsd_invalid"
    assert error["pointer"] == f"{SAG}/sag:AttributListe/sag:Egenskaber/sag:Titel"
    assert error["line"] == 24
    assert "Titel" in error["message"]
    assert Case.objects.count() == 0


def test_an_unknown_element_is_refused_by_the_xsd(source_system_client):
    body = sample().replace("<sag:Titel>", "<sag:Overskrift>x</sag:Overskrift><sag:Titel>")
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422
    assert "Overskrift" in errors_of(response)[0]["message"]


def test_a_rule_of_the_index_names_the_element_it_came_from(source_system_client):
    # Valid against the XSD; the KLE number does not exist and the CPR's date does not.
    body = (
        sample()
        .replace("<si:BrugervendtNoegle>15.62.10<", "<si:BrugervendtNoegle>15.62.77<")
        .replace("urn:oio:cpr-nr:0101701234", "urn:oio:cpr-nr:3201701234")
    )
    response = post_xml(source_system_client, IMPORT, body)
    # The document names a case that is rejected: both rejected, so nothing is received.
    assert response.status_code == 422, response.content
    by_code = {error["code"]: error for error in errors_of(response)}
    assert by_code["unknown_kle"]["pointer"] == (
        f"{SAG}/sag:RelationListe/sag:Sagsklasse[1]/gd:LokalUdvidelseListe"
        "/si:SagsklasseLokalUdvidelse/si:BrugervendtNoegle"
    )
    assert by_code["unknown_kle"]["line"] == 65
    assert by_code["invalid_cpr"]["pointer"] == (
        f"{SAG}/sag:RelationListe/sag:Sagspart/gd:ReferenceID"
    )
    assert "3201701234" not in response.content.decode()


def test_a_missing_registration_time_names_the_registration(source_system_client):
    body = sample().replace("<sd:Tidspunkt>2024-05-01T12:05:00+02:00</sd:Tidspunkt>", "")
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 202, response.content
    [rejected] = response.json()["rejected"]
    assert rejected["index"] == 1 and rejected["kind"] == "document"
    [problem] = rejected["problems"]
    assert problem["code"] == "required"
    assert problem["pointer"] == f"{ROOT}/sdi:DokumentIndeks/di:Registrering"
    assert problem["line"] == 96


def test_the_wrong_operation_is_refused(source_system_client):
    body = '<sdi:FjernSagDokumentIndeksInput xmlns:sdi="urn:oio:sts:sagdok:sagdokumentindeks:6"/>'
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422
    assert errors_of(response)[0]["code"] == "wrong_operation"


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE sdi:ImporterSagDokumentIndeksInput [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<sdi:ImporterSagDokumentIndeksInput xmlns:sdi="urn:oio:sts:sagdok:sagdokumentindeks:6">&x;</sdi:ImporterSagDokumentIndeksInput>"""
LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><lolz>&lol9;</lolz>"
)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (XXE, "dtd_forbidden"),
        (LAUGHS, "dtd_forbidden"),
        (XXE.decode().encode("utf-16"), "dtd_forbidden"),
        (b"<a>" * 50 + b"</a>" * 50, "too_deep"),
        (b"<sdi:ImporterSagDokumentIndeksInput", "not_well_formed"),
        (b"", "empty"),
    ],
)
def test_unsafe_or_malformed_xml_is_refused_before_anything_is_read(
    source_system_client, body, code
):
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "urn:overblik:problem:malformed-xml"
    assert errors_of(response)[0]["code"] == code
    assert "root:" not in response.content.decode()  # nothing of /etc/passwd


def test_an_oversized_document_is_refused_before_parsing(source_system_client, settings):
    settings.INDEXES_XML_MAX_BYTES = 1000
    response = post_xml(source_system_client, IMPORT, sample())
    assert response.status_code == 413
    assert response.json()["type"] == "urn:overblik:problem:body-too-large"


def test_json_is_not_taken_here(source_system_client):
    response = source_system_client.post(IMPORT, data="{}", content_type="application/json")
    assert response.status_code == 415


def test_a_dry_run_writes_nothing_and_answers_what_the_import_does(source_system_client):
    # The key's first use is stamped on it (authentication's bookkeeping, not the dry run's).
    assert source_system_client.get("/api/v1/cases").status_code == 200
    before = index_tables()
    dry = post_xml(source_system_client, IMPORT + "?dry_run=true", sample())
    assert index_tables() == before
    assert dry.status_code == 200 and dry["Dry-Run"] == "true"
    rows = [(r["external_id"], r["outcome"]) for r in dry.json()["records"]]
    assert rows == [(CASE_ID, "created"), (DOCUMENT_ID, "created")]
    real = post_xml(source_system_client, IMPORT, sample())
    processed(real)
    assert outcomes(source_system_client, real) == rows


def test_a_document_is_hidden_by_its_visningsklasse(source_system_client):
    hidden = sample().replace(
        "<di:RelationListe/>",
        """<di:RelationListe>
        <di:Dokumentklasse>
          <gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:visningsklasse</sd:URNIdentifikator></gd:Rolle>
          <gd:Indeks>1</gd:Indeks>
          <gd:ReferenceID><sd:UUIDIdentifikator>12345678-1234-4234-8234-123456789012</sd:UUIDIdentifikator></gd:ReferenceID>
          <gd:LokalUdvidelseListe>
            <di:DokumentklasseLokalUdvidelse><di:Klassetitel>Visning undtaget for borger</di:Klassetitel></di:DokumentklasseLokalUdvidelse>
          </gd:LokalUdvidelseListe>
        </di:Dokumentklasse>
      </di:RelationListe>""",
    )
    processed(post_xml(source_system_client, IMPORT, hidden))
    assert Document.objects.get(external_id=DOCUMENT_ID).hidden_from_citizen is True
    assert Case.objects.get(external_id=CASE_ID).hidden_from_citizen is False


FJERN = """<sdi:FjernSagDokumentIndeksInput xmlns:sdi="urn:oio:sts:sagdok:sagdokumentindeks:6"
    xmlns:sd="urn:oio:sagdok:3.0.0">
  <sdi:SagUuid><sd:UUIDIdentifikator>{id}</sd:UUIDIdentifikator></sdi:SagUuid>
</sdi:FjernSagDokumentIndeksInput>"""


def test_fjern_is_ordered_by_the_source_timestamp_header(source_system_client):
    client = source_system_client
    processed(post_xml(client, IMPORT, sample()))
    body = FJERN.format(id=CASE_ID)

    missing = post_xml(client, REMOVE, body)
    assert missing.status_code == 422
    assert errors_of(missing)[0]["pointer"] == "/source_timestamp"

    older = post_xml(client, REMOVE, body, HTTP_SOURCE_TIMESTAMP="2024-04-01T00:00:00+02:00")
    assert older.status_code == 200, older.content
    assert older.json()["records"][0]["outcome"] == "stale"
    assert Case.objects.get(external_id=CASE_ID).retracted_at is None

    before = index_tables()
    dry = post_xml(
        client, REMOVE + "?dry_run=true", body, HTTP_SOURCE_TIMESTAMP="2024-06-01T00:00:00+02:00"
    )
    assert index_tables() == before
    real = post_xml(client, REMOVE, body, HTTP_SOURCE_TIMESTAMP="2024-06-01T00:00:00+02:00")
    assert real.status_code == 200
    assert real.json()["records"][0]["outcome"] == "retracted"
    assert dry.json() == real.json() | {"dry_run": True}
    assert Case.objects.get(external_id=CASE_ID).retracted_at is not None


def test_fjern_of_an_unknown_case_retracts_nothing_and_names_it(source_system_client):
    client = source_system_client
    processed(post_xml(client, IMPORT, sample()))
    body = FJERN.format(id=CASE_ID).replace(
        "</sdi:SagUuid>",
        "</sdi:SagUuid><sdi:SagUuid><sd:UUIDIdentifikator>00000000-0000-4000-8000-000000000000"
        "</sd:UUIDIdentifikator></sdi:SagUuid>",
    )
    response = post_xml(client, REMOVE, body, HTTP_SOURCE_TIMESTAMP="2024-06-01T00:00:00+02:00")
    assert response.status_code == 404
    assert errors_of(response)[0]["pointer"] == "/sdi:FjernSagDokumentIndeksInput/sdi:SagUuid[2]"
    assert Case.objects.get(external_id=CASE_ID).retracted_at is None


def test_the_openapi_schema_lists_the_xml_operations():
    committed = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
    paths = yaml.safe_load(committed.read_text())["paths"]
    for url in (IMPORT, REMOVE):
        operation = paths[url]["post"]
        assert "application/xml" in operation["requestBody"]["content"]


def _with_party(body: str, reference: str, name: str | None, role: str = "parter") -> str:
    extension = (
        "<gd:LokalUdvidelseListe><di:DokumentpartLokalUdvidelse>"
        f"<di:FuldtNavn>{name}</di:FuldtNavn></di:DokumentpartLokalUdvidelse>"
        "</gd:LokalUdvidelseListe>"
        if name
        else ""
    )
    return body.replace(
        "<di:RelationListe/>",
        f"""<di:RelationListe>
        <di:Dokumentpart>
          <gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:{role}</sd:URNIdentifikator></gd:Rolle>
          <gd:Indeks>1</gd:Indeks>
          <gd:ReferenceID><sd:URNIdentifikator>{reference}</sd:URNIdentifikator></gd:ReferenceID>
          {extension}
        </di:Dokumentpart>
      </di:RelationListe>""",
    )


def test_a_dokumentpart_is_the_recipient_of_an_outgoing_letter(source_system_client):
    body = _with_party(sample(), "urn:oio:cpr-nr:0101701234", "Test Testesen")
    processed(post_xml(source_system_client, IMPORT, body))
    document = Document.objects.get(external_id=DOCUMENT_ID)
    assert (document.recipient_cpr, document.recipient_name) == ("0101701234", "Test Testesen")
    assert document.sender_cpr is None and document.sender_cvr is None
    payload = record_to_payload(kind="document", instance=document)
    assert payload["recipient"] == {"cpr": "0101701234", "name": "Test Testesen"}
    assert payload["sender"] is None


def test_a_dokumentpart_is_the_sender_of_an_incoming_letter(source_system_client):
    incoming = sample().replace(
        "<di:Type>Brev, udgaaende</di:Type>", "<di:Type>Brev, indgaaende</di:Type>"
    )
    processed(
        post_xml(
            source_system_client, IMPORT, _with_party(incoming, "urn:oio:cvr-nr:29189846", None)
        )
    )
    document = Document.objects.get(external_id=DOCUMENT_ID)
    assert (document.sender_cvr, document.sender_name) == ("29189846", "")
    assert document.recipient_cvr is None and document.recipient_cpr is None


def test_a_dokumentpart_without_cpr_or_cvr_or_of_another_role_is_left_out(source_system_client):
    by_name = _with_party(sample(), "urn:oio:fuldtnavn:Hans Hansen", "Hans Hansen")
    processed(post_xml(source_system_client, IMPORT, by_name))
    document = Document.objects.get(external_id=DOCUMENT_ID)
    assert document.recipient_cpr is None and document.recipient_name == ""
    copy = _with_party(sample(), "urn:oio:cpr-nr:0101701234", None, role="kopiparter")
    processed(post_xml(source_system_client, IMPORT, copy.replace("12:05:00", "12:06:00")))
    document.refresh_from_db()
    assert document.recipient_cpr is None


def _with_case_relations(body: str, *relations: str) -> str:
    """The sample's case with more relations in the XSD's order: a Sagsaktoer after the
    sample's one (before its first Sagsklasse), a Sagspart before its Journalpost."""
    actors = [r for r in relations if "<sag:Sagsaktoer>" in r]
    parties = [r for r in relations if "<sag:Sagspart>" in r]
    body = body.replace(
        "        <sag:Sagsklasse>", "\n".join([*actors, "        <sag:Sagsklasse>"]), 1
    )
    return body.replace(
        "        <sag:Journalpost>", "\n".join([*parties, "        <sag:Journalpost>"]), 1
    )


def _sagspart(role: str, index: int, reference: str, name: str | None = None) -> str:
    extension = (
        "<gd:LokalUdvidelseListe><si:SagspartLokalUdvidelse>"
        f"<si:FuldtNavn>{name}</si:FuldtNavn></si:SagspartLokalUdvidelse></gd:LokalUdvidelseListe>"
        if name
        else ""
    )
    return f"""        <sag:Sagspart>
          <gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:{role}</sd:URNIdentifikator></gd:Rolle>
          <gd:Indeks>{index}</gd:Indeks>
          <gd:ReferenceID><sd:URNIdentifikator>{reference}</sd:URNIdentifikator></gd:ReferenceID>
          {extension}
        </sag:Sagspart>"""


def _bopaelskommune(key: str) -> str:
    return f"""        <sag:Sagsaktoer>
          <gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:bopaelskommune</sd:URNIdentifikator></gd:Rolle>
          <gd:ReferenceID><sd:URNIdentifikator>urn:oio:cvr-nr:64942212</sd:URNIdentifikator></gd:ReferenceID>
          <gd:LokalUdvidelseListe><si:SagsaktoerLokalUdvidelse>
            <si:BrugervendtNoegle>{key}</si:BrugervendtNoegle><si:FuldtNavn>Københavns Kommune</si:FuldtNavn>
          </si:SagsaktoerLokalUdvidelse></gd:LokalUdvidelseListe>
        </sag:Sagsaktoer>"""


def test_secondary_parties_benefit_recipient_and_residence_map_as_the_same_json(
    source_system_client, json_system
):
    municipality_ensure("101")
    body = _with_case_relations(
        sample(),
        _sagspart("sekundaer-part", 1, "urn:oio:cpr-nr:0202802345", "Anden Part"),
        _sagspart("sekundaer-part", 2, "urn:oio:cvr-nr:29189846"),
        # Not identifiable by the index: left out, the case is still taken.
        _sagspart("sekundaer-part", 3, "urn:oio:us:personid:1234567", "Uden Cpr"),
        _sagspart("ydelsesmodtager", 1, "urn:oio:cpr-nr:0303903456", "Modtager Modtagersen"),
        _bopaelskommune("0101"),
    )
    processed(post_xml(source_system_client, IMPORT, body))
    json_record = {
        **CASE_JSON,
        "secondary_parties": [{"cpr": "020280-2345", "name": "Anden Part"}, {"cvr": "29189846"}],
        "benefit_recipient": {"cpr": "0303903456", "name": "Modtager Modtagersen"},
        "residence_municipality": "101",
    }
    response = client_for(json_system).put(
        f"/api/v1/cases/{CASE_ID}", data=json.dumps(json_record), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    xml_source = SourceSystem.objects.exclude(pk=json_system.pk).get()
    from_xml = record_to_payload(
        kind="case", instance=record_get(source_system=xml_source, kind="case", external_id=CASE_ID)
    )
    from_json = record_to_payload(
        kind="case",
        instance=record_get(source_system=json_system, kind="case", external_id=CASE_ID),
    )
    assert from_xml == from_json
    assert from_xml["secondary_parties"] == [
        {"cpr": "0202802345", "name": "Anden Part"},
        {"cvr": "29189846"},
    ]
    assert from_xml["benefit_recipient"] == {"cpr": "0303903456", "name": "Modtager Modtagersen"}
    assert from_xml["residence_municipality"] == "101"


def test_a_bad_secondary_party_or_residence_names_its_element(source_system_client):
    body = _with_case_relations(
        sample(),
        _sagspart("sekundaer-part", 1, "urn:oio:cvr-nr:29189846"),
        _sagspart("sekundaer-part", 2, "urn:oio:cpr-nr:3202802345"),
        _bopaelskommune("999"),
    )
    response = post_xml(source_system_client, IMPORT, body)
    assert response.status_code == 422, response.content
    by_code = {error["code"]: error for error in errors_of(response)}
    assert by_code["invalid_cpr"]["pointer"] == (
        f"{SAG}/sag:RelationListe/sag:Sagspart[3]/gd:ReferenceID"
    )
    assert by_code["unknown_municipality"]["pointer"] == (
        f"{SAG}/sag:RelationListe/sag:Sagsaktoer[2]/gd:LokalUdvidelseListe"
        "/si:SagsaktoerLokalUdvidelse/si:BrugervendtNoegle"
    )
    assert "3202802345" not in response.content.decode()
