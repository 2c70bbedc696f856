"""Schemathesis against the index API: generated requests, real app, real PostgreSQL.

The schema is the one the running app serves (``/api/v1/schema/``, which
``tests/indexes/test_api_schema.py`` keeps equal to ``docs/openapi.yaml``).
Requests go through Django's WSGI handler in this process, so each test's
transaction holds everything they write; the source system's API key is the
only authentication.

Every answer must: not be a 5xx; use a status code, content type, headers and
body the schema documents; and, when it is an error, be
``application/problem+json`` whose ``status`` is the HTTP status. Schema-valid
data may still break a rule the schema cannot express (a KLE number that does
not exist, another municipality, an ``If-Match`` that no longer matches), so
positive data may be answered 412/422 as well as 2xx; negative data (what the
schema forbids) must be refused with a 4xx.

Bounded for CI: ``SECURITY_FUZZ_EXAMPLES`` examples per operation (default 15)
and ``SECURITY_FUZZ_STATEFUL`` stateful scenarios (default 20).
"""

import hashlib
import json
import os
import secrets
import zlib

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, settings

from indexes.models import ApiCredential, Change, SourceSystem
from indexes.services.credentials import credential_authenticate
from tests.indexes.api_support import CPR, kle_minimal, municipality_ensure

EXAMPLES = int(os.environ.get("SECURITY_FUZZ_EXAMPLES", "15"))
SCENARIOS = int(os.environ.get("SECURITY_FUZZ_STATEFUL", "20"))
PROBLEM = "application/problem+json"
MUNICIPALITY = "461"

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            # No example database: runs are reproducible from the seed Hypothesis prints.
            "database": "none",
        },
        "checks": {
            # Business rules beyond the schema (see the module docstring).
            "positive_data_acceptance": {"expected-statuses": ["2XX", "404", "412", "422"]},
        },
        "phases": {"stateful": {"max-steps": 8}},
        "operations": [
            {
                # The XML operations (SF1470, YI) take XML text: its form is KOMBIT's XSDs,
                # which the OpenAPI schema cannot state, so generated text that the schema
                # allows may be no XML at all (a 400, malformed-xml). Still: no 5xx, and
                # every other check (tests/indexes/test_api_sf1470.py covers the XML).
                "include-path-regex": "^/api/v1/(sf1470|yi)/",
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2XX", "400", "404", "412", "422"]
                    }
                },
            }
        ],
    }
)

APP = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", APP, config=CONFIG)

# Hypothesis settings of the stateless tests (the fixtures hold one transaction
# for all the examples of an operation, which is what we want here).
FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    database=None,
)


@schemathesis.check
def errors_are_problems(ctx, response, case):
    """Every 4xx/5xx answer of the API is an RFC 9457 problem document."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith(PROBLEM), f"error answered as {content_type!r}"
    body = response.json()
    assert body["status"] == response.status_code, body
    assert body["type"].startswith("urn:overblik:problem:"), body
    for error in body.get("errors", []):
        assert isinstance(error["pointer"], str), error
        assert error["pointer"] == "" or error["pointer"].startswith("/"), error
    assert CPR not in response.text
    return True


# Schema-valid bodies almost never name a KLE subject, facet or municipality
# that exists, so half of the positive PUTs are grounded in the test data just
# before it is sent; the write paths (201/200, ETag, Location, stale, replay)
# are reached too. Only string values the schema allows are replaced (by
# values it allows), so a positive case stays positive.
_GROUNDED = {"municipality": MUNICIPALITY, "kle_number": "15.62.10", "facet": "G01"}


def ground(case) -> None:
    meta = case.meta
    if (
        case.method != "PUT"
        or meta is None
        or not meta.generation.mode.is_positive
        or not isinstance(case.body, dict)
        # Half of them, chosen by content: the same case is grounded on every
        # replay (Hypothesis requires deterministic tests).
        or zlib.crc32(json.dumps(case.body, sort_keys=True, default=str).encode()) % 2
    ):
        return
    body = dict(case.body)
    for name, value in _GROUNDED.items():
        if isinstance(body.get(name), str):
            body[name] = value
    if isinstance(body.get("party"), dict) and "cpr" in body["party"]:
        body["party"] = {"cpr": CPR}
    if "external_id" in body:
        body["external_id"] = case.path_parameters["external_id"]
    case.body = body


@pytest.fixture
def in_process_app():
    """Django's WSGI handler on the test's own connection (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield APP
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# One key for the run: Schemathesis applies auth when it builds a case, and
# some cases are built at collection, before a test's transaction stores the
# credential (``api_key`` below stores exactly this key).
KEY_ID = secrets.token_hex(8)
KEY_SECRET = secrets.token_urlsafe(32)
KEY = f"{KEY_ID}.{KEY_SECRET}"


@schema.auth(refresh_interval=None)
class SourceSystemKey:
    """``Authorization: Bearer <key>`` of the test's source system on every generated request."""

    def get(self, case, context):
        return KEY

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@pytest.fixture
def api_key(db, in_process_app):
    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure(MUNICIPALITY), product="SBSYS", name="SBSYS fuzz"
    )
    ApiCredential.objects.create(
        source_system=system,
        label="schemathesis",
        key_id=KEY_ID,
        secret_sha256=hashlib.sha256(KEY_SECRET.encode()).hexdigest(),
    )
    assert credential_authenticate(key=KEY) is not None
    return KEY


@pytest.mark.postgres
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_within_its_contract(case, api_key):
    ground(case)
    case.call_and_validate(additional_checks=[errors_are_problems])


@pytest.mark.postgres
def test_stateful_sequences_keep_the_contract(api_key):
    """PUT, GET, DELETE of the same ``external_id`` in generated orders (links inferred)."""

    before = Change.objects.count()

    class Workflow(schema.as_state_machine()):
        # Every scenario starts from the same database: what one scenario wrote is rolled
        # back before the next. Hypothesis replays prefixes of earlier scenarios while it
        # generates; had the first one's PUT been kept, the replay's PUT would answer 200
        # instead of 201, follow another link, and fail as FlakyStrategyDefinition.
        def setup(self):
            assert Change.objects.count() == before, "a scenario found an earlier one's writes"
            self.savepoint = transaction.savepoint()

        def teardown(self):
            transaction.savepoint_rollback(self.savepoint)

        def before_call(self, case):
            ground(case)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            super().validate_response(
                response, case, additional_checks=[errors_are_problems], **kwargs
            )

    Workflow.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=8,
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
