"""Sessions, CSRF and redirects after login: session fixation (the key rotates at the MitID
and the admin login, a planted id is never adopted), logout ends the session on the server,
POSTs without a CSRF token are refused (portal, admin, preview), a cookie session cannot
write through the API, and no ``next`` sends anyone off-site (MitID login, admin login,
language switch, logout). Logins run through the mock MitID broker (the real OIDC flow)."""

from importlib import import_module
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from borgerblikket.models import SheetChange, SheetRow
from indexes.models import Case, DataAccess
from overblik import session as keys
from tests.borgerblikket import factories as f
from tests.indexes import api_support as api
from tests.plugins.portal import oidc_login

pytestmark = pytest.mark.django_db

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
COOKIE = settings.SESSION_COOKIE_NAME


def session_exists(key: str) -> bool:
    return SessionStore().exists(key)


def _start(client, next_url: str = ""):
    """Begin the MitID login (the session now holds state and nonce)."""
    return client.get(reverse("overblik:oidc-authenticate"), {"next": next_url} if next_url else {})


# --- session fixation ----------------------------------------------------------------------------


def test_the_session_key_rotates_at_the_mitid_login(client, oidc_settings):
    _start(client)
    before = client.session.session_key
    assert before and session_exists(before)
    response = oidc_login(client, sub="demo-kim")
    assert response.status_code == 302
    after = client.cookies[COOKIE].value
    assert after != before
    assert not session_exists(before)  # the pre-login session is gone, not merely left
    assert client.session[keys.CPR]


def test_a_planted_session_id_is_not_adopted(client, oidc_settings):
    planted = "a" * 32
    client.cookies[COOKIE] = planted
    oidc_login(client, sub="demo-kim")
    assert client.cookies[COOKIE].value != planted
    assert not session_exists(planted)


def test_an_attackers_own_anonymous_session_planted_in_a_victim_gives_no_access(oidc_settings):
    attacker = Client()
    _start(attacker)  # a real, anonymous session of the site
    fixed = attacker.cookies[COOKIE].value
    victim = Client()
    victim.cookies[COOKIE] = fixed
    oidc_login(victim, sub="demo-kim")
    assert victim.get(reverse("overblik:overview")).status_code == 200
    response = attacker.get(reverse("overblik:overview"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("overblik:login")
    )


def test_the_session_key_rotates_at_the_admin_login(client):
    user = f.municipal_admin("461", username="odense-fixation")
    planted = "b" * 32
    client.cookies[COOKIE] = planted
    client.get(reverse("admin:login"))
    session = client.session
    session["anonymous"] = True
    session.save()
    before = session.session_key
    client.cookies[COOKIE] = before
    response = client.post(reverse("admin:login"), {"username": user.username, "password": "pw"})
    assert response.status_code == 302
    after = client.cookies[COOKIE].value
    assert after not in (before, planted)
    assert not session_exists(before)
    assert client.get(reverse("admin:index")).status_code == 200


# --- logout ends the session on the server ------------------------------------------------------


def test_citizen_logout_deletes_the_session_on_the_server(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    key = client.cookies[COOKIE].value
    assert client.post(reverse("overblik:logout")).status_code == 302
    assert not session_exists(key)
    replay = Client()
    replay.cookies[COOKIE] = key  # a copy of the cookie from before the logout
    response = replay.get(reverse("overblik:overview"))
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("overblik:login")
    )


def test_admin_logout_deletes_the_session_on_the_server(client):
    client.force_login(f.municipal_admin("461", username="odense-logout"))
    key = client.cookies[COOKIE].value
    client.post(reverse("admin:logout"))
    assert not session_exists(key)
    replay = Client()
    replay.cookies[COOKIE] = key
    response = replay.get(reverse("admin:index"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


def test_session_cookies_are_http_only_and_same_site(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    cookie = client.cookies[COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"


# --- CSRF -----------------------------------------------------------------------------------------


@pytest.fixture
def csrf_client():
    return Client(enforce_csrf_checks=True)


def test_portal_posts_without_a_token_are_refused(csrf_client, oidc_settings):
    oidc_login(csrf_client, sub="demo-kim")
    assert csrf_client.post(reverse("overblik:logout")).status_code == 403
    assert csrf_client.get(reverse("overblik:overview")).status_code == 200  # still logged in
    response = csrf_client.post(reverse("overblik:set_language"), {"language": "en"})
    assert response.status_code == 403
    # With the page's token the same POST works.
    page = csrf_client.get(reverse("overblik:overview"))
    token = page.context["csrf_token"]
    assert (
        csrf_client.post(reverse("overblik:logout"), {"csrfmiddlewaretoken": token}).status_code
        == 302
    )


def test_admin_posts_without_a_token_are_refused(csrf_client):
    user = f.municipal_admin("461", username="odense-csrf")
    # The login form itself.
    response = csrf_client.post(
        reverse("admin:login"), {"username": user.username, "password": "pw"}
    )
    assert response.status_code == 403
    csrf_client.force_login(user)
    subject = f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    response = csrf_client.post(
        reverse("admin:borgerblikket_sheetrow_add"),
        {"municipality": "461", "kle_number": subject.number, "show_from": "01-02-2020"},
    )
    assert response.status_code == 403
    assert not SheetRow.objects.exists()
    change = SheetChange.objects.create(
        municipality_id="461", target="row", kle_number="15.17.06", action="created"
    )
    url = reverse("admin:borgerblikket_sheetchange_revert", args=[change.pk])
    assert csrf_client.post(url).status_code == 403


def test_preview_post_without_a_token_is_refused_and_logs_nothing(csrf_client):
    csrf_client.force_login(f.municipal_admin("461", username="odense-preview"))
    case = f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("461")))
    response = csrf_client.post(
        reverse("borgerblikket_admin:preview"), {"municipality": "461", "cpr": case.party_cpr}
    )
    assert response.status_code == 403
    assert not DataAccess.objects.exists()
    assert case.party_cpr not in response.content.decode()


def test_a_cookie_session_cannot_write_through_the_api(csrf_client, admin_user):
    """The API authenticates bearer keys only; a browser's session (even a superuser's, even
    with a valid CSRF token) is anonymous there, so a forged cross-site request is a 401."""
    api.kle_minimal()
    api.municipality_ensure("461")
    csrf_client.force_login(admin_user)
    page = csrf_client.get(reverse("admin:index"))
    token = page.context["csrf_token"]
    record = api.case_record("cookie-1")
    for headers in ({}, {"HTTP_X_CSRFTOKEN": token}):
        response = csrf_client.put(
            "/api/v1/cases/cookie-1", record, content_type="application/json", **headers
        )
        assert response.status_code == 401
        response = csrf_client.delete(
            "/api/v1/cases/cookie-1", HTTP_SOURCE_TIMESTAMP="2030-01-01T10:00:00+01:00", **headers
        )
        assert response.status_code == 401
    assert not Case.objects.exists()


# --- open redirects after login ------------------------------------------------------------------

EVIL = [
    "https://evil.example",
    "https://evil.example/overblik/",
    "//evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "https:evil.example",
    "http://testserver@evil.example/",
    "\t//evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
]


def assert_stays_on_site(location: str) -> None:
    """Where a browser goes with this Location: read as browsers do (leading blanks and
    control characters dropped, a backslash as a slash), resolved against our page."""
    as_browser = location.lstrip(" \t\n\r\x00").replace("\\", "/")
    target = urlsplit(urljoin("http://testserver/admin/login/", as_browser))
    assert (target.scheme, target.netloc) == ("http", "testserver"), location


@pytest.mark.parametrize("next_url", EVIL)
def test_the_mitid_login_never_returns_off_site(client, oidc_settings, next_url):
    response = oidc_login(client, sub="demo-kim", next_url=next_url)
    assert response.status_code == 302
    location = response["Location"]
    assert_stays_on_site(location)
    if "%2F" not in next_url:
        assert location == reverse("overblik:overview")


def test_the_login_pages_next_only_reaches_the_login_start(client, oidc_settings):
    response = client.get(reverse("overblik:login"), {"next": "https://evil.example"})
    body = response.content.decode()
    assert 'href="https://evil.example' not in body
    assert f'href="{reverse("overblik:oidc-authenticate")}?next=https%3A//evil.example"' in body


@pytest.mark.parametrize("next_url", EVIL)
def test_the_admin_login_never_returns_off_site(client, next_url):
    user = f.municipal_admin("461", username=f"odense-next-{abs(hash(next_url))}")
    response = client.post(
        reverse("admin:login"), {"username": user.username, "password": "pw", "next": next_url}
    )
    assert response.status_code == 302
    assert_stays_on_site(response["Location"])


@pytest.mark.parametrize("next_url", EVIL)
def test_the_language_switch_never_sends_off_site(client, next_url):
    response = client.post(reverse("overblik:set_language"), {"language": "en", "next": next_url})
    assert response.status_code == 302
    assert_stays_on_site(response["Location"])


def test_logout_goes_to_the_broker_and_back_to_us_whatever_next_says(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    response = client.post(
        reverse("overblik:logout") + "?next=https://evil.example", {"next": "//evil.example"}
    )
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        oidc_settings.OIDC_OP_LOGOUT_ENDPOINT
    )
    back = parse_qs(location.query)["post_logout_redirect_uri"][0]
    assert back == "http://testserver" + reverse("overblik:logged-out")
