"""The one CPR-shape detector (config/cpr_shape.py): what it finds, masks and leaves alone.

The log filter, the citizen door, the admin and the data-quality check all use
it; its SQL form is compared with the Python form on the database in
tests/borgerblikket/test_regex_portability.py.
"""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.cpr_shape import CPR_SHAPE, cpr_shape_in, cpr_shapes_mask, cpr_shapes_redact
from config.logging import CPR_PATTERN

SEPARATORS = ["", "-", " ", "\u00a0", "\u2013", "\u2011"]
# Text around a number: anything but a digit next to it.
NOT_DIGIT = st.text(st.characters(blacklist_categories=["Nd"]), max_size=12)


def ddmmyy(day: dt.date) -> str:
    return day.strftime("%d%m") + f"{day.year % 100:02d}"


@given(
    day=st.dates(dt.date(1858, 1, 1), dt.date(2057, 12, 31)),
    serial=st.integers(0, 9999),
    separator=st.sampled_from(SEPARATORS),
    before=NOT_DIGIT,
    after=NOT_DIGIT,
)
def test_a_cpr_shaped_number_is_found_and_masked_anywhere(day, serial, separator, before, after):
    number = f"{ddmmyy(day)}{separator}{serial:04d}"
    text = f"{before}{number}{after}"
    assert cpr_shape_in(text)
    masked = cpr_shapes_mask(text)
    assert number not in masked
    assert f"{ddmmyy(day)}-****" in masked
    redacted = cpr_shapes_redact(text)
    assert number not in redacted and "[CPR]" in redacted


@given(
    numbers=st.lists(
        st.tuples(st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)), st.integers(0, 9999)),
        min_size=2,
        max_size=4,
    ),
    gap=st.sampled_from([" ", ",", "/", "x"]),
)
def test_numbers_one_character_apart_are_all_masked(numbers, gap):
    text = gap.join(f"{ddmmyy(day)}{serial:04d}" for day, serial in numbers)
    assert cpr_shapes_mask(text).count("-****") == len(numbers)


@pytest.mark.parametrize(
    "text",
    [
        "Sag 310270-1234",  # 31 February
        "Sag 300270-1234",  # 30 February
        "Sag 290201-1234",  # 29 February 2001 (never a leap year ending 01)
        "Sag 000170-1234",  # day 0
        "Sag 011370-1234",  # month 13
        "Sag 12345678901",  # eleven digits
        "Sag 1010170-1234",  # seven digits before the dash
        "Sag 010170-12345",  # five after
        "Sag 010170--1234",  # two separators
        "Sag 2024-9000006",  # a case number
        "Møde 01-01-2024 kl. 10",
        "Telefon 66 13 13 72",
    ],
)
def test_what_is_not_a_cpr_shape_is_left_alone(text):
    assert not cpr_shape_in(text)
    assert cpr_shapes_mask(text) == text


@pytest.mark.parametrize(
    "text",
    ["Afgørelse om tilskud vedr. barn 010170-1234", "290200 1234", "x3112991234y", "310170-0000"],
)
def test_leap_days_month_ends_and_letters_around_are_found(text):
    assert cpr_shape_in(text)


def test_nothing_but_text_goes_in_and_comes_out():
    assert cpr_shapes_mask(None) is None
    assert cpr_shapes_mask("") == ""
    assert cpr_shape_in(None) is False


def test_the_log_filter_uses_the_same_detector():
    assert CPR_PATTERN is CPR_SHAPE
