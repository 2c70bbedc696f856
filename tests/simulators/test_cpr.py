"""Synthetic CPR numbers: valid for stdnum, failing modulus 11, distinct, of the right sex."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.dk import cpr as stdnum_cpr

from simulators.cpr import (
    CAPACITY_PER_SEX,
    FIRST_BIRTH_DATE,
    LAST_BIRTH_DATE,
    checksum,
    cpr_for_index,
    cpr_mask,
)
from simulators.demo_citizens import DEMO_CITIZENS

indexes = st.integers(min_value=0, max_value=CAPACITY_PER_SEX - 1)


@given(index=indexes, male=st.booleans())
def test_every_number_is_valid_for_stdnum_and_fails_modulus_11(index, male):
    number = cpr_for_index(index, male=male)
    assert stdnum_cpr.is_valid(number)
    assert checksum(number) != 0  # not a number the CPR office issued before 2007
    assert int(number[-1]) % 2 == (1 if male else 0)  # odd: male, even: female
    assert FIRST_BIRTH_DATE <= stdnum_cpr.get_birth_date(number) <= LAST_BIRTH_DATE


@given(first=indexes, second=indexes, male=st.booleans())
def test_distinct_indexes_give_distinct_numbers(first, second, male):
    if first != second:
        assert cpr_for_index(first, male=male) != cpr_for_index(second, male=male)


def test_a_block_of_consecutive_indexes_has_no_duplicates_and_spreads_over_ages():
    numbers = [cpr_for_index(i, male=i % 2 == 0) for i in range(20_000)]
    assert len(set(numbers)) == len(numbers)
    years = {stdnum_cpr.get_birth_date(n).year for n in numbers[:500]}
    assert min(years) < 1950 and max(years) > 1995


@pytest.mark.parametrize("index", [-1, CAPACITY_PER_SEX])
def test_index_outside_the_numbering_is_refused(index):
    with pytest.raises(ValueError, match="index must be"):
        cpr_for_index(index, male=True)


def test_demo_citizens_have_valid_unlikely_numbers_and_unique_keys():
    assert len({c.cpr for c in DEMO_CITIZENS}) == len({c.key for c in DEMO_CITIZENS})
    for citizen in DEMO_CITIZENS:
        assert stdnum_cpr.is_valid(citizen.cpr), citizen.key
        assert checksum(citizen.cpr) != 0, citizen.key
        assert stdnum_cpr.get_birth_date(citizen.cpr) < datetime.date(2007, 10, 1)


def test_mask_shows_only_the_birth_date():
    assert cpr_mask("1111501111") == "111150-****"
    assert cpr_mask("") == ""
