"""Through the one door: a benefit's contact box (``benefit_contact``) and whether a
visible case waits for the citizen (``awaiting_party_since``, ``case_awaits_citizen``)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from borgerblikket import selectors
from indexes.models import Case
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

CPR = "0101701111"
SINCE = dt.datetime(2024, 2, 5, 10, tzinfo=dt.UTC)


@pytest.fixture
def fasit():
    return f.SourceSystemFactory(name="FASIT", municipality=f.municipality("461"))


@pytest.fixture
def row(fasit):
    return f.SheetRowFactory(show_from=dt.date(2020, 1, 1), digital_post_url="https://post/1")


def benefit_of(system, cpr=CPR, **kwargs):
    return f.GrantedBenefitFactory(
        grant=f.GrantFactory(source_system=system, party_cpr=cpr), **kwargs
    )


def test_benefit_contact_is_the_sheet_row_of_the_benefits_kle(row, fasit):
    cleaning = f.kle_subject("27.24.06", "Praktisk hjælp")
    f.SheetRowFactory(
        kle_subject=cleaning, contact_department="Visitationen", contact_phone="65511000"
    )
    kontant = benefit_of(fasit)
    service = benefit_of(fasit, kind="service", name="Rengøring", kle_subject=cleaning)

    contact = selectors.benefit_contact(cpr=CPR, benefit_id=kontant.pk)
    assert (contact.kle_number, contact.contact_phone) == ("32.24.04", "66131372")
    assert contact.digital_post_url == "https://post/1"
    assert contact.municipality_code == "461"
    other = selectors.benefit_contact(cpr="010170-1111", benefit_id=service.pk)
    assert (other.kle_number, other.contact_department) == ("27.24.06", "Visitationen")


def test_benefit_contact_only_for_a_benefit_the_citizen_may_see(row, fasit):
    mine = benefit_of(fasit)
    theirs = benefit_of(fasit, cpr="0202802222")
    unlisted = benefit_of(fasit, kle_subject=f.kle_subject("02.00.10", "Hegnssyn"))
    hidden_case = f.CaseFactory(source_system=fasit, party_cpr=CPR, hidden_from_citizen=True)
    behind_hidden = benefit_of(fasit, related_case=hidden_case)
    assert selectors.benefit_contact(cpr=CPR, benefit_id=mine.pk) is not None
    for benefit in (theirs, unlisted, behind_hidden):
        assert selectors.benefit_contact(cpr=CPR, benefit_id=benefit.pk) is None
    for cpr in (None, "", "abc"):
        assert selectors.benefit_contact(cpr=cpr, benefit_id=mine.pk) is None
    assert selectors.benefit_contact(cpr=CPR, benefit_id="x") is None


def test_benefit_contact_follows_the_rows_source_system_filter(fasit):
    other_system = f.SourceSystemFactory(name="KMD Ydelse", municipality=f.municipality("461"))
    f.SheetRowFactory(source_system=other_system, show_from=dt.date(2020, 1, 1))
    benefit = benefit_of(fasit)
    # The row admits only another system: the benefit is not visible, so no contact.
    assert selectors.benefit_contact(cpr=CPR, benefit_id=benefit.pk) is None
    assert selectors.benefit_contact(cpr=CPR, benefit_id=benefit_of(other_system).pk) is not None


def test_benefit_contact_costs_two_queries(row, fasit):
    benefit = benefit_of(fasit)
    with CaptureQueriesContext(connection) as queries:
        selectors.benefit_contact(cpr=CPR, benefit_id=benefit.pk)
    assert len(queries) == 2


def test_a_visible_case_carries_awaiting_party_since_in_the_same_query(row, fasit):
    waiting = f.CaseFactory(source_system=fasit, party_cpr=CPR, awaiting_party_since=SINCE)
    f.CaseFactory(source_system=fasit, party_cpr=CPR)
    with CaptureQueriesContext(connection) as queries:
        cases = {c.pk: c for c in selectors.cases_visible_to_citizen(cpr=CPR)}
        waits = {pk: selectors.case_awaits_citizen(c) for pk, c in cases.items()}
        since = cases[waiting.pk].awaiting_party_since
    assert len(queries) == 1  # no deferred load: the column is among the citizen's fields
    assert since == SINCE
    assert sorted(waits.values()) == [False, True] and waits[waiting.pk]


def test_a_closed_case_never_awaits_the_citizen():
    assert selectors.case_awaits_citizen(Case(status="Oplyst", awaiting_party_since=SINCE))
    assert not selectors.case_awaits_citizen(Case(status="Oplyst", awaiting_party_since=None))
    assert not selectors.case_awaits_citizen(Case(status="Afsluttet", awaiting_party_since=SINCE))
