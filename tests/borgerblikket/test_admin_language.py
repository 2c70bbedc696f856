"""The admin speaks Danish by default and English by the language switch: its headers, the
start page and the refusal page; every string of the English catalogue is translated."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from borgerblikket.models import Membership
from tests.borgerblikket import factories as f

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def test_every_string_of_the_english_catalogue_is_translated():
    text = CATALOGUE.read_text(encoding="utf-8")
    untranslated = []
    for block in text.split("\n\n")[1:]:  # the first block is the header
        if block.lstrip().startswith("#~"):
            continue  # obsolete
        msgid = re.search(r'^msgid "(.*)"', block, re.M)
        strings = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block + "\n", re.M)
        empty = not strings or any(s.strip() == '""' for s in strings)
        if "#, fuzzy" in block or empty:
            untranslated.append(msgid.group(1) if msgid else block[:60])
    assert untranslated == []


@pytest.mark.django_db
@pytest.mark.postgres
def test_the_admin_switches_to_english_and_back():
    user = f.municipal_admin("461", username="odense-en")
    Membership.objects.filter(user=user).update(role="manager")
    client = Client()
    client.force_login(user)
    danish = client.get(reverse("admin:index")).content.decode()
    assert "Borgerblikket: administration" in danish and "Din rolle:" in danish
    assert f'action="{reverse("overblik:set_language")}"' in danish
    response = client.post(
        reverse("overblik:set_language"), {"language": "en", "next": reverse("admin:index")}
    )
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
    english = client.get(reverse("admin:index")).content.decode()
    assert "Your role:" in english and "Manager (read only)" in english
    assert "Start page" in english and "Din rolle:" not in english
    refused = client.get(reverse("borgerblikket_admin:preview")).content.decode()
    assert "Your role does not give access to this page." in refused
    client.post(reverse("overblik:set_language"), {"language": "da", "next": "/admin/"})
    assert "Din rolle:" in client.get(reverse("admin:index")).content.decode()
