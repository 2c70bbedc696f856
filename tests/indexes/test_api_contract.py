"""The OpenAPI schema says exactly what the code accepts (issue 12.10): a positive contract.

Schemathesis generates requests that the committed schema calls valid for every write
operation (PUT and DELETE of the four kinds, POST of a batch) and sends them to the app (Django's
WSGI handler in this process, PostgreSQL). None may be refused for its form: every
problem in a 400/422 answer, and every rejected record of a 202, must be one of the
rules a schema cannot express (``BUSINESS_RULES``: the KLE number exists, the
municipality is the caller's, a period is not reversed, ...). None may be a 5xx.

When the schema is looser than the code (a pattern removed, a list bound missing),
generated values soon break a rule of form and this test fails: without the
``pattern`` of ``municipality`` it reports a refused ``invalid_format``, without that
of ``case_number`` a refused ``not_ascii`` (``test_a_looser_schema_is_caught`` runs
the same check against such a schema and requires the failure).

Bounded: ``CONTRACT_EXAMPLES`` examples per operation (default 40).
"""

import copy
import hashlib
import json
import os
import secrets

import pytest
import schemathesis
import yaml
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings

from indexes import payloads
from indexes.models import ApiCredential, SourceSystem
from tests.indexes.api_support import CPR, kle_minimal, municipality_ensure
from tests.indexes.test_api_schema import COMMITTED

EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "40"))
MUNICIPALITY = "461"

# Rules beyond any schema: they need the database, several fields or a checksum.
BUSINESS_RULES = {
    # the database: KLE, facets, municipalities, the caller's own records
    "unknown_kle",
    "kle_not_topic",
    "kle_expired",
    "kle_moved",
    "unknown_facet",
    "facet_expired",
    "unknown_municipality",
    "foreign_municipality",
    "case_number_taken",
    "unknown_case",
    "unknown_grant",
    "unknown_benefit",
    "benefit_not_economic",
    "benefit_has_payments",
    "related_case_conflict",
    # several fields of one record
    "period_reversed",
    "progress_order",
    "progress_overlap",
    "awaiting_closed_case",
    "awaiting_before_created",
    "due_without_wait",  # awaiting_party_due and _reason only with awaiting_party_since
    "reason_without_wait",
    "due_before_wait",
    "related_self",
    "duplicate",
    "payment_plan_not_economic",
    "external_id_mismatch",  # the body's id differs from the URL's
    # the state of earlier requests
    "idempotency_key_reused",
    "timestamp_conflict",  # other content already delivered with the same timestamp
    # checksums and calendars: CPR birth date and century, CVR modulus 11
    "invalid_cpr",
    "invalid_cvr",
}

CONFIG = schemathesis.Config.from_dict(
    {"generation": {"mode": "positive", "max-examples": EXAMPLES, "database": "none"}}
)
APP = WSGIHandler()
# The committed file (test_api_schema.py keeps it equal to the code's).
RAW_SCHEMA = yaml.safe_load(COMMITTED.read_text())


def _schema(raw: dict):
    schema = schemathesis.openapi.from_dict(raw, config=CONFIG)
    schema.app = APP
    # The XML operations (SF1470, YI) declare their body as XML text: its form is KOMBIT's
    # XSDs, which the OpenAPI schema cannot state (tests/indexes/test_api_sf1470.py).
    return schema.include(method=["PUT", "POST", "DELETE"]).exclude(
        path_regex=r"^/api/v1/(?:sf1470|yi)/"
    )


schema = _schema(RAW_SCHEMA)

KEY_ID = secrets.token_hex(8)
KEY_SECRET = secrets.token_urlsafe(32)
KEY = f"{KEY_ID}.{KEY_SECRET}"
SETTINGS = settings(
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.large_base_example,
    ],
)


# Grounding replaces only well-formed values (by the code's own formats): a value the
# schema let through although it is malformed is sent as it is and must fail the test.
_GROUNDED = {
    "municipality": (payloads.MUNICIPALITY_FORMAT, MUNICIPALITY),
    "kle_number": (payloads.KLE_NUMBER_FORMAT, "15.62.10"),
    "facet": (payloads.FACET_FORMAT, "G01"),
}


def _ground(record: dict) -> dict:
    """Well-formed values that also exist in the test data (a KLE subject, the caller's
    municipality, a valid CPR), so many requests reach the write paths, not only the
    domain checks."""
    record = dict(record)
    for name, (form, value) in _GROUNDED.items():
        if isinstance(record.get(name), str) and form.fullmatch(record[name]):
            record[name] = value
    party = record.get("party")
    if isinstance(party, dict) and payloads.CPR_FORMAT.fullmatch(str(party.get("cpr"))):
        record["party"] = {"cpr": CPR}
    return record


def _prepare(case) -> None:
    case.headers = dict(case.headers or {}) | {"Authorization": f"Bearer {KEY}"}
    body = case.body
    if case.method == "PUT" and isinstance(body, dict):
        case.body = _ground(body)
        if "external_id" in body:
            case.body["external_id"] = case.path_parameters["external_id"]
    elif case.method == "POST" and isinstance(body, dict):
        case.body = body | {
            "records": [
                item | {"record": _ground(item["record"])}
                if isinstance(item, dict) and isinstance(item.get("record"), dict)
                else item
                for item in body.get("records", [])
            ]
        }


def _refused_for_form(response) -> list[dict]:
    """The problems of ``response`` that are about the form of the request."""
    if response.status_code in (400, 422):
        problems = response.json().get("errors") or [{"code": "(no errors)", "pointer": ""}]
    elif response.status_code == 202 or (
        response.status_code == 200 and "rejected" in response.json()  # a batch's dry run
    ):
        problems = [p for r in response.json()["rejected"] for p in r["problems"]]
        # A dry run answers the workers' outcomes as well.
        problems += [p for r in response.json().get("records", []) for p in r["problems"]]
    else:
        return []
    return [p for p in problems if p["code"] not in BUSINESS_RULES]


def _send(case) -> None:
    _prepare(case)
    response = case.call()
    assert response.status_code < 500, response.text[:2000]
    wrong = _refused_for_form(response)
    assert not wrong, (
        f"a schema-valid request was refused for its form: {wrong}\n"
        f"{case.method} {case.formatted_path}\n{json.dumps(case.body, ensure_ascii=False)[:3000]}"
    )


@pytest.fixture
def in_process_app():
    """Django's WSGI handler on the test's own connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield APP
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_key(db, in_process_app):
    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure(MUNICIPALITY), product="SBSYS", name="SBSYS contract"
    )
    ApiCredential.objects.create(
        source_system=system,
        label="contract",
        key_id=KEY_ID,
        secret_sha256=hashlib.sha256(KEY_SECRET.encode()).hexdigest(),
    )
    return KEY


@pytest.mark.postgres
@schema.parametrize()
@SETTINGS
def test_no_schema_valid_write_is_refused_for_its_form(case, api_key):
    _send(case)


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("component", "field"),
    [("CaseInRequest", "municipality"), ("CaseInRequest", "case_number")],
)
def test_a_looser_schema_is_caught(api_key, component, field):
    """The same check against the schema without one field's pattern finds a refusal."""
    raw = copy.deepcopy(RAW_SCHEMA)
    del raw["components"]["schemas"][component]["properties"][field]["pattern"]
    operation = _schema(raw)["/api/v1/cases/{external_id}"]["PUT"]

    @given(case=operation.as_strategy())
    @settings(SETTINGS, max_examples=EXAMPLES * 5, phases=[Phase.generate])  # no shrinking
    def run(case):
        _send(case)

    with pytest.raises(AssertionError, match=f"refused for its form.*'/{field}'"):
        run()
