"""Login through the mock MitID broker (the real OpenID Connect flow), logout and session expiry."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from overblik import session as keys
from overblik.models import Citizen
from overblik.services import citizen_cpr_digest
from simulators.mitid.citizens import DEMO_CITIZENS
from tests.plugins.portal import oidc_login

pytestmark = pytest.mark.django_db

KIM = next(c for c in DEMO_CITIZENS if c.sub == "demo-kim")


def test_login_identifies_the_citizen_by_cpr_and_keeps_the_number_server_side(
    client, oidc_settings
):
    response = oidc_login(client, sub="demo-kim")

    assert response.status_code == 302
    assert response["Location"] == reverse("overblik:overview")
    assert client.session[keys.CPR] == KIM.cpr
    citizen = Citizen.objects.get()
    assert citizen.cpr_digest == citizen_cpr_digest(cpr=KIM.cpr)
    assert KIM.cpr not in citizen.cpr_digest
    assert KIM.cpr not in citizen.user.username
    page = client.get(reverse("overblik:overview"))
    body = page.content.decode()
    assert "Kim Borgersen" in body
    assert KIM.cpr not in body and KIM.cpr[:6] not in body


def test_the_same_citizen_gets_the_same_account_and_knows_the_previous_visit(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    client.post(reverse("overblik:logout"))
    previous = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    Citizen.objects.update(last_seen_at=previous)

    oidc_login(client, sub="demo-kim")

    assert client.session[keys.SINCE] == previous.isoformat()
    assert Citizen.objects.count() == 1
    assert get_user_model().objects.count() == 1
    assert Citizen.objects.get().last_seen_at > previous


def test_the_first_visit_has_no_previous_visit(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    assert client.session[keys.SINCE] is None


def test_two_citizens_get_two_accounts(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    client.post(reverse("overblik:logout"))
    oidc_login(client, sub="demo-hans")
    assert Citizen.objects.count() == 2
    assert client.session[keys.NAME] == "Hans Emil Hansen"


def test_too_low_assurance_level_is_refused_with_a_plain_reason(client, oidc_settings):
    response = oidc_login(client, sub="demo-lav-sikring")

    assert response["Location"] == reverse("overblik:login-failed")
    assert keys.CPR not in client.session
    page = client.get(response["Location"])
    assert page.status_code == 403
    assert "sikringsniveau" in page.content.decode()
    assert Citizen.objects.count() == 0


def test_a_login_without_a_cpr_claim_is_refused(client, oidc_settings):
    response = oidc_login(client, sub="someone-without-cpr")

    assert response["Location"] == reverse("overblik:login-failed")
    page = client.get(response["Location"])
    assert "CPR-nummer" in page.content.decode()
    assert not page.wsgi_request.user.is_authenticated


def test_the_accepted_assurance_levels_are_a_setting(client, oidc_settings):
    oidc_settings.OVERBLIK_ACCEPTED_LOA = ["https://data.gov.dk/concept/core/nsis/loa/High"]
    response = oidc_login(client, sub="demo-kim")  # Kim logs in at "substantial"
    assert response["Location"] == reverse("overblik:login-failed")
    client.get(reverse("overblik:login"))
    response = oidc_login(client, sub="demo-hans")  # Hans at "high"
    assert response["Location"] == reverse("overblik:overview")


def test_the_cpr_claim_name_is_a_setting(client, oidc_settings):
    oidc_settings.OVERBLIK_CPR_CLAIM = "cprNumberIdentifier"  # the mock issues "dk.cpr"
    response = oidc_login(client, sub="demo-kim")
    assert response["Location"] == reverse("overblik:login-failed")


def test_an_id_token_from_another_issuer_is_refused(client, oidc_settings):
    oidc_settings.OIDC_OP_ISSUER = "https://broker.example.dk"
    response = oidc_login(client, sub="demo-kim")
    assert response["Location"] == reverse("overblik:login-failed")
    assert keys.CPR not in client.session


def test_pages_need_a_logged_in_citizen(client):
    response = client.get(reverse("overblik:overview"))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('overblik:login')}?next=/overblik/"


def test_a_staff_user_without_a_cpr_is_no_citizen(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("overblik:overview"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("overblik:login"))


def test_login_returns_to_the_page_asked_for(client, oidc_settings):
    response = oidc_login(client, sub="demo-kim", next_url="/overblik/")
    assert response["Location"] == "/overblik/"


def test_logout_ends_the_session_and_the_brokers_without_a_token_in_the_url(
    citizen_client, oidc_settings
):
    assert citizen_client.get(reverse("overblik:logout")).status_code == 405
    response = citizen_client.post(reverse("overblik:logout"))

    assert response.status_code == 302
    location = response["Location"]
    assert location.startswith(oidc_settings.OIDC_OP_LOGOUT_ENDPOINT)
    assert "client_id=overblik-tests" in location
    assert "id_token_hint" not in location
    assert "logget-af" in location
    assert keys.CPR not in citizen_client.session
    assert citizen_client.get(reverse("overblik:overview")).status_code == 302


def test_one_click_logs_out_the_broker_sends_straight_back(client, oidc_settings):
    """Issue 11.14: the header's one POST ends the session here and the (mock) broker
    answers its end-session request by sending the browser straight back to "Du er logget
    af" — no second "Log af" button to press."""
    import requests

    client.defaults["HTTP_HOST"] = "127.0.0.1"  # the portal on loopback, as under make run
    oidc_login(client, sub="demo-kim")
    response = client.post(reverse("overblik:logout"))
    assert response.status_code == 302
    at_broker = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert at_broker.status_code in (302, 303), at_broker.text[:300]
    back = at_broker.headers["Location"]
    assert back.endswith(reverse("overblik:logged-out"))
    assert client.get(reverse("overblik:overview")).status_code == 302


def test_the_broker_sends_nobody_to_another_site_after_logout(oidc_settings):
    """The mock redirects only to a loopback address: it is no open redirect."""
    import requests

    end_session = oidc_settings.OIDC_OP_LOGOUT_ENDPOINT
    answer = requests.get(
        end_session,
        params={"client_id": "overblik-tests", "post_logout_redirect_uri": "https://evil.example/"},
        allow_redirects=False,
        timeout=10,
    )
    assert "evil.example" not in answer.headers.get("Location", "")


def test_logout_needs_the_csrf_token(oidc_settings):
    """A cross-site form cannot log the citizen out: the POST needs the page's CSRF token."""
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    oidc_login(client, sub="demo-kim")
    assert client.post(reverse("overblik:logout")).status_code == 403
    assert client.get(reverse("overblik:overview")).status_code == 200
    page = client.get(reverse("overblik:overview")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert (
        client.post(reverse("overblik:logout"), {"csrfmiddlewaretoken": token}).status_code == 302
    )
    assert client.get(reverse("overblik:overview")).status_code == 302


def test_the_session_ends_after_15_minutes_without_a_request(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        clock.shift(dt.timedelta(minutes=14))
        assert client.get(reverse("overblik:overview")).status_code == 200
        # Sliding: 14 minutes after the last request is still fine.
        clock.shift(dt.timedelta(minutes=14))
        assert client.get(reverse("overblik:overview")).status_code == 200
        clock.shift(dt.timedelta(minutes=15, seconds=30))
        response = client.get(reverse("overblik:overview"))

    assert response.status_code == 302
    assert response["Location"] == reverse("overblik:login")
    page = client.get(response["Location"])
    assert "Du er blevet logget af" in page.content.decode()
    assert keys.CPR not in client.session


def test_a_session_ends_at_the_latest_after_the_maximum_however_busy(client, oidc_settings):
    oidc_settings.OVERBLIK_SESSION_MAX_SECONDS = 3600
    oidc_login(client, sub="demo-kim")
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            clock.shift(dt.timedelta(minutes=11))
            assert client.get(reverse("overblik:overview")).status_code == 200
        clock.shift(dt.timedelta(minutes=6))
        assert client.get(reverse("overblik:overview")).status_code == 302


def test_the_session_cookie_expires_with_the_idle_timeout(client, oidc_settings):
    oidc_login(client, sub="demo-kim")
    # The cookie is a backstop a minute behind the idle check (activity is written once a minute).
    assert client.session.get_expiry_age() == 16 * 60


def test_the_login_page_says_plainly_that_it_is_a_demo_only_with_the_mock(client, settings):
    settings.OVERBLIK_MOCK_OIDC_URL = "http://127.0.0.1:9400"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "http://127.0.0.1:9400/oauth2/authorize"
    settings.OIDC_RP_CLIENT_ID = "x"
    assert "Dette er en demo" in client.get(reverse("overblik:login")).content.decode()

    settings.OVERBLIK_MOCK_OIDC_URL = ""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://broker.example.dk/authorize"
    body = client.get(reverse("overblik:login")).content.decode()
    assert "Dette er en demo" not in body
    assert "Log ind med MitID" in body


def test_without_a_configured_provider_the_login_page_says_so(client, settings):
    settings.OVERBLIK_MOCK_OIDC_URL = ""
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = ""
    body = client.get(reverse("overblik:login")).content.decode()
    assert "Login er ikke sat op" in body
    assert client.get("/oidc/authenticate/")["Location"] == reverse("overblik:login")
