"""The overview's areas heading in singular or plural, and the service page's contact box
(``benefit_contact``: the sheet row of the benefit's KLE class)."""

import pytest
from django.urls import reverse

from indexes.models import Grant
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def data(db):
    return portal_data.build()


def overview(client) -> str:
    response = client.get(reverse("overblik:overview"))
    assert response.status_code == 200
    return response.content.decode()


def test_two_municipalities_are_plural_and_one_is_singular(citizen_client, data):
    text = overview(citizen_client)  # Kim: Odense and København
    assert "Det viser dine kommuner" in text and "Det viser din kommune<" not in text
    assert "Kommunerne viser kun sager" in text

    Grant.objects.filter(municipality="101").delete()  # now only Odense
    text = overview(citizen_client)
    assert "Det viser din kommune<" in text and "Det viser dine kommuner" not in text
    assert "Kommunen viser kun sager" in text


def test_the_heading_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    assert "What your municipalities show" in overview(citizen_client)
    Grant.objects.filter(municipality="101").delete()
    text = overview(citizen_client)
    assert "What your municipality shows" in text
    assert "The municipality only shows cases and benefits" in text


def test_the_service_page_shows_the_contact_of_the_benefits_sheet_row(citizen_client, data):
    response = citizen_client.get(reverse("overblik:service", args=[data.service.pk]))
    text = response.content.decode()
    assert 'data-testid="contact-box"' in text
    # København's row for 27.24.06, not Odense's for kontanthjælp.
    assert "Borgerservice" in text and "33 66 33 66" in text
    assert "https://post.borger.dk/?mailboxid=1" in text
    assert "Kontaktcenter" not in text and "66 13 13 72" not in text
