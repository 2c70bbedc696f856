"""The visibility rule holds for generated indexes and sheets (hypothesis).

The selectors (SQL) are compared with an independent pure-Python reading of
DOMAIN.md §5 written here, including benefits that name their case by case number
in another source system of the municipality (issue 11.1): resolved own system
first, then the one other system holding the number; missing or ambiguous →
withheld. Each example is built inside a savepoint that is
rolled back, so examples never see each other's data.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borgerblikket import selectors
from borgerblikket.models import Sheet, SheetRow
from indexes.models import (
    Case,
    CaseDocument,
    Document,
    DocumentRole,
    DocumentType,
    Grant,
    GrantedBenefit,
    Payment,
    ProgressStatus,
)
from indexes.services.references import references_resolve_all
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

CPRS = ("0101701111", "0101702222", "0101703333")
MUNICIPALITIES = ("461", "210")
SYSTEMS = (("461", "FASIT"), ("461", "SBSYS"), ("461", "KMD Ydelse"), ("210", "Acadre"))
# Case numbers drawn from a small pool so systems share them; benefits may also name
# "N-9", which no case has.
NUMBERS = ("N-0", "N-1", "N-2")
NAMED_NUMBERS = (*NUMBERS, "N-9")
KLE = ("32.24.04", "15.17.06", "32.30.04")
DATES = (dt.date(2019, 6, 1), dt.date(2019, 12, 31), dt.date(2020, 1, 1), dt.date(2021, 5, 1))
STATUSES = tuple(ProgressStatus.values)
BENEFIT_STATUSES = ("Aktiv", "Inaktiv", "Passiv")


@dataclass(frozen=True)
class CaseSpec:
    cpr: str | None
    system: int
    kle: int
    created_on: dt.date
    status: str
    hidden: bool
    retracted: bool
    number: int  # index into NUMBERS


@dataclass(frozen=True)
class RowSpec:
    municipality: str
    kle: int
    system: int | None  # index into SYSTEMS, must belong to the municipality
    show_from: dt.date


@dataclass(frozen=True)
class DocSpec:
    case: int
    type: str
    role: str
    retracted: bool
    hidden: bool  # the document's own "Visning undtaget for borger" (issue 11.2)


@dataclass(frozen=True)
class BenefitSpec:
    cpr: str | None
    system: int
    kle: int
    start_on: dt.date
    status: str
    grant_retracted: bool
    # None, ("fk", case index): the case set directly (as the load generator does), or
    # ("number", index into NAMED_NUMBERS): named by case number, resolved by the index.
    own_case: tuple | None
    grant_case: tuple | None
    payment_retracted: bool


case_specs = st.builds(
    CaseSpec,
    cpr=st.sampled_from((*CPRS, None)),
    system=st.integers(0, len(SYSTEMS) - 1),
    kle=st.integers(0, len(KLE) - 1),
    created_on=st.sampled_from(DATES),
    status=st.sampled_from(STATUSES),
    hidden=st.booleans(),
    retracted=st.booleans(),
    number=st.integers(0, len(NUMBERS) - 1),
)


@st.composite
def row_specs(draw):
    municipality = draw(st.sampled_from(MUNICIPALITIES))
    own = [i for i, (m, _) in enumerate(SYSTEMS) if m == municipality]
    return RowSpec(
        municipality=municipality,
        kle=draw(st.integers(0, len(KLE) - 1)),
        system=draw(st.sampled_from([None, *own])),
        show_from=draw(st.sampled_from(DATES)),
    )


def unique_rows(rows):
    seen, out = set(), []
    for row in rows:
        if (row.municipality, row.kle) not in seen:
            seen.add((row.municipality, row.kle))
            out.append(row)
    return out


@st.composite
def worlds(draw):
    cases = draw(st.lists(case_specs, max_size=12))
    docs = []
    if cases:
        docs = draw(
            st.lists(
                st.builds(
                    DocSpec,
                    case=st.integers(0, len(cases) - 1),
                    type=st.sampled_from(DocumentType.values),
                    role=st.sampled_from(DocumentRole.values),
                    retracted=st.booleans(),
                    hidden=st.booleans(),
                ),
                max_size=6,
            )
        )
    by_number = st.tuples(st.just("number"), st.integers(0, len(NAMED_NUMBERS) - 1))
    by_fk = st.tuples(st.just("fk"), st.integers(0, len(cases) - 1)) if cases else st.none()
    case_ref = st.none() | by_fk | by_number
    benefits = draw(
        st.lists(
            st.builds(
                BenefitSpec,
                cpr=st.sampled_from((*CPRS, None)),
                system=st.integers(0, len(SYSTEMS) - 1),
                kle=st.integers(0, len(KLE) - 1),
                start_on=st.sampled_from(DATES),
                status=st.sampled_from(BENEFIT_STATUSES),
                grant_retracted=st.booleans(),
                own_case=case_ref,
                grant_case=case_ref,
                payment_retracted=st.booleans(),
            ),
            max_size=6,
        )
    )
    rows = unique_rows(draw(st.lists(row_specs(), max_size=6)))
    sheets = draw(
        st.dictionaries(
            st.sampled_from(MUNICIPALITIES),
            st.tuples(
                st.booleans(), st.booleans()
            ),  # (show active before fradato, show doc titles)
        )
    )
    return cases, docs, benefits, rows, sheets


# --- the rules, independently, in plain Python -------------------------------------------


def row_for(rows, municipality, kle):
    return next((r for r in rows if r.municipality == municipality and r.kle == kle), None)


def exposed(rows, sheets, *, municipality, kle, system, created_on, is_open):
    row = row_for(rows, municipality, kle)
    if row is None:  # rule 2
        return False
    if row.system is not None and row.system != system:  # rule 3
        return False
    if created_on >= row.show_from:  # rule 4
        return True
    return is_open and sheets.get(municipality, (False, False))[0]


def case_numbers(cases) -> list[str]:
    """Each case's number: its drawn one, unless a live case of its system has it already
    (numbers are unique per source system among live cases), then its own."""
    taken, out = set(), []
    for i, c in enumerate(cases):
        number = NUMBERS[c.number]
        if not c.retracted and (c.system, number) in taken:
            number = f"C-{i}"
        if not c.retracted:
            taken.add((c.system, number))
        out.append(number)
    return out


def resolve_number(cases, system, number):
    """The case a benefit of ``system`` names by ``number``: the system's own live case,
    else the live case of the one other system of the municipality that has it."""
    numbers = case_numbers(cases)
    live = [
        j
        for j, c in enumerate(cases)
        if not c.retracted and numbers[j] == number and SYSTEMS[c.system][0] == SYSTEMS[system][0]
    ]
    own = [j for j in live if cases[j].system == system]
    if own:
        return own[0]
    if len({cases[j].system for j in live}) == 1:
        return live[0]
    return None  # missing or ambiguous


def expected_cases(world, cpr):
    cases, _, _, rows, sheets = world
    return {
        i
        for i, c in enumerate(cases)
        if c.cpr == cpr  # rule 1
        and not c.retracted
        and not c.hidden  # rule 5
        and exposed(
            rows,
            sheets,
            municipality=SYSTEMS[c.system][0],
            kle=c.kle,
            system=c.system,
            created_on=c.created_on,
            is_open=c.status != ProgressStatus.CLOSED,
        )
    }


def expected_documents(world, cpr, case_index):
    cases, docs, _, _, sheets = world
    if case_index not in expected_cases(world, cpr):
        return set()
    if not sheets.get(SYSTEMS[cases[case_index].system][0], (False, False))[1]:
        return set()
    return {
        i
        for i, d in enumerate(docs)
        if d.case == case_index
        and not d.retracted
        and not d.hidden
        and d.type != DocumentType.INTERNAL_NOTE
        and d.role != DocumentRole.JOURNAL_NOTE
    }


def expected_benefits(world, cpr):
    cases, _, benefits, rows, sheets = world
    out = set()
    for i, b in enumerate(benefits):
        if b.cpr != cpr or b.grant_retracted:
            continue
        related, missing = [], False
        for ref in (b.own_case, b.grant_case):
            if ref is None:
                continue
            kind, value = ref
            j = value if kind == "fk" else resolve_number(cases, b.system, NAMED_NUMBERS[value])
            if j is None:
                missing = True  # names a case that is not there: withheld
            else:
                related.append(j)
        # Every named case must be one the citizen may see (rules 1-5).
        if missing or not set(related) <= expected_cases(world, cpr):
            continue
        anchor = cases[related[0]] if related else None
        if exposed(
            rows,
            sheets,
            municipality=SYSTEMS[b.system][0],
            kle=b.kle,
            system=b.system,
            created_on=anchor.created_on if anchor else b.start_on,
            is_open=(anchor.status != ProgressStatus.CLOSED) if anchor else b.status == "Aktiv",
        ):
            out.add(i)
    return out


def expected_payments(world, cpr):
    _, _, benefits, _, _ = world
    return {i for i in expected_benefits(world, cpr) if not benefits[i].payment_retracted}


# --- building a world in the database -------------------------------------------------------


@pytest.fixture
def base():
    systems = [
        f.SourceSystemFactory(municipality=f.municipality(m), name=name, product="Andet")
        for m, name in SYSTEMS
    ]
    subjects = [f.kle_subject(number) for number in KLE]
    return systems, subjects, f.facet()


def build(world, base):
    """Write a world; return maps from spec index to database id."""
    cases, docs, benefits, rows, sheets = world
    systems, subjects, facet = base
    now = timezone.now()
    case_ids = []
    numbers = case_numbers(cases)
    for i, c in enumerate(cases):
        system = systems[c.system]
        case = Case.objects.create(
            source_system=system,
            municipality_id=system.municipality_id,
            external_id=f"c{i}",
            source_timestamp=now,
            received_at=now,
            case_number=numbers[i],
            title=f"Sag {i}",
            alternative_title="intern",
            primary_caseworker="Hemmelig",
            kle_subject=subjects[c.kle],
            facet=facet,
            party_cpr=c.cpr,
            party_cvr=None if c.cpr else "12345678",
            created_on=c.created_on,
            status=c.status,
            hidden_from_citizen=c.hidden,
            retracted_at=now if c.retracted else None,
            last_changed_at=now,
        )
        case_ids.append(case.pk)
    doc_ids = []
    for i, d in enumerate(docs):
        system = systems[cases[d.case].system]
        doc = Document.objects.create(
            source_system=system,
            municipality_id=system.municipality_id,
            external_id=f"d{i}",
            source_timestamp=now,
            received_at=now,
            title=f"Dokument {i}",
            type=d.type,
            status="Endeligt",
            retracted_at=now if d.retracted else None,
            hidden_from_citizen=d.hidden,
        )
        CaseDocument.objects.create(case_id=case_ids[d.case], document=doc, role=d.role)
        doc_ids.append(doc.pk)
    benefit_ids, payment_ids = [], []

    def fk(ref):
        return case_ids[ref[1]] if ref is not None and ref[0] == "fk" else None

    def number(ref):
        return NAMED_NUMBERS[ref[1]] if ref is not None and ref[0] == "number" else ""

    for i, b in enumerate(benefits):
        system = systems[b.system]
        grant = Grant.objects.create(
            source_system=system,
            municipality_id=system.municipality_id,
            external_id=f"g{i}",
            source_timestamp=now,
            received_at=now,
            party_cpr=b.cpr,
            start_on=b.start_on,
            status="Aktiv",
            retracted_at=now if b.grant_retracted else None,
            related_case_id=fk(b.grant_case),
            related_case_number=number(b.grant_case),
        )
        benefit = GrantedBenefit.objects.create(
            grant=grant,
            external_id=f"b{i}",
            name=f"Ydelse {i}",
            kind="oekonomisk",
            kle_subject=subjects[b.kle],
            start_on=b.start_on,
            status=b.status,
            related_case_id=fk(b.own_case),
            related_case_number=number(b.own_case),
        )
        payment = Payment.objects.create(
            benefit=benefit,
            source_system=system,
            municipality_id=system.municipality_id,
            external_id=f"p{i}",
            source_timestamp=now,
            received_at=now,
            party_cpr=b.cpr,
            disposal_date=b.start_on,
            period_start=b.start_on,
            period_end=b.start_on,
            gross_amount="100.00",
            amount_after_tax="60.00",
            retracted_at=now if b.payment_retracted else None,
        )
        benefit_ids.append(benefit.pk)
        payment_ids.append(payment.pk)
    references_resolve_all()  # the index resolves references by case number
    for row in rows:
        add_row(row, base)
    for municipality, (show_active, show_docs) in sheets.items():
        Sheet.objects.create(
            municipality_id=municipality,
            show_active_cases_before_show_from=show_active,
            show_document_titles=show_docs,
        )
    return case_ids, doc_ids, benefit_ids, payment_ids


def add_row(row, base):
    systems, subjects, _ = base
    SheetRow.objects.create(
        municipality_id=row.municipality,
        kle_subject=subjects[row.kle],
        source_system=systems[row.system] if row.system is not None else None,
        show_from=row.show_from,
    )


def actual(cpr, ids):
    case_ids, _doc_ids, benefit_ids, payment_ids = ids
    index = {v: k for k, v in enumerate(case_ids)}
    cases = {index[c.pk] for c in selectors.cases_visible_to_citizen(cpr=cpr)}
    b_index = {v: k for k, v in enumerate(benefit_ids)}
    benefits = {b_index[b.pk] for b in selectors.benefits_visible_to_citizen(cpr=cpr)}
    p_index = {v: k for k, v in enumerate(payment_ids)}
    payments = {p_index[p.pk] for p in selectors.payments_visible_to_citizen(cpr=cpr)}
    return cases, benefits, payments


class Rollback(Exception):
    pass


def in_savepoint(fn):
    try:
        with transaction.atomic():
            fn()
            raise Rollback
    except Rollback:
        pass


PROPERTY_SETTINGS = settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY_SETTINGS
@given(world=worlds())
def test_selectors_return_exactly_what_the_rules_allow(base, world):
    """No record outside the rules, none missing, none of another person."""

    def check():
        ids = build(world, base)
        case_ids, doc_ids, _, _ = ids
        for cpr in (*CPRS, "0101704444"):
            cases, benefits, payments = actual(cpr, ids)
            assert cases == expected_cases(world, cpr)
            assert benefits == expected_benefits(world, cpr)
            assert payments == expected_payments(world, cpr)
            # Never another person's record, read straight from the index.
            for c in selectors.cases_visible_to_citizen(cpr=cpr):
                assert Case.objects.get(pk=c.pk).party_cpr == cpr
            for b in selectors.benefits_visible_to_citizen(cpr=cpr):
                assert GrantedBenefit.objects.get(pk=b.pk).grant.party_cpr == cpr
            for i, case_id in enumerate(case_ids):
                docs = selectors.documents_visible_for_case(cpr=cpr, case=case_id)
                d_index = {v: k for k, v in enumerate(doc_ids)}
                assert {d_index[d.id] for d in docs} == expected_documents(world, cpr, i)

    in_savepoint(check)


@PROPERTY_SETTINGS
@given(world=worlds(), extra=row_specs())
def test_adding_a_sheet_row_only_ever_adds_records(base, world, extra):
    cases, docs, benefits, rows, sheets = world
    if row_for(rows, extra.municipality, extra.kle) is not None:
        rows = [r for r in rows if (r.municipality, r.kle) != (extra.municipality, extra.kle)]
        world = (cases, docs, benefits, rows, sheets)

    def check():
        ids = build(world, base)
        before = {cpr: actual(cpr, ids) for cpr in CPRS}
        add_row(extra, base)
        for cpr in CPRS:
            after = actual(cpr, ids)
            for old, new in zip(before[cpr], after, strict=True):
                assert old <= new
            # and the addition is exactly what the rules say
            grown = (cases, docs, benefits, [*rows, extra], sheets)
            assert after[0] == expected_cases(grown, cpr)

    in_savepoint(check)
