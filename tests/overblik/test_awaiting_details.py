"""What the municipality waits for and by when, on the case page and in the overview's
"Afventer dig" box, in Danish and English; an overdue wait is marked (issue 14).

The reason is the source system's text: a CPR number in it is shown masked, as in
every other text a citizen sees.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from indexes.models import Case
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

REASON = "Send lønsedler for de seneste tre måneder"


@pytest.fixture
def data(db):
    return portal_data.build()


def body(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def wait(data, *, due_in_days: int | None, reason: str = REASON) -> dt.date | None:
    due = timezone.localdate() + dt.timedelta(days=due_in_days) if due_in_days is not None else None
    Case.objects.filter(pk=data.awaiting_case.pk).update(
        awaiting_party_due=due, awaiting_party_reason=reason
    )
    return due


def shown(day: dt.date, language: str = "da") -> str:
    with translation.override(language):
        return formats.date_format(day)


def section(text: str, testid: str) -> str:
    start = text.index(f'data-testid="{testid}"')
    return text[start : text.index("</section>" if "box" in testid else "</div>\n</div>", start)]


def case_page(client, data) -> str:
    return body(client.get(reverse("overblik:case", args=[data.awaiting_case.pk])))


def overview(client) -> str:
    return body(client.get(reverse("overblik:overview")))


def test_the_case_page_says_what_is_needed_and_by_when(citizen_client, data):
    due = wait(data, due_in_days=10)
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert "Det skal du gøre" in alert and REASON in alert
    assert f"Senest {shown(due)}" in alert
    assert 'data-testid="overdue"' not in alert and "overskredet" not in alert
    assert "Det har den gjort siden 5. februar 2024." in alert


def test_the_case_page_marks_a_wait_past_its_date_overdue(citizen_client, data):
    due = wait(data, due_in_days=-3)
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert 'data-testid="overdue"' in alert and "Fristen er overskredet" in alert
    assert shown(due) in alert and f"Senest {shown(due)}" not in alert
    assert "kontakt kommunen" in alert


def test_the_due_day_itself_is_not_overdue(citizen_client, data):
    due = wait(data, due_in_days=0)
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert f"Senest {shown(due)}" in alert and 'data-testid="overdue"' not in alert


def test_a_wait_without_details_reads_as_before(citizen_client, data):
    wait(data, due_in_days=None, reason="")
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert "Det skal du gøre" not in alert and "Frist" not in alert
    assert "Se i Digital Post, hvad kommunen har bedt om" in alert


def test_the_overview_box_says_what_and_by_when_and_marks_overdue(citizen_client, data):
    due = wait(data, due_in_days=5)
    box = section(overview(citizen_client), "awaiting-box")
    assert REASON in box and f"Frist: senest {shown(due)}" in box
    assert 'data-testid="overdue"' not in box

    due = wait(data, due_in_days=-1)
    box = section(overview(citizen_client), "awaiting-box")
    assert f"Frist: {shown(due)}" in box and 'data-testid="overdue"' in box
    assert "Fristen er overskredet" in box


def test_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    due = wait(data, due_in_days=10)
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert "What you need to do" in alert and REASON in alert
    assert f"By {shown(due, 'en')}" in alert
    box = section(overview(citizen_client), "awaiting-box")
    assert f"Deadline: by {shown(due, 'en')}" in box

    due = wait(data, due_in_days=-2)
    alert = section(case_page(citizen_client, data), "awaiting-citizen")
    assert "The deadline has passed" in alert and shown(due, "en") in alert
    box = section(overview(citizen_client), "awaiting-box")
    assert "The deadline has passed" in box
    for danish in ("Det skal du gøre", "Fristen er overskredet", "Senest", "Frist:"):
        assert danish not in alert and danish not in box


def test_a_cpr_number_in_the_reason_is_shown_masked(citizen_client, data):
    wait(data, due_in_days=3, reason="Send barnets (010170-1234) lægeerklæring")
    for text in (case_page(citizen_client, data), overview(citizen_client)):
        assert "010170-****" in text
        assert "010170-1234" not in text and "1234)" not in text


def test_a_closed_case_says_nothing_of_a_wait(citizen_client, data):
    """The index refuses a closed case that waits; were one stored, the page says nothing."""
    text = body(citizen_client.get(reverse("overblik:case", args=[data.closed_case.pk])))
    assert 'data-testid="awaiting-citizen"' not in text and "Frist" not in text
