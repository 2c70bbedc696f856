"""Sensitive titles in the portal (issue 15): Sofie, acting for Kim, sees "Sag om …" for
his sensitive case, the reason on the case page, and neither the title nor its documents'
titles; Kim sees his own titles at substantial, and not when his municipality asks for
high; both access logs name the KLE main group, not the case."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from borgerblikket.models import AssuranceLevel, Sheet
from indexes.models import DataAccess, Sensitivity
from kle.models import Subject
from simulators.mitid.citizens import DEMO_CITIZENS
from tests.overblik import data as portal_data
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KIM = portal_data.KIM
SOFIE = next(c for c in DEMO_CITIZENS if c.sub == "demo-sofie")
SECRET = "Behandling for alkoholmisbrug"


@pytest.fixture
def kims_sensitive_case():
    data = portal_data.build()
    case = data.cases[0]
    case.title = SECRET
    case.sensitivity = Sensitivity.SENSITIVE
    case.save(update_fields=["title", "sensitivity"])
    Subject.objects.filter(number="32").update(title="Sociale ydelser")
    return case


@pytest.fixture
def sofie_for_kim(client, oidc_settings, relations, kims_sensitive_case):
    relations.powers[0]["scope"] = ["32", "27.24"]
    assert oidc_login(client, sub="demo-sofie").status_code == 302
    page = client.get(reverse("overblik:acting")).content.decode()
    handle = re.findall(r'name="handle" value="([^"]+)"', page)[1]
    assert client.post(reverse("overblik:acting"), {"handle": handle}).status_code == 302
    return client


def test_the_holder_sees_a_neutral_title_and_why(sofie_for_kim, kims_sensitive_case):
    for name in ("overview", "cases"):
        text = sofie_for_kim.get(reverse(f"overblik:{name}")).content.decode()
        assert SECRET not in text
        assert "Sag om sociale ydelser" in text
        assert "Ansøgning om kontanthjælp 2" in text  # not sensitive: its own title
    page = sofie_for_kim.get(reverse("overblik:case", args=[kims_sensitive_case.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert SECRET not in text
    assert "<h1>Sag om sociale ydelser</h1>" in text
    assert 'data-testid="title-withheld"' in text
    assert "Kun Kim Borgersen selv kan se dem" in text
    assert "Afgørelse om kontanthjælp" not in text  # the document's title
    assert KIM.cpr not in text


def test_the_holder_sees_a_neutral_name_for_the_benefit_of_a_sensitive_case(sofie_for_kim):
    """Kim's Kontanthjælp names his sensitive case: Sofie sees the area, not the name, on
    the benefits page and in the overview's payments, and why."""
    overview = sofie_for_kim.get(reverse("overblik:overview")).content.decode()
    # (The overview's list of the areas the municipality shows names "Kontanthjælp": public.)
    assert "<span>Ydelse inden for sociale ydelser</span>" in overview
    assert "<span>Kontanthjælp</span>" not in overview
    text = sofie_for_kim.get(reverse("overblik:benefits")).content.decode()
    assert "Kontanthjælp" not in text  # (the lead text says "fx kontanthjælp")
    assert "Ydelse inden for sociale ydelser" in text
    assert 'data-testid="name-withheld"' in text
    assert "Kun Kim Borgersen selv kan se det" in text


def test_kim_sees_his_own_benefit_name_at_substantial(citizen_client, kims_sensitive_case):
    text = citizen_client.get(reverse("overblik:benefits")).content.decode()
    assert "<h2" in text and "Kontanthjælp</h2>" in text
    assert 'data-testid="name-withheld"' not in text


def test_both_access_logs_name_the_main_group_not_the_case(sofie_for_kim, kims_sensitive_case):
    sofie_for_kim.get(reverse("overblik:case", args=[kims_sensitive_case.pk]))
    row = DataAccess.objects.get(actor_cpr=SOFIE.cpr, record_kind=DataAccess.RecordKind.CASE)
    assert row.subject == "Sociale ydelser"
    own = sofie_for_kim.get(reverse("overblik:access-log")).content.decode()
    assert "Du så oplysninger for Kim Borgersen: sag om Sociale ydelser, med fuldmagt" in own
    kim = Client()
    oidc_login(kim, sub="demo-kim")
    kims_log = kim.get(reverse("overblik:access-log")).content.decode()
    assert "så din sag om Sociale ydelser, med fuldmagt" in kims_log
    assert "Hjælp til forsørgelse" not in kims_log and SECRET not in kims_log


def test_the_citizen_sees_their_own_titles_at_substantial(citizen_client, kims_sensitive_case):
    text = citizen_client.get(reverse("overblik:case", args=[kims_sensitive_case.pk]))
    text = text.content.decode()
    assert f"<h1>{SECRET}</h1>" in text
    assert 'data-testid="title-withheld"' not in text
    assert "Afgørelse om kontanthjælp" in text


def test_a_municipality_asking_for_high_hides_them_and_says_how_to_see_them(
    citizen_client, kims_sensitive_case, settings
):
    Sheet.objects.filter(municipality_id="461").update(
        sensitive_titles_assurance=AssuranceLevel.HIGH
    )
    cases = citizen_client.get(reverse("overblik:cases")).content.decode()
    assert SECRET not in cases and "Sag om sociale ydelser" in cases
    assert "titlen er skjult" in cases
    text = citizen_client.get(reverse("overblik:case", args=[kims_sensitive_case.pk]))
    text = text.content.decode()
    assert SECRET not in text
    assert 'data-testid="title-withheld"' in text
    assert "højere sikringsniveau" in text


def test_english(citizen_client, kims_sensitive_case, settings):
    Sheet.objects.filter(municipality_id="461").update(
        sensitive_titles_assurance=AssuranceLevel.HIGH
    )
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    text = citizen_client.get(reverse("overblik:case", args=[kims_sensitive_case.pk]))
    text = text.content.decode()
    assert "The case's title is hidden" in text
    assert "Case about sociale ydelser" in text
