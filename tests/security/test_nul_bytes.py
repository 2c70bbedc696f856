"""A NUL byte (%00) anywhere in a URL is a 400, before any view sees it (config/middleware.py).

PostgreSQL refuses NUL in text, so a NUL that reached a lookup or a filter was a
500: ``/api/v1/cases/a%00b``, ``admin/.../sheet/%00/change/``, ``quality/461%00/``,
``case/?status=%00``, autocomplete ``term=%00``. Every URL pattern of the project
(the authorisation matrix's walk) is tried with NUL in its path and its query, by
a caller who gets past the login: an operator in the admin, a citizen in the
portal, a source system in the API.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.indexes import api_support as api
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login
from tests.security.test_authz_matrix import sample_path, url_patterns

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

# Query names the project's views read (filters, search, autocomplete, paging, login).
QUERY = "?q=%00&status=%00&term=%00&page=%00&next=%00&o=%00&source_timestamp=%00"


def nul_variants(path: str) -> list[str]:
    """The sample path with NUL in it: after every segment, as a whole id, and in the query."""
    segments = [s for s in path.split("/") if s]
    tail = "/" if path.endswith("/") else ""
    variants = [path + QUERY]
    for index in range(len(segments)):
        for replacement in (segments[index] + "%00", "%00", "a%00b"):
            changed = [*segments[:index], replacement, *segments[index + 1 :]]
            variants.append("/" + "/".join(changed) + tail)
    return variants


@pytest.fixture
def callers(db, oidc_settings):
    """Who gets past each kind of login: an operator, a citizen, a source system."""
    portal_data.build()
    operator = Client()
    operator.force_login(get_user_model().objects.create_superuser("nul-operator", password="x"))
    citizen = Client()
    assert oidc_login(citizen, sub="demo-kim").status_code == 302
    system = api.client_for(
        api.SourceSystem.objects.create(
            municipality=api.municipality_ensure("461"), product="SBSYS", name="SBSYS"
        )
    )
    return {"admin": operator, "api": system, "portal": citizen}


def caller_for(callers, path: str):
    if path.startswith("/api/"):
        return callers["api"]
    if path.startswith("/admin/"):
        return callers["admin"]
    return callers["portal"]


def test_a_nul_byte_in_any_url_is_a_400_before_any_view(callers):
    answers = {}
    for route in sorted(set(url_patterns().values())):
        for path in nul_variants(sample_path(route)):
            response = caller_for(callers, path).get(path)
            answers[path] = response.status_code
            if path.startswith("/api/"):
                assert response["Content-Type"].startswith("application/problem+json"), path
                assert response.json()["type"].endswith("malformed-request"), path
    wrong = {path: status for path, status in answers.items() if status != 400}
    assert wrong == {}, f"{len(wrong)} of {len(answers)} URLs with NUL did not answer 400"
    assert len(answers) > 1000  # every pattern, in path and query


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/v1/cases/a%00b"),
        ("put", "/api/v1/cases/a%00b"),
        ("delete", "/api/v1/cases/a%00b?x=%00"),
        ("post", "/api/v1/batches?x=%00"),
        ("get", "/admin/borgerblikket/sheet/%00/change/"),
        ("post", "/admin/borgerblikket/sheet/%00/change/"),
        ("get", "/admin/borgerblikket/quality/461%00/"),
        ("get", "/admin/indexes/case/?status=%00"),
        ("get", "/admin/autocomplete/?term=%00&app_label=indexes&model_name=case&field_name=x"),
        ("get", "/sager/?q=%00"),
        ("get", "/log-ind/?next=/overblik/%00"),
    ],
)
def test_the_reported_urls_answer_400_whatever_the_method(callers, method, path):
    response = getattr(caller_for(callers, path), method)(path)
    assert response.status_code == 400, (method, path, response.status_code)
    body = response.content.decode()
    assert "\x00" not in body and "%00" not in body  # the NUL is not echoed back
    if not path.startswith("/api/"):
        assert re.search(r"<title>[^<]+</title>", body), body[:500]  # the portal's own page
