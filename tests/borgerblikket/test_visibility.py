"""The visibility rule, rule by rule (DOMAIN.md §5); tests/borgerblikket/test_visibility_properties.py
proves it for generated data."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from borgerblikket import selectors
from borgerblikket.models import TitleSource
from indexes.models import DocumentRole, DocumentType, ProgressStatus
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def fasit():
    return f.SourceSystemFactory(name="FASIT", municipality=f.municipality("461"))


@pytest.fixture
def row(fasit):
    return f.SheetRowFactory(show_from=dt.date(2020, 1, 1))


def visible_ids(cpr):
    return {c.pk for c in selectors.cases_visible_to_citizen(cpr=cpr)}


def test_no_cpr_means_nothing(row, fasit):
    f.CaseFactory(source_system=fasit)
    for cpr in (None, "", "   ", "abc", "01017", "0101701234567", 101701234):
        assert list(selectors.cases_visible_to_citizen(cpr=cpr)) == []
        assert list(selectors.benefits_visible_to_citizen(cpr=cpr)) == []
        assert list(selectors.payments_visible_to_citizen(cpr=cpr)) == []
        assert selectors.exposed_areas_for_citizen(cpr=cpr) == []


def test_primary_party_only_and_cpr_with_dash(row, fasit):
    mine = f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    f.CaseFactory(source_system=fasit, party_cpr="0101702222")
    f.CaseFactory(source_system=fasit, party_cpr=None, party_cvr="12345678")
    assert visible_ids("010170-1111") == {mine.pk}
    assert visible_ids("0101701111") == {mine.pk}


def test_kle_emne_must_be_on_the_sheet(row, fasit):
    other_kle = f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.CaseFactory(source_system=fasit, party_cpr="0101701111", kle_subject=other_kle)
    assert visible_ids("0101701111") == set()
    f.SheetRowFactory(kle_subject=other_kle)
    assert len(visible_ids("0101701111")) == 1


def test_sheet_of_another_municipality_does_not_count(fasit):
    f.SheetRowFactory(municipality=f.municipality("210"))
    f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    assert visible_ids("0101701111") == set()


def test_source_system_filter(fasit):
    sbsys = f.SourceSystemFactory(name="SBSYS", product="SBSYS")
    f.SheetRowFactory(source_system=fasit)
    shown = f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    f.CaseFactory(source_system=sbsys, party_cpr="0101701111")
    assert visible_ids("0101701111") == {shown.pk}


def test_show_from_against_creation_date_and_the_active_cases_switch(fasit):
    f.SheetRowFactory(show_from=dt.date(2020, 1, 1))
    on_the_day = f.CaseFactory(
        source_system=fasit, party_cpr="0101701111", created_on=dt.date(2020, 1, 1)
    )
    early_open = f.CaseFactory(
        source_system=fasit, party_cpr="0101701111", created_on=dt.date(2019, 12, 31)
    )
    early_closed = f.CaseFactory(
        source_system=fasit,
        party_cpr="0101701111",
        created_on=dt.date(2019, 6, 1),
        status=ProgressStatus.CLOSED,
    )
    assert visible_ids("0101701111") == {on_the_day.pk}
    f.sheet("461", show_active_cases_before_show_from=True)
    assert visible_ids("0101701111") == {on_the_day.pk, early_open.pk}
    assert early_closed.pk not in visible_ids("0101701111")


def test_hidden_and_retracted_cases_are_never_shown(row, fasit):
    f.CaseFactory(source_system=fasit, party_cpr="0101701111", hidden_from_citizen=True)
    f.CaseFactory(source_system=fasit, party_cpr="0101701111", retracted_at=timezone.now())
    assert visible_ids("0101701111") == set()


def test_case_carries_only_citizen_safe_fields(row, fasit):
    f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    case = selectors.cases_visible_to_citizen(cpr="0101701111").get()
    for unsafe in ("primary_caseworker", "alternative_title", "party_cvr", "title", "description"):
        with pytest.raises(AttributeError):
            getattr(case, unsafe)
    with pytest.raises(AttributeError):
        case.documents  # noqa: B018 - a relation past the rules is closed
    assert case.case_number
    assert case.display_title == "Hjælp til forsørgelse"


def test_display_title_follows_the_municipality_switch(fasit):
    f.SheetRowFactory(display_name="Kontanthjælp")
    f.CaseFactory(source_system=fasit, party_cpr="0101701111", title="Afslag på kontanthjælp")
    f.CaseFactory(source_system=fasit, party_cpr="0101701111", title="0101701111")

    def titles():
        return sorted(c.display_title for c in selectors.cases_visible_to_citizen(cpr="0101701111"))

    assert titles() == ["Kontanthjælp", "Kontanthjælp"]
    f.sheet("461", title_source=TitleSource.CASE)
    # A case title that is only a number (here a CPR) is never shown: the KLE name is.
    assert titles() == ["Afslag på kontanthjælp", "Kontanthjælp"]


def test_documents_titles_only_when_allowed_never_notes(row, fasit):
    case = f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    letter = f.document_on(case, title="Afgørelse om kontanthjælp")
    f.document_on(case, title="Journalnotat om samtale", role=DocumentRole.JOURNAL_NOTE)
    f.document_on(case, title="Internt notat", type=DocumentType.INTERNAL_NOTE)
    f.document_on(case, title="Tilbagekaldt brev", retracted_at=timezone.now())
    assert selectors.documents_visible_for_case(cpr="0101701111", case=case) == []
    f.sheet("461", show_document_titles=True)
    docs = selectors.documents_visible_for_case(cpr="0101701111", case=case)
    assert [(d.id, d.title) for d in docs] == [(letter.pk, "Afgørelse om kontanthjælp")]
    # Someone else asking for the same case gets nothing.
    assert selectors.documents_visible_for_case(cpr="0101702222", case=case) == []


def test_benefits_follow_kle_and_related_case(row, fasit):
    grant = f.GrantFactory(source_system=fasit, party_cpr="0101701111")
    shown = f.GrantedBenefitFactory(grant=grant)
    f.GrantedBenefitFactory(grant=grant, kle_subject=f.kle_subject("27.12.02", "Ikke udstillet"))
    hidden_case = f.CaseFactory(
        source_system=fasit, party_cpr="0101701111", hidden_from_citizen=True
    )
    f.GrantedBenefitFactory(grant=grant, related_case=hidden_case)
    early_case = f.CaseFactory(
        source_system=fasit, party_cpr="0101701111", created_on=dt.date(2019, 1, 1)
    )
    early = f.GrantedBenefitFactory(grant=grant, related_case=early_case)
    ids = lambda: {b.pk for b in selectors.benefits_visible_to_citizen(cpr="0101701111")}  # noqa: E731
    assert ids() == {shown.pk}
    f.sheet("461", show_active_cases_before_show_from=True)
    assert ids() == {shown.pk, early.pk}
    benefit = selectors.benefits_visible_to_citizen(cpr="0101701111").get(pk=early.pk)
    assert benefit.visible_related_case_id == early_case.pk
    with pytest.raises(AttributeError):
        benefit.related_case_id  # noqa: B018


def test_payments_of_visible_benefits_only(row, fasit):
    grant = f.GrantFactory(source_system=fasit, party_cpr="0101701111")
    shown = f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant))
    f.PaymentFactory(
        benefit=f.GrantedBenefitFactory(
            grant=grant, kle_subject=f.kle_subject("27.12.02", "Ikke udstillet")
        )
    )
    f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant), retracted_at=timezone.now())
    payments = list(selectors.payments_visible_to_citizen(cpr="0101701111"))
    assert [p.pk for p in payments] == [shown.pk]
    assert payments[0].benefit_name == "Kontanthjælp"


def test_exposed_areas_and_contact(row, fasit):
    case = f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    areas = selectors.exposed_areas_for_citizen(cpr="0101701111")
    assert [(a.municipality_code, a.kle_number) for a in areas] == [("461", "32.24.04")]
    contact = selectors.case_contact(cpr="0101701111", case_id=case.pk)
    assert contact.contact_phone == "66131372"
    assert selectors.case_contact(cpr="0101702222", case_id=case.pk) is None


def test_one_query_per_page_whatever_the_data(row, fasit):
    for _ in range(30):
        f.CaseFactory(source_system=fasit, party_cpr="0101701111")
    with CaptureQueriesContext(connection) as queries:
        page = list(selectors.cases_visible_to_citizen(cpr="0101701111")[:10])
        titles = [c.display_title for c in page]
    assert len(page) == 10 and all(titles)
    assert len(queries) == 1
    grant = f.GrantFactory(source_system=fasit, party_cpr="0101701111")
    for _ in range(5):
        f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant))
    with CaptureQueriesContext(connection) as queries:
        benefits = list(selectors.benefits_visible_to_citizen(cpr="0101701111"))
        payments = list(selectors.payments_visible_to_citizen(cpr="0101701111"))
        _ = [b.payment_plan_id if hasattr(b, "payment_plan_id") else None for b in benefits]
    assert len(benefits) == 5 and len(payments) == 5
    assert len(queries) == 2


def test_progress_history_only_of_a_visible_case(row, fasit):
    from indexes.models import CaseProgress

    def with_history(**kwargs):
        case = f.CaseFactory(source_system=fasit, **kwargs)
        start = timezone.now() - dt.timedelta(days=30)
        CaseProgress.objects.create(
            case=case,
            status=ProgressStatus.OPENED,
            valid_from=start,
            valid_to=start + dt.timedelta(days=10),
        )
        CaseProgress.objects.create(
            case=case, status=ProgressStatus.INFORMED, valid_from=start + dt.timedelta(days=10)
        )
        return case

    mine = with_history(party_cpr="0101701111")
    hidden = with_history(party_cpr="0101701111", hidden_from_citizen=True)
    steps = selectors.case_progress_visible_to_citizen(cpr="0101701111", case=mine)
    assert [s.status for s in steps] == [ProgressStatus.OPENED, ProgressStatus.INFORMED]
    assert steps[0].end == steps[1].start
    assert steps[1].end is None
    assert selectors.case_progress_visible_to_citizen(cpr="0101702222", case=mine) == []
    assert selectors.case_progress_visible_to_citizen(cpr="0101701111", case=hidden) == []
    assert selectors.case_progress_visible_to_citizen(cpr=None, case=mine) == []


def test_secondary_parties_and_the_benefit_recipient_do_not_see_the_case(row, fasit):
    """Issue 18: only the primary party sees a case; a secondary party's or the benefit
    recipient's CPR never makes it visible to that person, and the citizen's case does not
    carry them (nor the municipality of residence)."""
    case = f.CaseFactory(
        source_system=fasit,
        party_cpr="0101701111",
        secondary_parties=[{"cpr": "0202802222", "name": "Anden Part"}],
        benefit_recipient_cpr="0303903333",
        benefit_recipient_name="Modtager Modtagersen",
        residence_municipality=f.municipality("101"),
    )
    for other in ("0202802222", "020280-2222", "0303903333"):
        assert visible_ids(other) == set()
        assert not selectors.record_visible_to_citizen(
            cpr=other, record_type="case", record_id=case.pk
        )
        assert selectors.municipalities_for_citizen(cpr=other) == []
    assert visible_ids("0101701111") == {case.pk}
    assert selectors.record_visible_to_citizen(
        cpr="0101701111", record_type="case", record_id=case.pk
    )
    shown = selectors.cases_visible_to_citizen(cpr="0101701111").get()
    hidden = {
        "secondary_parties",
        "benefit_recipient_cpr",
        "benefit_recipient_cvr",
        "benefit_recipient_name",
        "residence_municipality_id",
    }
    assert hidden <= shown.get_deferred_fields()


def test_a_grants_recipient_does_not_see_the_benefit_or_its_payments(row, fasit):
    """Issue 18: a grant's Ydelsesmodtager (a payee) is not its party."""
    grant = f.GrantFactory(
        source_system=fasit,
        party_cpr="0101701111",
        recipient_cpr="0303903333",
        recipient_name="Modtager Modtagersen",
    )
    benefit = f.GrantedBenefitFactory(grant=grant)
    f.PaymentFactory(benefit=benefit)
    assert list(selectors.benefits_visible_to_citizen(cpr="0303903333")) == []
    assert list(selectors.payments_visible_to_citizen(cpr="0303903333")) == []
    assert [b.pk for b in selectors.benefits_visible_to_citizen(cpr="0101701111")] == [benefit.pk]
    assert len(selectors.payments_visible_to_citizen(cpr="0101701111")) == 1
