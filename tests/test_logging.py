import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.logging import RedactCprFilter, redact_cpr


@pytest.mark.parametrize(
    "text",
    ["cpr 0101701234 rejected", "party 010170-1234", "urn:oio:cpr-nr:3112991234"],
)
def test_cpr_numbers_are_redacted(text):
    assert redact_cpr(text).count("[CPR]") == 1
    assert not any(ch.isdigit() for ch in redact_cpr(text).split("[CPR]")[0][-1:])


def test_longer_numbers_and_dates_are_left_alone():
    assert redact_cpr("case 12345678901 on 2024-01-31") == "case 12345678901 on 2024-01-31"


@given(
    day=st.integers(1, 28),
    month=st.integers(1, 12),
    year=st.integers(0, 99),
    seq=st.integers(0, 9999),
)
def test_any_cpr_shaped_number_is_redacted(day, month, year, seq):
    cpr = f"{day:02d}{month:02d}{year:02d}{seq:04d}"
    assert cpr not in redact_cpr(f"x {cpr} y")
    assert f"{cpr[:6]}-{cpr[6:]}" not in redact_cpr(f"x {cpr[:6]}-{cpr[6:]} y")


def test_filter_rewrites_formatted_message():
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "party %s", ("0101701234",), None)
    assert RedactCprFilter().filter(record) is True
    assert record.getMessage() == "party [CPR]"
