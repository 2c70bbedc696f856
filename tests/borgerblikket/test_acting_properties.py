"""The visibility rule for someone acting for another (issue 15), with random relations.

A holder of powers of attorney (and a parent) looks at the generated worlds of
``test_visibility_properties`` through the same selectors, with relations drawn
at random: principals, scopes (every area, KLE main groups/groups, nonsense),
validity, revocation, children's birthdays, and the day it is. The expectations
are written here, independently: the holder sees exactly the principal's cases
in the areas in force that day, a subset of the principal's benefits and payments
all in those areas, and nothing of anyone else.
"""

import dataclasses
import datetime as dt
from unittest import mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borgerblikket import relations as rel
from borgerblikket import selectors
from borgerblikket.selectors import Looking
from tests.borgerblikket.test_visibility_properties import (
    CPRS,
    DATES,
    KLE,
    MUNICIPALITIES,
    PROPERTY_SETTINGS,
    RowSpec,
    actual,
    build,
    expected_cases,
    in_savepoint,
    worlds,
)
from tests.borgerblikket.test_visibility_properties import base as base

pytestmark = [pytest.mark.django_db]

HOLDER = "0101705555"
AREAS = ("*", "32", "15", "32.24", "15.17", "32.30", "27.36", "3", "32.3", "")
DAYS = (dt.date(2026, 1, 1), dt.date(2026, 6, 1), dt.date(2026, 12, 31))


def _dense(world):
    """A world where the principals have much to see: every case a person's, none hidden
    or retracted, and every area on both sheets from the earliest date — so that what
    the scope leaves out is there to be left out."""
    cases, docs, benefits, _rows, sheets = world
    cases = [
        dataclasses.replace(c, cpr=c.cpr or CPRS[0], hidden=False, retracted=False) for c in cases
    ]
    rows = [RowSpec(m, k, None, DATES[0]) for m in MUNICIPALITIES for k in range(len(KLE))]
    return cases, docs, benefits, rows, sheets


dense_worlds = worlds().map(_dense)


REVOKED = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


@st.composite
def powers(draw):
    # Weighted towards powers in force, so partial scopes are met often; expired, not yet
    # valid and revoked ones still come up.
    return rel.PowerOfAttorney(
        holder_cpr=HOLDER,
        principal_cpr=draw(st.sampled_from(CPRS)),
        principal_name="Navn",
        relation="",
        scope=tuple(draw(st.lists(st.sampled_from(AREAS), min_size=1, max_size=3))),
        valid_from=draw(st.sampled_from((DAYS[0], DAYS[0], DAYS[1], DAYS[2]))),
        valid_to=draw(st.sampled_from((None, None, *DAYS))),
        revoked_at=draw(st.sampled_from((None, None, None, REVOKED))),
    )


@st.composite
def children(draw, today):
    limit_birthday_offset = draw(st.integers(-2, 2))  # days from today to the 15th birthday
    turns_15 = today + dt.timedelta(days=limit_birthday_offset)
    try:
        born = turns_15.replace(year=turns_15.year - 15)
    except ValueError:  # pragma: no cover - 29 February is not among the days
        born = dt.date(turns_15.year - 15, 3, 1)
    return rel.Child(HOLDER, draw(st.sampled_from(CPRS)), "Barn", born, draw(st.booleans()))


@st.composite
def relations(draw):
    today = draw(st.sampled_from(DAYS))
    return (
        today,
        draw(st.lists(powers(), min_size=1, max_size=4)),
        draw(st.lists(children(today), max_size=1)),
    )


def in_areas(number: str, areas) -> bool:
    return any(number == a or number.startswith(f"{a}.") for a in areas)


def expected_scope(principal, today, powers_, children_):
    """The areas the holder may see of ``principal``: None (nothing), "all" or a set."""
    for child in children_:
        born = child.birth_date
        if child.cpr == principal and child.custody and today < born.replace(year=born.year + 15):
            return "all"
    areas = set()
    for p in powers_:
        if p.principal_cpr != principal or p.revoked_at is not None:
            continue
        if today < p.valid_from or (p.valid_to is not None and today > p.valid_to):
            continue
        if "*" in p.scope:
            return "all"
        areas |= {a for a in p.scope if len(a) in (2, 5) and a.replace(".", "").isdigit()}
    return areas or None


def with_relations(today, powers_, children_):
    return (
        mock.patch("borgerblikket.selectors.acting.powers_held_by", return_value=powers_),
        mock.patch("borgerblikket.selectors.acting.children_of", return_value=children_),
        mock.patch("borgerblikket.selectors.acting.today", return_value=today),
    )


@PROPERTY_SETTINGS
@given(world=dense_worlds, drawn=relations())
def test_a_holder_sees_the_principals_data_within_scope_and_validity(base, world, drawn):
    today, powers_, children_ = drawn
    cases_spec = world[0]

    def check():
        ids = build(world, base)
        case_ids = ids[0]
        patches = with_relations(today, powers_, children_)
        with patches[0], patches[1], patches[2]:
            for principal in CPRS:
                own = actual(principal, ids)
                looked = actual(Looking(who=HOLDER, whose=principal), ids)
                scope = expected_scope(principal, today, powers_, children_)
                if scope is None:
                    assert looked == (set(), set(), set())
                    continue
                # holder ⊆ principal, for cases, benefits and payments
                for mine, theirs in zip(looked, own, strict=True):
                    assert mine <= theirs
                if scope == "all":
                    assert looked == own
                    continue
                # exactly the principal's cases in the areas, nothing outside them
                want = {
                    i
                    for i in expected_cases(world, principal)
                    if in_areas(KLE[cases_spec[i].kle], scope)
                }
                assert looked[0] == want
                for b in selectors.benefits_visible_to_citizen(
                    cpr=Looking(who=HOLDER, whose=principal)
                ):
                    assert in_areas(b.kle_subject.number, scope)
                for i in own[0] - want:
                    assert not selectors.documents_visible_for_case(
                        cpr=Looking(who=HOLDER, whose=principal), case=case_ids[i]
                    )
                    assert not selectors.case_progress_visible_to_citizen(
                        cpr=Looking(who=HOLDER, whose=principal), case=case_ids[i]
                    )
            # Nobody else's data, whatever the relations.
            assert actual(Looking(who=HOLDER, whose="0101704444"), ids) == (set(), set(), set())

    in_savepoint(check)


def test_a_service_that_does_not_answer_shows_nothing_of_anyone_else():
    unavailable = mock.patch(
        "borgerblikket.selectors.acting.powers_held_by", side_effect=rel.RelationsUnavailable
    )
    with unavailable:
        looking = Looking(who=HOLDER, whose=CPRS[0])
        assert not selectors.cases_visible_to_citizen(cpr=looking).exists()
        # looking at oneself needs no relation service
        assert selectors.cases_visible_to_citizen(cpr=Looking(who=HOLDER, whose=HOLDER)) is not None
