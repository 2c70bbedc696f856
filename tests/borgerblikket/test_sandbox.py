"""A sandbox source system (issue 18): its records are kept apart — never shown to a
citizen, never counted in the roll-out or the data-quality report."""

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borgerblikket import selectors
from borgerblikket.selectors import quality, rollout
from indexes.models import DocumentRole, FeedPoll, SourceFeed
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

CPR = "0101701111"


@pytest.fixture
def live():
    return f.SourceSystemFactory(name="FASIT", municipality=f.municipality("461"))


@pytest.fixture
def sandbox():
    return f.SourceSystemFactory(
        name="FASIT test", municipality=f.municipality("461"), sandbox=True
    )


@pytest.fixture
def sheet():
    f.sheet("461", show_document_titles=True)
    return f.SheetRowFactory(show_from=dt.date(2020, 1, 1))


def test_a_sandbox_case_is_never_visible_while_the_same_live_one_is(sheet, live, sandbox):
    shown = f.CaseFactory(source_system=live, party_cpr=CPR)
    f.CaseFactory(source_system=sandbox, party_cpr=CPR)
    assert {c.pk for c in selectors.cases_visible_to_citizen(cpr=CPR)} == {shown.pk}


def test_a_sandbox_benefit_and_its_payments_are_never_visible(sheet, live, sandbox):
    shown = f.GrantedBenefitFactory(grant=f.GrantFactory(source_system=live, party_cpr=CPR))
    hidden = f.GrantedBenefitFactory(grant=f.GrantFactory(source_system=sandbox, party_cpr=CPR))
    f.PaymentFactory(benefit=shown)
    f.PaymentFactory(benefit=hidden)
    assert {b.pk for b in selectors.benefits_visible_to_citizen(cpr=CPR)} == {shown.pk}
    assert {p.benefit_id for p in selectors.payments_visible_to_citizen(cpr=CPR)} == {shown.pk}


def test_a_sandbox_document_on_a_live_case_is_never_visible(sheet, live, sandbox):
    case = f.CaseFactory(source_system=live, party_cpr=CPR)
    f.document_on(case, title="Afgørelse fra drift")
    sandboxed = f.DocumentFactory(source_system=sandbox, title="Afgørelse fra sandkassen")
    case.documents.through.objects.create(case=case, document=sandboxed, role=DocumentRole.FILED)
    titles = [d.title for d in selectors.documents_visible_for_case(cpr=CPR, case=case)]
    assert titles == ["Afgørelse fra drift"]


def test_a_sandbox_case_does_not_make_a_municipality_the_citizens(sheet, sandbox):
    f.CaseFactory(source_system=sandbox, party_cpr=CPR)
    assert selectors.municipalities_for_citizen(cpr=CPR) == []


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hidden=st.booleans(),
    status=st.sampled_from(["Opstaaet", "Oplyst", "Afgjort", "Afsluttet"]),
    created=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2030, 1, 1)),
    row_filter=st.booleans(),
    show_active=st.booleans(),
)
def test_a_sandbox_record_is_never_visible_whatever_else_holds(
    sheet, sandbox, hidden, status, created, row_filter, show_active
):
    """For every combination of the other rules, a sandbox case stays invisible."""
    from django.db import transaction

    with transaction.atomic():
        f.sheet("461", show_active_cases_before_show_from=show_active)
        if row_filter:
            sheet.source_system = sandbox
            sheet.save()
        case = f.CaseFactory(
            source_system=sandbox,
            party_cpr=CPR,
            hidden_from_citizen=hidden,
            status=status,
            created_on=created,
        )
        grant = f.GrantFactory(source_system=sandbox, party_cpr=CPR)
        f.GrantedBenefitFactory(grant=grant, related_case=case)
        assert selectors.case_visible_to_citizen(cpr=CPR, case_id=case.pk) is None
        assert not selectors.benefits_visible_to_citizen(cpr=CPR).exists()
        assert not selectors.payments_visible_to_citizen(cpr=CPR).exists()
        transaction.set_rollback(True)


def test_sandbox_records_are_not_counted_in_the_rollout(sandbox):
    f.CaseFactory(source_system=sandbox)
    f.GrantFactory(source_system=sandbox)
    status = {m.code: m for m in rollout.rollout_status()}
    assert status["461"].category == rollout.NO_DATA


def test_sandbox_records_are_not_counted_in_data_quality(sheet, live, sandbox):
    municipality = f.municipality("461")
    f.CaseFactory(source_system=live, title="Diverse!")
    f.CaseFactory(source_system=sandbox, title="Diverse!")
    f.CaseFactory(source_system=sandbox, party_cpr=None)
    counts = quality.check_counts(municipality=municipality, key="case_title")
    assert counts == {live.pk: 1}
    invisible = quality.invisibility_counts(municipality=municipality)
    assert {system for system, _ in invisible} == {live.pk}
    for key in quality.CHECKS:
        assert sandbox.pk not in quality.check_counts(municipality=municipality, key=key)
    drill = quality.check_offending(municipality=municipality, key="case_title")
    assert {c.source_system_id for c in drill} == {live.pk}


def test_sandbox_feeds_are_not_counted_in_delivery_quality(live, sandbox):
    for system in (live, sandbox):
        feed = SourceFeed.objects.create(
            source_system=system, adapter="fasit_json", base_url="http://127.0.0.1:1/"
        )
        FeedPoll.objects.create(feed=feed, received=3, created=3)
    assert set(quality.delivery_counts(municipality=f.municipality("461"))) == {live.pk}
