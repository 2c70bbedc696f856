""" "Det viser kommunen": what each municipality shows, public, and linked from every overview.

Issue 11.11 (seed 004, "absence means absence"): a citizen must be able to see
which areas their municipality shows, from when and from which source systems —
also when they see nothing at all (Ingrid) or nothing from that municipality
(Kim in Odense, whose sheet shows only job centre areas). Through the door
(``exposed_areas_for_municipality``, ``municipalities_for_citizen``).
"""

import datetime as dt

import pytest
from django.urls import reverse

from borgerblikket.models import TitleSource
from indexes.municipalities import MUNICIPALITIES
from simulators.mitid.citizens import DEMO_CITIZENS
from tests.borgerblikket import factories as f
from tests.plugins.portal import oidc_login

pytestmark = [pytest.mark.django_db]

METTE = next(c for c in DEMO_CITIZENS if c.sub == "demo-mette")
FREDENSBORG, SYDDJURS = "210", "706"


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.fixture
def fredensborg():
    """Fredensborg shows sick-pay follow-up from SBSYS only, and rehabilitation from all."""
    sbsys = f.SourceSystemFactory(municipality=f.municipality(FREDENSBORG), name="SBSYS")
    f.sheet(FREDENSBORG, show_active_cases_before_show_from=True, title_source=TitleSource.KLE)
    f.SheetRowFactory(
        municipality=f.municipality(FREDENSBORG),
        kle_subject=f.kle_subject("15.17.06", "Sygedagpengeopfølgning"),
        display_name="Sygedagpenge",
        source_system=sbsys,
        show_from=dt.date(2021, 1, 4),
    )
    f.SheetRowFactory(
        municipality=f.municipality(FREDENSBORG),
        kle_subject=f.kle_subject("15.17.12", "Revalidering"),
        show_from=dt.date(2022, 3, 1),
    )
    return sbsys


def test_the_page_says_which_areas_from_when_and_from_which_systems(client, fredensborg):
    text = body(client.get(reverse("overblik:municipality", args=[FREDENSBORG])))
    assert "<h1>Det viser Fredensborg Kommune</h1>" in text
    assert "Sygedagpenge" in text and "15.17.06" in text
    assert "Revalidering" in text and "15.17.12" in text
    assert "4. januar 2021" in text and "1. marts 2022" in text
    assert "Kun sager fra fagsystemet SBSYS" in text
    assert "Sager fra alle kommunens fagsystemer" in text
    # The sheet's switches, in words.
    assert "også aktive sager, der er oprettet før datoen" in text
    assert "viser ikke titlerne på sagernes dokumenter" in text


def test_the_page_is_public_and_holds_nobodys_data(client, fredensborg):
    case = f.CaseFactory(source_system=fredensborg, title="Opfølgning på sygemelding")
    text = body(client.get(reverse("overblik:municipality", args=[FREDENSBORG])))
    assert case.title not in text and case.party_cpr not in text


def test_a_municipality_that_shows_nothing_says_so(client):
    text = body(client.get(reverse("overblik:municipality", args=[SYDDJURS])))
    assert "Syddjurs Kommune viser ikke sager eller ydelser i Mit Overblik endnu." in text


def test_an_unknown_municipality_is_404(client):
    assert client.get("/kommuner/999/").status_code == 404


def test_the_list_of_all_municipalities_and_its_search(client, fredensborg):
    text = body(client.get(reverse("overblik:municipalities")))
    for code, _name in MUNICIPALITIES:
        assert f'href="{reverse("overblik:municipality", args=[code])}"' in text
    assert "Viser 2 områder" in text  # Fredensborg
    found = body(client.get(reverse("overblik:municipalities"), {"q": "freden"}))
    assert reverse("overblik:municipality", args=[FREDENSBORG]) in found
    assert reverse("overblik:municipality", args=["461"]) not in found
    nothing = body(client.get(reverse("overblik:municipalities"), {"q": "xyz"}))
    assert "Ingen kommune hedder noget med" in nothing


def test_an_overview_of_someone_who_sees_nothing_there_still_names_the_municipality(
    client, oidc_settings, fredensborg
):
    """Mette's only Fredensborg case is in an area the sheet does not show: her overview
    names Fredensborg, links to its page and lists what it shows. A municipality whose only
    case about her is hidden from her ("Visning undtaget") is not named at all."""
    f.CaseFactory(
        source_system=fredensborg,
        party_cpr=METTE.cpr,
        kle_subject=f.kle_subject("02.00.10", "Hegnssyn"),
        title="Hegnssyn",
    )
    syddjurs = f.SourceSystemFactory(municipality=f.municipality(SYDDJURS), name="SBSYS")
    f.CaseFactory(source_system=syddjurs, party_cpr=METTE.cpr, hidden_from_citizen=True)
    oidc_login(client, sub="demo-mette")
    text = body(client.get(reverse("overblik:overview")))
    areas = text[text.index('id="overview-areas"') :]
    assert f'href="{reverse("overblik:municipality", args=[FREDENSBORG])}"' in areas
    assert "Sygedagpenge" in areas and "Revalidering" in areas
    assert "Syddjurs" not in text
    assert reverse("overblik:municipality", args=[SYDDJURS]) not in text
    assert "Hegnssyn" not in text


def test_every_overview_links_to_all_municipalities(client, oidc_settings, fredensborg):
    oidc_login(client, sub="demo-ingrid")
    text = body(client.get(reverse("overblik:overview")))
    assert f'href="{reverse("overblik:municipalities")}"' in text
    assert "Se hvad hver kommune viser" in text


def test_in_english(client, fredensborg):
    client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    text = body(client.get(reverse("overblik:municipality", args=[FREDENSBORG])))
    assert "What Fredensborg Municipality shows" in text
    assert "Only cases from the SBSYS system" in text
