"""Sensitive titles (issue 15): a case with sensitivity "Følsomme personoplysninger" or
higher shows a neutral title ("Sag om <KLE main group>") to someone acting for the
citizen, and to the citizen themself when their login's assurance level is below the
municipality's setting (default: substantial shows titles). Its documents' titles go
with it. Same selector, same door."""

import datetime as dt
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borgerblikket import relations as rel
from borgerblikket import selectors
from borgerblikket.models import AssuranceLevel, SheetRow
from borgerblikket.selectors import Looking
from indexes.models import Sensitivity
from kle.models import Subject
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_visibility_properties import PROPERTY_SETTINGS, in_savepoint

pytestmark = [pytest.mark.django_db]

PRINCIPAL = "0101701111"
HOLDER = "0101705555"
SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
HIGH = "https://data.gov.dk/concept/core/nsis/loa/High"


@pytest.fixture
def world():
    fasit = f.SourceSystemFactory(name="FASIT", municipality=f.municipality("461"))
    f.SheetRowFactory(show_from=dt.date(2020, 1, 1))
    f.sheet("461", title_source="case", show_document_titles=True)
    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    Subject.objects.filter(number="32").update(title="Sociale ydelser")
    sensitive = f.CaseFactory(
        source_system=fasit,
        party_cpr=PRINCIPAL,
        title="Behandling for alkoholmisbrug",
        sensitivity=Sensitivity.SENSITIVE,
    )
    vip = f.CaseFactory(
        source_system=fasit, party_cpr=PRINCIPAL, title="VIP-titel", sensitivity=Sensitivity.VIP
    )
    plain = f.CaseFactory(
        source_system=fasit,
        party_cpr=PRINCIPAL,
        title="Afgørelse om kontanthjælp",
        sensitivity=Sensitivity.CONFIDENTIAL,
    )
    f.document_on(sensitive, title="Henvisning til alkoholbehandling")
    f.document_on(plain, title="Afgørelse om kontanthjælp")
    return sensitive, vip, plain


@pytest.fixture
def power():
    power_ = rel.PowerOfAttorney(
        holder_cpr=HOLDER,
        principal_cpr=PRINCIPAL,
        principal_name="Kim",
        relation="datter",
        scope=("*",),
        valid_from=dt.date(2020, 1, 1),
        valid_to=None,
        revoked_at=None,
    )
    with (
        mock.patch(
            "borgerblikket.selectors.acting.powers_held_by",
            side_effect=lambda *, holder_cpr: [power_] if holder_cpr == HOLDER else [],
        ),
        mock.patch("borgerblikket.selectors.acting.children_of", return_value=[]),
    ):
        yield power_


def titles(cpr):
    return {
        c.pk: (c.display_title, c.title_withheld)
        for c in selectors.cases_visible_to_citizen(cpr=cpr)
    }


def test_a_holder_sees_a_neutral_title_for_sensitive_cases_only(world, power):
    sensitive, vip, plain = world
    seen = titles(Looking(who=HOLDER, whose=PRINCIPAL))
    assert seen[sensitive.pk] == ("Sag om sociale ydelser", True)
    assert seen[vip.pk] == ("Sag om sociale ydelser", True)
    assert seen[plain.pk] == ("Afgørelse om kontanthjælp", False)


def test_a_holder_sees_no_document_titles_of_a_sensitive_case(world, power):
    sensitive, _vip, plain = world
    looking = Looking(who=HOLDER, whose=PRINCIPAL)
    assert selectors.documents_visible_for_case(cpr=looking, case=sensitive) == []
    assert [d.title for d in selectors.documents_visible_for_case(cpr=looking, case=plain)] == [
        "Afgørelse om kontanthjælp"
    ]


@pytest.mark.parametrize("assurance", [SUBSTANTIAL, HIGH])
def test_the_citizen_sees_every_title_at_the_default_level(world, assurance):
    sensitive, _vip, _plain = world
    seen = titles(Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=assurance))
    assert seen[sensitive.pk] == ("Behandling for alkoholmisbrug", False)
    docs = selectors.documents_visible_for_case(
        cpr=Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=assurance), case=sensitive
    )
    assert [d.title for d in docs] == ["Henvisning til alkoholbehandling"]


def test_a_municipality_that_asks_for_high_hides_titles_below_it(world, settings):
    sensitive, _vip, plain = world
    f.sheet("461", sensitive_titles_assurance=AssuranceLevel.HIGH)
    low = Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=SUBSTANTIAL)
    assert titles(low)[sensitive.pk] == ("Sag om sociale ydelser", True)
    assert titles(low)[plain.pk] == ("Afgørelse om kontanthjælp", False)
    assert selectors.documents_visible_for_case(cpr=low, case=sensitive) == []
    high = Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=HIGH)
    assert titles(high)[sensitive.pk] == ("Behandling for alkoholmisbrug", False)
    f.sheet("461", sensitive_titles_assurance=None)
    f.sheet("210", sensitive_titles_assurance=AssuranceLevel.HIGH)
    assert titles(low)[sensitive.pk] == ("Behandling for alkoholmisbrug", False)


def test_the_default_level_is_a_setting(world, settings):
    sensitive, _vip, _plain = world
    settings.OVERBLIK_SENSITIVE_TITLES_LOA = "high"
    low = Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=SUBSTANTIAL)
    assert titles(low)[sensitive.pk] == ("Sag om sociale ydelser", True)
    f.sheet("461", sensitive_titles_assurance=AssuranceLevel.SUBSTANTIAL)
    assert titles(low)[sensitive.pk] == ("Behandling for alkoholmisbrug", False)


@pytest.mark.parametrize("assurance", [None, "", "nonsense", "https://example.org/loa/Low"])
def test_an_unknown_or_low_assurance_shows_no_sensitive_title(world, assurance):
    sensitive, _vip, plain = world
    seen = titles(Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=assurance))
    assert seen[sensitive.pk] == ("Sag om sociale ydelser", True)
    assert seen[plain.pk] == ("Afgørelse om kontanthjælp", False)


LEVELS = ("low", "substantial", "high")
SENSITIVITIES = tuple(Sensitivity.values)


@given(
    sensitivity=st.sampled_from(SENSITIVITIES),
    assurance=st.sampled_from((None, "nonsense", *LEVELS, SUBSTANTIAL, HIGH)),
    default=st.sampled_from(LEVELS),
    overrides=st.dictionaries(st.sampled_from(("461", "101", "210")), st.sampled_from(LEVELS)),
    acting=st.booleans(),
)
@PROPERTY_SETTINGS
def test_a_title_is_shown_exactly_when_the_rule_allows_it(
    world, power, settings, sensitivity, assurance, default, overrides, acting
):
    """Written independently of the selector: a neutral title iff the case is sensitive
    and the viewer is someone else, or the login's level is below the municipality's."""
    sensitive, _vip, _plain = world
    settings.OVERBLIK_SENSITIVE_TITLES_LOA = default

    def check():
        for code in ("461", "101", "210"):
            level = overrides.get(code)
            f.sheet(code, sensitive_titles_assurance=None if level is None else LEVELS.index(level))
        type(sensitive).objects.filter(pk=sensitive.pk).update(sensitivity=sensitivity)
        who = HOLDER if acting else PRINCIPAL
        looking = Looking(who=who, whose=PRINCIPAL, assurance=assurance)
        rank = {SUBSTANTIAL: 1, HIGH: 2, "substantial": 1, "high": 2}.get(assurance, 0)
        needed = LEVELS.index(overrides.get("461", default))
        withheld = sensitivity in ("FOELSOMME_PERSONOPLYSNINGER", "VIP_SAGER") and (
            acting or rank < needed
        )
        title, flag = titles(looking)[sensitive.pk]
        assert flag is withheld
        assert (title == "Sag om sociale ydelser") is withheld
        assert (title == "Behandling for alkoholmisbrug") is not withheld
        documents = selectors.documents_visible_for_case(cpr=looking, case=sensitive)
        assert bool(documents) is not withheld

    in_savepoint(check)


def test_the_expected_decision_goes_through_the_same_door(world, power):
    """A holder, and the citizen looking at their own data, get the case's expected
    decision (issue 14) like every other selector; someone without a relation nothing."""
    sensitive, _vip, _plain = world
    SheetRow.objects.update(processing_time=8, processing_time_unit="weeks")
    type(sensitive).objects.filter(pk=sensitive.pk).update(status="Opstaaet")
    own = Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=SUBSTANTIAL)
    holder = Looking(who=HOLDER, whose=PRINCIPAL)
    stranger = Looking(who="0101709999", whose=PRINCIPAL)
    expected = selectors.case_expected_decision(cpr=PRINCIPAL, case_id=sensitive.pk)
    assert expected is not None
    assert selectors.case_expected_decision(cpr=own, case_id=sensitive.pk) == expected
    assert selectors.case_expected_decision(cpr=holder, case_id=sensitive.pk) == expected
    assert selectors.case_expected_decision(cpr=stranger, case_id=sensitive.pk) is None


# --- Benefits: the same rule for their names (issue 15) --------------------------------


@pytest.fixture
def benefits(world):
    """A sensitive grant's benefit, a plain grant's benefit that names the sensitive case,
    and a plain one; each with a payment."""
    sensitive_case, _vip, plain_case = world
    fasit = sensitive_case.source_system
    sensitive_grant = f.GrantFactory(
        source_system=fasit, party_cpr=PRINCIPAL, sensitivity=Sensitivity.SENSITIVE
    )
    plain_grant = f.GrantFactory(
        source_system=fasit, party_cpr=PRINCIPAL, sensitivity=Sensitivity.CONFIDENTIAL
    )
    by_grant = f.GrantedBenefitFactory(
        grant=sensitive_grant, name="Tilskud til misbrugsbehandling", message="Om din behandling"
    )
    by_case = f.GrantedBenefitFactory(
        grant=plain_grant,
        name="Hjælp under alkoholbehandling",
        message="Vedr. alkoholbehandling",
        related_case=sensitive_case,
        related_case_external_id=sensitive_case.external_id,
    )
    plain = f.GrantedBenefitFactory(
        grant=plain_grant, name="Kontanthjælp", message="Udbetales den 1.", related_case=plain_case
    )
    for benefit in (by_grant, by_case, plain):
        f.PaymentFactory(benefit=benefit)
    return by_grant, by_case, plain


def names(looking):
    benefits_ = {
        b.pk: (b.name, b.message, b.name_withheld)
        for b in selectors.benefits_visible_to_citizen(cpr=looking)
    }
    payments = {
        p.benefit_id: p.benefit_name for p in selectors.payments_visible_to_citizen(cpr=looking)
    }
    return benefits_, payments


NEUTRAL = "Ydelse inden for sociale ydelser"


def test_a_holder_sees_a_neutral_name_for_a_sensitive_benefit_and_its_payments(benefits, power):
    by_grant, by_case, plain = benefits
    seen, payments = names(Looking(who=HOLDER, whose=PRINCIPAL))
    assert seen[by_grant.pk] == (NEUTRAL, "", True)
    assert seen[by_case.pk] == (NEUTRAL, "", True)  # the case it names is sensitive
    assert seen[plain.pk] == ("Kontanthjælp", "Udbetales den 1.", False)
    assert payments == {by_grant.pk: NEUTRAL, by_case.pk: NEUTRAL, plain.pk: "Kontanthjælp"}


def test_the_citizen_sees_their_own_benefit_names_at_the_default_level(benefits):
    by_grant, by_case, _plain = benefits
    seen, payments = names(Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=SUBSTANTIAL))
    assert seen[by_grant.pk] == ("Tilskud til misbrugsbehandling", "Om din behandling", False)
    assert seen[by_case.pk][2] is False
    assert payments[by_grant.pk] == "Tilskud til misbrugsbehandling"


def test_the_municipalitys_level_hides_benefit_names_below_it(benefits):
    by_grant, _by_case, plain = benefits
    f.sheet("461", sensitive_titles_assurance=AssuranceLevel.HIGH)
    low, payments = names(Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=SUBSTANTIAL))
    assert low[by_grant.pk] == (NEUTRAL, "", True)
    assert low[plain.pk][0] == "Kontanthjælp"
    assert payments[by_grant.pk] == NEUTRAL
    high, _ = names(Looking(who=PRINCIPAL, whose=PRINCIPAL, assurance=HIGH))
    assert high[by_grant.pk][0] == "Tilskud til misbrugsbehandling"


def test_a_withheld_name_cannot_be_read_back_any_other_way(benefits, power):
    """The row itself carries the neutral name: a template, a log line or ``str()`` that
    reads ``name`` gets nothing more; the real name is not even loaded again."""
    by_grant, _by_case, _plain = benefits
    looking = Looking(who=HOLDER, whose=PRINCIPAL)
    [row] = selectors.benefits_visible_to_citizen(cpr=looking).filter(pk=by_grant.pk)
    assert "misbrug" not in str(vars(row)).lower()
    assert "misbrug" not in str(row).lower()
