""" "Forventet afgørelse senest …" on the case page (issue 14): the day the case arose
(the start of its Opstaaet period) plus the sheet row's published processing time
(sagsbehandlingsfrist), through the door (``case_expected_decision``).

Said plainly once the date has passed, with whom to contact (the sheet row's
department, phone and Digital Post); a decided or closed case says nothing of it,
nor does a case whose row publishes no processing time. Danish and English.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from borgerblikket.models import ProcessingTimeUnit, SheetRow
from borgerblikket.selectors import case_expected_decision
from indexes.services.ingestion import record_apply
from tests.indexes.factories import case_payload
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TESTID = 'data-testid="expected-decision"'


@pytest.fixture
def data(db):
    built = portal_data.build()
    SheetRow.objects.filter(municipality="461").update(
        processing_time=8, processing_time_unit=ProcessingTimeUnit.WEEKS
    )
    return built


def local(day: dt.date, hour: int = 10) -> str:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour))).isoformat()


def deliver(data, external_id: str, *, arose: dt.date, statuses=("Opstaaet",), **over):
    """A case of Kim's delivered by Odense's FASIT: each status 5 days after the last."""
    progress = []
    for index, status in enumerate(statuses):
        period = {"status": status, "from": local(arose + dt.timedelta(days=5 * index))}
        if index + 1 < len(statuses):
            period["to"] = local(arose + dt.timedelta(days=5 * (index + 1)))
        progress.append(period)
    record = case_payload(
        external_id=external_id,
        title=f"Ansøgning om kontanthjælp ({external_id})",
        kle_number="32.24.04",
        party=over.pop("party", {"cpr": portal_data.KIM.cpr}),
        created_on=over.pop("created_on", arose.isoformat()),
        source_timestamp=local(timezone.localdate() - dt.timedelta(days=1)),
        progress=progress,
        **over,
    )
    system = data.awaiting_case.source_system
    return record_apply(source_system=system, kind="case", payload=record).instance


def page(client, case) -> str:
    response = client.get(reverse("overblik:case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def block(text: str) -> str:
    start = text.index(TESTID)
    return text[start : text.index("</div>", start)]


def shown(day: dt.date, language: str = "da") -> str:
    with translation.override(language):
        return formats.date_format(day)


def test_an_open_case_says_when_a_decision_is_expected(citizen_client, data):
    arose = timezone.localdate() - dt.timedelta(days=10)
    case = deliver(data, "fd-1", arose=arose, statuses=("Opstaaet", "Oplyst"))
    due = arose + dt.timedelta(weeks=8)
    text = block(page(citizen_client, case))
    assert f"Forventet afgørelse senest {shown(due)}" in text
    assert "8 uger" in text and shown(arose) in text
    assert "overskredet" not in text and "passeret" not in text


def test_a_passed_date_is_said_plainly_with_whom_to_contact(citizen_client, data):
    arose = timezone.localdate() - dt.timedelta(days=100)
    case = deliver(data, "fd-2", arose=arose, statuses=("Opstaaet", "Oplyst"))
    due = arose + dt.timedelta(weeks=8)
    text = block(page(citizen_client, case))
    assert f"Forventet afgørelse senest {shown(due)}" in text
    assert "Datoen er passeret" in text
    # Whom to contact: the sheet row's department, phone and Digital Post.
    assert "Kontaktcenter" in text
    assert 'href="tel:+4566131372"' in text and "66 13 13 72" in text
    assert 'href="https://post.borger.dk/?mailboxid=5185"' in text


def test_the_date_the_case_arose_is_its_opstaaet_period_not_created_on(citizen_client, data):
    arose = timezone.localdate() - dt.timedelta(days=3)
    case = deliver(
        data, "fd-3", arose=arose, created_on=(arose - dt.timedelta(days=30)).isoformat()
    )
    expected = case_expected_decision(cpr=portal_data.KIM.cpr, case_id=case.pk)
    assert expected.due == arose + dt.timedelta(weeks=8)
    assert expected.arose_on == arose and not expected.passed


def test_days_count_as_days(citizen_client, data):
    SheetRow.objects.filter(municipality="461").update(
        processing_time=30, processing_time_unit=ProcessingTimeUnit.DAYS
    )
    arose = timezone.localdate() - dt.timedelta(days=30)
    case = deliver(data, "fd-4", arose=arose)
    expected = case_expected_decision(cpr=portal_data.KIM.cpr, case_id=case.pk)
    # The 30th day after the case arose is today: not passed yet.
    assert expected.due == timezone.localdate() and not expected.passed
    assert "30 dage" in block(page(citizen_client, case))


@pytest.mark.parametrize(
    "statuses",
    [("Opstaaet", "Afgjort"), ("Opstaaet", "Oplyst", "Afgjort", "Afsluttet")],
)
def test_a_decided_or_closed_case_says_nothing_of_it(citizen_client, data, statuses):
    case = deliver(
        data, "fd-5", arose=timezone.localdate() - dt.timedelta(days=100), statuses=statuses
    )
    text = page(citizen_client, case)
    assert TESTID not in text and "Forventet afgørelse" not in text
    assert case_expected_decision(cpr=portal_data.KIM.cpr, case_id=case.pk) is None


def test_no_published_processing_time_says_nothing(citizen_client, data):
    SheetRow.objects.filter(municipality="461").update(
        processing_time=None, processing_time_unit=""
    )
    case = deliver(data, "fd-6", arose=timezone.localdate() - dt.timedelta(days=10))
    assert TESTID not in page(citizen_client, case)


def test_only_through_the_door(data):
    """Another citizen's case, or a hidden one, has no expected decision (no CPR: none)."""
    arose = timezone.localdate() - dt.timedelta(days=10)
    hidden = deliver(data, "fd-7", arose=arose, hidden_from_citizen=True)
    assert case_expected_decision(cpr=portal_data.KIM.cpr, case_id=hidden.pk) is None
    others = deliver(data, "fd-8", arose=arose, party={"cpr": portal_data.HANS.cpr})
    assert case_expected_decision(cpr=portal_data.KIM.cpr, case_id=others.pk) is None
    assert case_expected_decision(cpr=portal_data.HANS.cpr, case_id=others.pk) is not None
    assert case_expected_decision(cpr=None, case_id=others.pk) is None


def test_in_english(citizen_client, data):
    citizen_client.post(reverse("overblik:set_language"), {"language": "en", "next": "/"})
    arose = timezone.localdate() - dt.timedelta(days=10)
    upcoming = deliver(data, "fd-9", arose=arose, statuses=("Opstaaet", "Oplyst"))
    text = block(page(citizen_client, upcoming))
    assert f"Decision expected by {shown(arose + dt.timedelta(weeks=8), 'en')}" in text
    assert "8 weeks" in text and "Forventet" not in text and "uger" not in text

    passed = deliver(data, "fd-10", arose=arose - dt.timedelta(days=90))
    text = block(page(citizen_client, passed))
    assert "The date has passed" in text and "Kontaktcenter" in text
    assert "Datoen er passeret" not in text
