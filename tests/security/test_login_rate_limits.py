"""Login rate limits: the MitID login's start and callback per IP, the admin login per IP and
per user name (overblik/ratelimits.py). Each test counts on fresh keys (its own IP addresses
and user names), so no counter of another test or run is shared; hour windows keep a test
from straddling a window's end."""

import itertools
import logging
import uuid

import pytest
from django.urls import reverse

from tests.borgerblikket import factories as f

pytestmark = pytest.mark.django_db

_hosts = itertools.count(1)


def fresh_ip() -> str:
    """An address no other test (or earlier run of this one) counted against."""
    n = uuid.uuid4().int
    return f"10.{n % 250 + 1}.{n // 250 % 250 + 1}.{next(_hosts) % 250 + 1}"


@pytest.fixture
def limits(settings):
    settings.RATELIMIT_ENABLE = True
    settings.OVERBLIK_LOGIN_RATE_PER_IP = "3/h"
    settings.OVERBLIK_ADMIN_LOGIN_RATE_PER_IP = "4/h"
    settings.OVERBLIK_ADMIN_LOGIN_RATE_PER_USERNAME = "3/h"
    # A configured broker; the start view only redirects to it (no request is made).
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://broker.example.dk/authorize"
    settings.OIDC_RP_CLIENT_ID = "overblik-tests"
    return settings


def assert_limited_page(response, *, english: bool = False) -> str:
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 3600
    body = response.content.decode()
    assert "dkfds-borgerdk.min.css" in body  # the portal's design
    # The wait is the window's rest, rounded up to whole minutes.
    minutes = max(1, -(-int(response["Retry-After"]) // 60))
    if english:
        assert "Too many attempts" in body
        assert f"Wait {minutes} minute{'s' if minutes > 1 else ''}" in body
    else:
        assert "For mange forsøg" in body
        assert f"Vent {minutes} minut{'ter' if minutes > 1 else ''}," in body
    return body


def test_the_mitid_login_start_is_limited_per_ip(client, limits):
    ip, other_ip = fresh_ip(), fresh_ip()
    for _ in range(3):
        response = client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip)
        assert response.status_code == 302
        assert response["Location"].startswith("https://broker.example.dk/authorize")
    assert_limited_page(client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip))
    # Another address is not affected.
    assert (
        client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=other_ip).status_code == 302
    )


def test_the_mitid_callback_is_limited_per_ip_apart_from_the_start(client, limits):
    ip = fresh_ip()
    url = reverse("overblik:oidc-callback") + "?code=guess&state=guess"
    for _ in range(3):
        response = client.get(url, REMOTE_ADDR=ip)
        assert response.status_code == 302
        assert response["Location"] == reverse("overblik:login-failed")
    assert_limited_page(client.get(url, REMOTE_ADDR=ip))
    # The start's counter is its own: a citizen who was refused can still begin a login.
    assert client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip).status_code == 302


def test_behind_a_proxy_the_clients_address_is_counted(client, limits):
    """With RATELIMIT_IP_META_KEY (production: DJANGO_RATELIMIT_IP_META_KEY) the header the
    proxy sets counts, not the proxy's own address."""
    limits.RATELIMIT_IP_META_KEY = "HTTP_X_REAL_IP"
    proxy, citizen, other_citizen = fresh_ip(), fresh_ip(), fresh_ip()
    url = reverse("overblik:oidc-authenticate")
    for _ in range(3):
        assert client.get(url, REMOTE_ADDR=proxy, HTTP_X_REAL_IP=citizen).status_code == 302
    assert client.get(url, REMOTE_ADDR=proxy, HTTP_X_REAL_IP=citizen).status_code == 429
    assert client.get(url, REMOTE_ADDR=proxy, HTTP_X_REAL_IP=other_citizen).status_code == 302


def test_the_limited_page_speaks_english_when_chosen(client, limits):
    ip = fresh_ip()
    client.cookies["django_language"] = "en"
    for _ in range(3):
        client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip)
    assert_limited_page(
        client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip), english=True
    )


def _admin_login(client, *, username: str, password: str, ip: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )


def test_admin_login_attempts_are_limited_per_user_name_from_any_address(client, limits, caplog):
    name = f"odense-{uuid.uuid4().hex[:8]}"
    f.municipal_admin("461", username=name)  # password "pw"
    for _ in range(3):
        response = _admin_login(client, username=name, password="wrong", ip=fresh_ip())
        assert response.status_code == 200 and "username" not in response.context["form"].errors
        assert response.context["form"].non_field_errors()
    with caplog.at_level(logging.WARNING, logger="overblik.ratelimits"):
        # Now even the right password is refused until the window ends: guessing stops here.
        ip = fresh_ip()
        response = _admin_login(client, username=name.upper(), password="pw", ip=ip)
    assert_limited_page(response)
    assert "_auth_user_id" not in client.session
    messages = [r.getMessage() for r in caplog.records if r.name == "overblik.ratelimits"]
    assert messages == ["admin login failed"] * 3 + [
        "login rate limit reached: admin.login.username"
    ]
    assert name not in caplog.text and name.upper() not in caplog.text and ip not in caplog.text
    # Another user is not locked out by it.
    other = f"fredensborg-{uuid.uuid4().hex[:8]}"
    f.municipal_admin("210", username=other)
    response = _admin_login(client, username=other, password="pw", ip=fresh_ip())
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_admin_login_attempts_are_limited_per_address_across_user_names(client, limits):
    ip = fresh_ip()
    for n in range(4):
        response = _admin_login(
            client, username=f"guess-{uuid.uuid4().hex}-{n}", password="x", ip=ip
        )
        assert response.status_code == 200
    assert_limited_page(
        _admin_login(client, username=f"guess-{uuid.uuid4().hex}", password="x", ip=ip)
    )
    # Showing the login form is not an attempt and stays open.
    assert client.get(reverse("admin:login"), REMOTE_ADDR=ip).status_code == 200


def test_admin_login_attempts_are_logged_without_naming_who_was_tried(client, limits, caplog):
    name = f"odense-{uuid.uuid4().hex[:8]}"
    user = f.municipal_admin("461", username=name)
    ip = fresh_ip()
    with caplog.at_level(logging.INFO, logger="overblik.ratelimits"):
        _admin_login(client, username=name, password="wrong", ip=ip)
        _admin_login(client, username=name, password="pw", ip=ip)
    messages = [r.getMessage() for r in caplog.records if r.name == "overblik.ratelimits"]
    assert messages == ["admin login failed", f"admin login succeeded: user id {user.pk}"]
    assert name not in caplog.text and ip not in caplog.text


def test_the_admin_login_url_is_the_limited_one(limits):
    from django.urls import resolve

    from overblik.ratelimits import admin_login

    assert resolve(reverse("admin:login")).func is admin_login


def test_an_empty_rate_turns_that_limit_off(client, limits):
    limits.OVERBLIK_LOGIN_RATE_PER_IP = ""
    ip = fresh_ip()
    for _ in range(5):
        assert client.get(reverse("overblik:oidc-authenticate"), REMOTE_ADDR=ip).status_code == 302


def test_the_rates_are_settings_with_defaults():
    from django.conf import settings

    assert settings.OVERBLIK_LOGIN_RATE_PER_IP == "60/5m"
    assert settings.OVERBLIK_ADMIN_LOGIN_RATE_PER_IP == "30/15m"
    assert settings.OVERBLIK_ADMIN_LOGIN_RATE_PER_USERNAME == "10/15m"


def test_without_ratelimit_enable_nothing_is_limited(client, settings):
    settings.RATELIMIT_ENABLE = False
    settings.OVERBLIK_LOGIN_RATE_PER_IP = "1/h"
    ip = fresh_ip()
    for _ in range(3):
        response = client.get(reverse("overblik:oidc-callback"), REMOTE_ADDR=ip)
        assert response.status_code == 302
