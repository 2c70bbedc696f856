"""The citizen's pages: what is shown, what is not, and another citizen's records are 404."""

import datetime as dt

import pytest
from django.urls import reverse

from overblik import session as keys
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

KIM = portal_data.KIM


@pytest.fixture
def data(db):
    return portal_data.build()


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def assert_never_shown(text: str) -> None:
    for secret in (
        KIM.cpr,
        portal_data.HANS.cpr,
        portal_data.SECRET_CASEWORKER,
        portal_data.SECRET_TITLE,
        "Skjult sag om underretning",
        "Sag i et område kommunen ikke viser",
        "Hans' sag om boligstøtte",
        "Hans' hjemmehjælp",
        "Journalnotat om telefonsamtale",
        "Internt notat om vurdering",
    ):
        assert secret not in text, secret


def test_overview_shows_latest_cases_payments_services_and_areas(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:overview")))

    assert "Ansøgning om kontanthjælp 1" in text
    assert 'data-status="processing"' in text
    assert "Behandles" in text
    assert "9.000,25 kr." in text  # the latest payment after tax, Danish grouping
    assert "Rengøring (FSIII)" in text
    assert "Hjælpemiddel - Knallert" not in text  # ended: not an active service
    # Absence means absence: which areas each municipality shows.
    # Each municipality links to its "Det viser kommunen" page (issue 11.11).
    assert '<h3 class="h5"><a href="/kommuner/461/">Odense</a></h3>' in text
    assert "Kontanthjælp" in text
    assert '<h3 class="h5"><a href="/kommuner/101/">København</a></h3>' in text
    assert "Rengøring og praktisk hjælp" in text
    assert_never_shown(text)


def test_overview_of_a_citizen_with_nothing_explains_the_empty_state(client, oidc_settings, data):
    from tests.plugins.portal import oidc_login

    oidc_login(client, sub="demo-ingrid")
    text = body(client.get(reverse("overblik:overview")))
    assert "Du har ingen sager, som din kommune viser her." in text
    assert "Ingen kommune viser sager eller ydelser om dig her endnu." in text
    assert "Ansøgning om kontanthjælp" not in text


def test_cases_list_newest_change_first_with_open_and_closed_filter(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:cases")))
    first = text.index("Ansøgning om kontanthjælp 1")
    assert first < text.index("Ansøgning om kontanthjælp 2") < text.index("Afslag på enkeltydelse")
    assert_never_shown(text)

    open_only = body(citizen_client.get(reverse("overblik:cases") + "?vis=aabne"))
    assert "Ansøgning om kontanthjælp 1" in open_only
    assert "Afslag på enkeltydelse" not in open_only
    closed_only = body(citizen_client.get(reverse("overblik:cases") + "?vis=afsluttede"))
    assert "Afslag på enkeltydelse" in closed_only
    assert "Ansøgning om kontanthjælp 1" not in closed_only
    assert 'data-status="closed"' in closed_only


def test_cases_are_paginated(citizen_client, settings, data):
    settings.OVERBLIK_CASES_PER_PAGE = 2
    first_page = body(citizen_client.get(reverse("overblik:cases")))
    assert "Side 1 af 2" in first_page
    assert "Afslag på enkeltydelse" not in first_page
    second_page = body(citizen_client.get(reverse("overblik:cases") + "?vis=alle&side=2"))
    assert "Afslag på enkeltydelse" in second_page


def test_case_page_has_timeline_documents_contact_links_and_related_benefits(citizen_client, data):
    case = data.cases[0]
    text = body(citizen_client.get(reverse("overblik:case", args=[case.pk])))

    assert "<title>Ansøgning om kontanthjælp 1 \N{EN DASH} Mit Overblik</title>" in text
    assert text.index("Opstået") < text.index("Oplyst") < text.index("Afgjort")
    assert 'aria-current="step"' in text
    assert "Afgørelse om kontanthjælp" in text  # a document title the municipality shows
    assert "Kontaktcenter" in text and "66 13 13 72" in text
    assert "https://post.borger.dk/?mailboxid=5185" in text
    assert "Søg om kontanthjælp" in text and "https://www.borger.dk/kontanthjaelp" in text
    assert "https://www.odense.dk/borger/job-og-uddannelse/kontanthjaelp" in text
    assert "Kontanthjælp" in text  # the related benefit
    assert case.case_number in text
    assert_never_shown(text)


@pytest.mark.parametrize("which", ["hidden_case", "unlisted_case", "others_case"])
def test_a_case_the_citizen_may_not_see_is_404(citizen_client, data, which):
    case = getattr(data, which)
    response = citizen_client.get(reverse("overblik:case", args=[case.pk]))
    assert response.status_code == 404
    assert_never_shown(response.content.decode())


def test_benefits_page_groups_payments_by_month_with_yearly_totals_and_next_payment(
    citizen_client, data
):
    text = body(citizen_client.get(reverse("overblik:benefits")))
    assert "Kontanthjælp" in text
    # Three payments: 31 Dec 2025, 1 Dec 2025 and 1 Nov 2025, all in 2025.
    assert "Udbetalinger i 2025" in text
    assert "December" in text and "November" in text
    assert "37.036,50 kr." in text  # 3 times 12.345,50 gross
    assert "27.000,75 kr." in text  # 3 times 9.000,25 after tax and paid
    assert 'data-testid="next-payment"' in text and "12.345,50 kr." in text
    assert_never_shown(text)


def test_services_list_and_detail_as_in_seed_002(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:services")))
    for heading in ("Navn", "Bevilget fra", "Bevilget til", "Status", "Detaljer"):
        assert heading in text
    assert "Rengøring (FSIII)" in text
    assert "Hjælpemiddel - Knallert" in text and "Afsluttet" in text
    assert_never_shown(text)

    detail = body(citizen_client.get(reverse("overblik:service", args=[data.service.pk])))
    assert "Dag, 1 gang hver 2. uge, 45 minutter pr. gang" in detail
    assert "Rengøringsenheden" in detail
    assert "Københavns Kommune" in detail
    assert "Borgerservice" in detail and "33 66 33 66" in detail
    assert "Find eventuelle meddelelser om ydelsen i Digital Post" in detail
    assert_never_shown(detail)


def test_another_citizens_benefit_is_404(citizen_client, data):
    response = citizen_client.get(reverse("overblik:service", args=[data.others_benefit.pk]))
    assert response.status_code == 404


def test_the_access_log_shows_only_the_citizens_own_rows(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:access-log")))
    assert "En medarbejder i Odense Kommune" in text
    assert (
        '<span data-testid="access-what">'
        "så dine sager og ydelser (kontrol af, hvad du kan se i Mit Overblik)</span>"
    ) in text
    # The reader's account (the internal note) is never shown to the citizen.
    assert "odense-admin" not in text
    assert "supportmedarbejder" not in text and "henvendelse" not in text
    assert_never_shown(text)


def test_the_access_log_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    text = body(citizen_client.get(reverse("overblik:access-log")))
    assert "An employee of Odense Municipality" in text
    assert "saw your cases and benefits (a check of what you can see in Mit Overblik)" in text


def test_the_access_log_empty_state(citizen_client):
    text = body(citizen_client.get(reverse("overblik:access-log")))
    assert "Ingen andre har set dine oplysninger" in text


def test_what_changed_since_the_last_visit_is_marked(citizen_client, data):
    session = citizen_client.session
    # The previous visit ended a day and a half ago: case 1 (changed a day ago) is new.
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=36)
    session[keys.SINCE] = since.isoformat()
    session.save()
    text = body(citizen_client.get(reverse("overblik:cases")))
    assert text.count('data-testid="new-marker"') == 1
    assert text.index('data-testid="new-marker"') < text.index("Ansøgning om kontanthjælp 2")


def test_no_cpr_in_any_link_on_any_page(citizen_client, data):
    pages = [
        reverse("overblik:overview"),
        reverse("overblik:cases"),
        reverse("overblik:case", args=[data.cases[0].pk]),
        reverse("overblik:benefits"),
        reverse("overblik:services"),
        reverse("overblik:service", args=[data.service.pk]),
        reverse("overblik:access-log"),
    ]
    for url in pages:
        text = body(citizen_client.get(url))
        assert KIM.cpr not in text
        assert KIM.cpr[:6] not in text
