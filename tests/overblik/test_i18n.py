"""Danish by default, English by the language switch."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_danish_by_default_even_when_the_browser_asks_for_english(client):
    response = client.get(reverse("overblik:login"), HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    body = response.content.decode()
    assert '<html lang="da">' in body
    assert "Log ind på Mit Overblik" in body


def test_the_language_switch_gives_english_and_back(client):
    response = client.post(
        reverse("overblik:set_language"), {"language": "en", "next": reverse("overblik:login")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("overblik:login")
    body = client.get(reverse("overblik:login")).content.decode()
    assert '<html lang="en">' in body
    assert "Log in to Mit Overblik" in body
    assert "Log ind på Mit Overblik" not in body

    client.post(reverse("overblik:set_language"), {"language": "da", "next": "/"})
    assert "Log ind på Mit Overblik" in client.get(reverse("overblik:login")).content.decode()


def test_the_language_switch_is_a_form_that_works_without_javascript(client):
    body = client.get(reverse("overblik:login")).content.decode()
    assert f'action="{reverse("overblik:set_language")}" method="post"' in body
    assert 'name="language" value="en"' in body
