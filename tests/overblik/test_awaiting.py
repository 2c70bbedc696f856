""" "Afventer dig": an open case the municipality waits on the citizen for (seed 002).

Shown as a badge on the overview, the case list and the case page, with a plain
explanation on the case page, in Danish and English; never on a closed case.
"""

import datetime as dt

import pytest
from django.urls import reverse

from indexes.models import Case
from overblik import session as keys
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
    """The list item of the page's case list that links to ``title`` (the last link to it:
    the overview's "waiting for you" box comes first)."""
    start = text.rindex("<li", 0, text.rindex(f">{title}</a>"))
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


# --- Issue 11.10: what waits for the citizen is at the top of the overview -------------------


def test_the_overview_opens_with_what_waits_for_the_citizen(citizen_client, data):
    text = body(citizen_client.get(reverse("overblik:overview")))
    assert 'data-testid="awaiting-box"' in text
    box = text[
        text.index('data-testid="awaiting-box"') : text.index(
            "</section>", text.index('data-testid="awaiting-box"')
        )
    ]
    # Before every other section of the page, right under the heading.
    assert text.index('data-testid="awaiting-box"') < text.index('class="overview-grid"')
    assert "Kommunen venter på dig" in box
    link = reverse("overblik:case", args=[data.awaiting_case.pk])
    assert f'href="{link}"' in box and data.awaiting_case.title in box
    assert "siden 5. februar 2024" in box
    # Only the waiting case: not the other open ones, never the closed one.
    for other in (*[c for c in data.cases if c != data.awaiting_case], data.closed_case):
        assert reverse("overblik:case", args=[other.pk]) not in box


def test_the_box_lists_every_waiting_case_longest_wait_first(citizen_client, data):
    later = data.cases[0]
    Case.objects.filter(pk=later.pk).update(
        awaiting_party_since=dt.datetime(2024, 3, 1, 9, 0, tzinfo=dt.UTC)
    )
    text = body(citizen_client.get(reverse("overblik:overview")))
    box = text[text.index('data-testid="awaiting-box"') :]
    first = box.index(reverse("overblik:case", args=[data.awaiting_case.pk]))
    second = box.index(reverse("overblik:case", args=[later.pk]))
    assert first < second
    assert "Kommunen venter på dig i 2 sager" in box


def test_no_box_when_nothing_waits(citizen_client, data):
    Case.objects.filter(pk=data.awaiting_case.pk).update(awaiting_party_since=None)
    text = body(citizen_client.get(reverse("overblik:overview")))
    assert 'data-testid="awaiting-box"' not in text


def test_the_box_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    text = body(citizen_client.get(reverse("overblik:overview")))
    assert "The municipality is waiting for you" in text
    assert "since 5 February 2024" in text or "since Feb. 5, 2024" in text


def test_a_wait_delivered_by_the_source_marks_the_case_new_and_puts_it_first(citizen_client, data):
    """Ingestion moves the case's last change to the wait (issue 11.10): marked new and
    first in the overview's latest cases."""
    from indexes.services.ingestion import record_apply
    from tests.indexes.factories import case_payload

    session = citizen_client.session
    session[keys.SINCE] = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    session.save()
    system = data.awaiting_case.source_system
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    record = case_payload(
        external_id="kim-gammel",
        title="Ansøgning om enkeltydelse",
        kle_number="32.24.04",
        party={"cpr": portal_data.KIM.cpr},
        created_on="2024-04-02",
        source_timestamp=(now - dt.timedelta(minutes=10)).isoformat(),
    )
    record_apply(source_system=system, kind="case", payload=record)
    record_apply(
        source_system=system,
        kind="case",
        payload=record
        | {
            "source_timestamp": (now - dt.timedelta(minutes=5)).isoformat(),
            "awaiting_party_since": (now - dt.timedelta(minutes=5)).isoformat(),
        },
    )
    text = body(citizen_client.get(reverse("overblik:overview")))
    latest = text[text.index('id="overview-cases"') :]
    first_item = latest[latest.index("<li") : latest.index("</li>")]
    assert "Ansøgning om enkeltydelse" in first_item
    assert 'data-testid="new-marker"' in first_item
