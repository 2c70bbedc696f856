"""The OpenAPI schema is the contract: it matches the code and the real answers.

- the schema generated from the code equals the committed ``docs/openapi.yaml``
  (regenerate with ``python manage.py spectacular --file docs/openapi.yaml``);
- real requests and answers of every endpoint validate against that file;
- every ``pattern`` means in Python what it means in JSON Schema (ECMA 262).
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import json
import re
from pathlib import Path

import pytest
import yaml
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiYamlRenderer
from hypothesis import given, settings
from hypothesis import strategies as st
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse

from tests.indexes.api_support import (
    case_record,
    document_record,
    grant_record,
    kle,  # noqa: F401
    payment_record,
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


def _generated() -> bytes:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return OpenApiYamlRenderer().render(schema, renderer_context={})


def test_committed_schema_matches_the_code():
    generated = yaml.safe_load(_generated())
    committed = yaml.safe_load(COMMITTED.read_text())
    assert generated == committed, (
        "docs/openapi.yaml is out of date: run "
        "`python manage.py spectacular --file docs/openapi.yaml` and review the diff"
    )


def _patterns(node) -> set[str]:
    """Every ``pattern`` a value must match (those under ``not``, which a value must not
    match, are left out)."""
    if isinstance(node, list):
        return set().union(*map(_patterns, node))
    if not isinstance(node, dict):
        return set()
    found = {node["pattern"]} if isinstance(node.get("pattern"), str) else set()
    return found.union(*(_patterns(value) for key, value in node.items() if key != "not"))


PATTERNS = sorted(_patterns(yaml.safe_load(COMMITTED.read_text())))


def test_every_pattern_is_anchored_at_both_ends_of_the_value():
    assert PATTERNS
    unanchored = [p for p in PATTERNS if not (p.startswith("^") and p.endswith(r"(?!\n)$"))]
    assert not unanchored, unanchored


def _decimal_properties(node, where=""):
    """(where, schema) of every ``format: decimal`` string in ``node``."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _decimal_properties(item, f"{where}/{i}")
    elif isinstance(node, dict):
        if node.get("format") == "decimal":
            yield where, node
        for key, value in node.items():
            yield from _decimal_properties(value, f"{where}/{key}")


def test_every_amount_in_requests_and_answers_is_a_non_negative_decimal():
    """An amount's pattern is the code's: drf-spectacular's own (-?\\d{0,12}...) matched
    "", "-" and "-1", and \\d takes non-ASCII digits in Python (issue 12.10)."""
    found = list(_decimal_properties(yaml.safe_load(COMMITTED.read_text())))
    assert any("PaymentInRequest" in w for w, _ in found)
    assert any(w.startswith("/components/schemas/PaymentIn/") for w, _ in found)
    for where, schema in found:
        pattern = schema.get("pattern")
        assert pattern, where
        for refused in ["", "-", "-1", "1.234", "\u0661", "1\n"]:
            assert not re.search(pattern, refused), (where, refused)
        for taken in ["0", "1234.50", "999999999999.99"]:
            assert re.search(pattern, taken), (where, taken)


@pytest.mark.parametrize("pattern", PATTERNS)
@given(data=st.data())
@settings(max_examples=25, deadline=None, database=None)
def test_a_pattern_means_in_python_what_it_means_in_json_schema(pattern, data):
    """JSON Schema's ``$`` (ECMA 262, no ``m`` flag) is the end of the value; Python's
    also matches before a final line break. Schemathesis generates with Hypothesis'
    ``from_regex`` and checks with ``re.search``, so with a bare ``$`` it sends
    "101\n" as a valid 3-digit code, which the code refuses. Every value ``re.search``
    takes must be one the pattern takes whole."""
    value = data.draw(
        st.one_of(
            st.from_regex(pattern),  # as Schemathesis generates
            st.from_regex(pattern, fullmatch=True).map(lambda v: v + "\n"),
        )
    )
    if re.search(pattern, value):
        assert re.fullmatch(pattern, value), repr(value)


def test_schema_covers_every_endpoint():
    paths = yaml.safe_load(COMMITTED.read_text())["paths"]
    for segment in ("cases", "documents", "grants", "payments"):
        assert set(paths[f"/api/v1/{segment}/{{external_id}}"]) >= {"get", "put", "delete"}
        assert "get" in paths[f"/api/v1/{segment}"]
    assert "post" in paths["/api/v1/batches"]
    assert "get" in paths["/api/v1/batches/{batch_id}"]


@pytest.fixture(scope="module")
def openapi():
    # Problem bodies are JSON too (RFC 9457 §3).
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_dict(yaml.safe_load(COMMITTED.read_text()), config=config)


def _check(openapi, response):
    request = DjangoOpenAPIRequest(response.wsgi_request)
    openapi.validate_response(request, DjangoOpenAPIResponse(response))
    return response


@pytest.mark.django_db
@pytest.mark.usefixtures("kle")
def test_real_answers_validate_against_the_schema(openapi, source_system_client):
    client = source_system_client
    check = lambda response: _check(openapi, response)  # noqa: E731

    def put(path, record, **headers):
        response = client.put(
            path, data=json.dumps(record), content_type="application/json", **headers
        )
        openapi.validate_request(DjangoOpenAPIRequest(response.wsgi_request))
        return check(response)

    assert put("/api/v1/cases/c-1", case_record("c-1")).status_code == 201
    assert put("/api/v1/cases/c-1", case_record("c-1", minutes=1, title="Ny")).status_code == 200
    assert put("/api/v1/documents/d-1", document_record("c-1", "d-1")).status_code == 201
    assert put("/api/v1/grants/g-1", grant_record("g-1")).status_code == 201
    assert put("/api/v1/payments/p-1", payment_record("g-1", "p-1")).status_code == 201
    for segment, external_id in [
        ("cases", "c-1"),
        ("documents", "d-1"),
        ("grants", "g-1"),
        ("payments", "p-1"),
    ]:
        assert check(client.get(f"/api/v1/{segment}/{external_id}")).status_code == 200
        assert check(client.get(f"/api/v1/{segment}")).status_code == 200
    # Problems: 404, 412, 422, 401.
    assert check(client.get("/api/v1/cases/none")).status_code == 404
    assert put("/api/v1/cases/c-1", case_record("c-1"), HTTP_IF_MATCH='"9"').status_code == 412
    bad = client.put(
        "/api/v1/cases/c-2",
        data=json.dumps(case_record("c-2", kle_number="99.99.99")),
        content_type="application/json",
    )
    assert check(bad).status_code == 422
    assert check(client.delete("/api/v1/cases/c-1")).status_code == 422
    assert (
        check(
            client.delete("/api/v1/documents/d-1", HTTP_SOURCE_TIMESTAMP="2024-06-01T00:00:00Z")
        ).status_code
        == 200
    )
    batch = client.post(
        "/api/v1/batches",
        data=json.dumps(
            {
                "records": [
                    {"kind": "case", "record": case_record("c-3")},
                    {"kind": "case", "record": case_record("c-4", facet="Q1")},
                ]
            }
        ),
        content_type="application/json",
    )
    assert check(batch).status_code == 202
    assert check(client.get(batch.json()["url"])).status_code == 200


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/batches" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc" in html
    sources = re.findall(r"""(?:src|href)=["']([^"']+)""", html)
    assert sources, html
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources
    assert client.get(next(s for s in sources if s.endswith(".js"))).status_code == 200
