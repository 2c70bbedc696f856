""" "Afventer dig": an open case the municipality waits on the citizen for (seed 002).

Shown as a badge on the overview, the case list and the case page, with a plain
explanation on the case page, in Danish and English; never on a closed case.
"""

import datetime as dt

import pytest
from django.urls import reverse

from indexes.models import Case
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

AWAITING_BADGE = 'data-status="awaiting_citizen"'


@pytest.fixture
def data(db):
    return portal_data.build()


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _item_of(text: str, title: str) -> str:
    """The list item of the page that links to ``title``."""
    start = text.rindex("<li", 0, text.index(f">{title}</a>"))
    return text[start : text.index("</li>", start)]


def test_the_overview_and_the_case_list_badge_only_the_awaited_case(citizen_client, data):
    awaited = data.awaiting_case.title
    for url in (reverse("overblik:overview"), reverse("overblik:cases")):
        text = body(citizen_client.get(url))
        assert text.count(AWAITING_BADGE) == 1, url
        item = _item_of(text, awaited)
        assert AWAITING_BADGE in item and "Afventer dig" in item
        assert AWAITING_BADGE not in _item_of(text, data.cases[0].title)


def test_the_case_page_explains_what_the_municipality_waits_for(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:case", args=[data.awaiting_case.pk])))
    assert AWAITING_BADGE in text and "Afventer dig" in text
    assert 'data-testid="awaiting-citizen"' in text
    assert "Kommunen venter på dig" in text
    assert "Det har den gjort siden 5. februar 2024." in text

    other = body(citizen_client.get(reverse("overblik:case", args=[data.cases[0].pk])))
    assert AWAITING_BADGE not in other and "Kommunen venter på dig" not in other


def test_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    text = body(citizen_client.get(reverse("overblik:case", args=[data.awaiting_case.pk])))
    assert "Waiting for you" in text
    assert "The municipality is waiting for you" in text
    assert "Afventer dig" not in text and "Kommunen venter på dig" not in text
    assert "Waiting for you" in body(citizen_client.get(reverse("overblik:cases")))


def test_a_wait_that_ends_takes_the_badge_away(citizen_client, data):
    Case.objects.filter(pk=data.awaiting_case.pk).update(awaiting_party_since=None)
    text = body(citizen_client.get(reverse("overblik:cases")))
    assert AWAITING_BADGE not in text


def test_a_closed_case_shows_afsluttet_never_afventer_dig(citizen_client, data):
    """The index refuses a closed case that waits; the page's rule holds even so."""
    from overblik.selectors import CLOSED, case_citizen_status

    closed = Case(status="Afsluttet", awaiting_party_since=dt.datetime(2024, 2, 5, tzinfo=dt.UTC))
    assert case_citizen_status(closed) == CLOSED
    text = body(citizen_client.get(reverse("overblik:case", args=[data.closed_case.pk])))
    assert 'data-status="closed"' in text and AWAITING_BADGE not in text


def test_from_the_source_system_to_the_page_and_closed_again(citizen_client, data):
    """End to end: a delivery sets the wait, the page shows it; the closing delivery
    (which must send no wait) turns it into Afsluttet."""
    from indexes.services.ingestion import record_apply
    from tests.indexes.factories import case_payload

    system = data.awaiting_case.source_system
    record = case_payload(
        external_id="kim-venter",
        title="Ansøgning om kontanthjælp fra FASIT",
        kle_number="32.24.04",
        party={"cpr": portal_data.KIM.cpr},
        created_on="2024-04-02",
        awaiting_party_since="2024-04-25T10:00:00+02:00",
    )
    case = record_apply(source_system=system, kind="case", payload=record).instance
    page = body(citizen_client.get(reverse("overblik:case", args=[case.pk])))
    assert AWAITING_BADGE in page and "siden 25. april 2024" in page

    closing = record | {
        "source_timestamp": "2024-06-01T10:00:00+02:00",
        "awaiting_party_since": None,
        "progress": [
            {"status": "Opstaaet", "from": "2024-04-02T09:00:00+02:00",
             "to": "2024-05-20T09:00:00+02:00"},
            {"status": "Afsluttet", "from": "2024-05-20T09:00:00+02:00"},
        ],
    }  # fmt: skip
    record_apply(source_system=system, kind="case", payload=closing)
    page = body(citizen_client.get(reverse("overblik:case", args=[case.pk])))
    assert 'data-status="closed"' in page and AWAITING_BADGE not in page
