"""Security headers, CSP without 'unsafe-inline', templates free of inline code, error pages."""

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_every_page_sends_a_strict_content_security_policy(client):
    response = client.get(reverse("overblik:login"))
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


def test_the_login_providers_origin_may_receive_the_logout_form(client, settings):
    settings.OIDC_OP_LOGOUT_ENDPOINT = "https://broker.example.dk/logout?x=1"
    csp = client.get(reverse("overblik:login"))["Content-Security-Policy"]
    assert "form-action 'self' https://broker.example.dk;" in csp


def test_the_other_security_headers(client):
    response = client.get(reverse("overblik:login"))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_a_citizens_pages_are_never_cached(citizen_client, client):
    assert citizen_client.get(reverse("overblik:overview"))["Cache-Control"] == "no-store"
    assert "no-store" not in Client().get(reverse("overblik:login")).get("Cache-Control", "")


def test_no_template_has_inline_scripts_styles_or_event_handlers():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)", r"<style", r"\sstyle=", r"\son[a-z]+="):
            if re.search(pattern, text, re.IGNORECASE):
                offenders.append(f"{path.relative_to(TEMPLATES)}: {pattern}")
    assert offenders == []


def test_unknown_pages_get_the_404_page_in_the_portals_design(client):
    response = client.get("/findes-ikke/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Siden findes ikke" in body
    assert "dkfds-borgerdk.min.css" in body
    assert response["Content-Security-Policy"]


@pytest.mark.urls("tests.overblik.urls_with_error")
def test_server_errors_get_the_500_page_in_the_portals_design(client):
    client.raise_request_exception = False
    response = client.get("/fejl-test/")
    assert response.status_code == 500
    body = response.content.decode()
    assert "Der skete en fejl" in body
    assert "dkfds-borgerdk.min.css" in body
    assert response["Content-Security-Policy"]
