"""KLE numbers and facet codes: the Python rules agree with the official XSD patterns."""

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from kle.models import Subject
from kle.numbers import FACET_CATEGORY_CODES, facet_code_parse, subject_number_parse
from kle.services.documents import XS, XSD_DIR
from kle.services.records import deletion_period_parse


def _xsd_pattern(element_name: str) -> re.Pattern:
    """The pattern of a global element of the shipped XSD (XSD patterns are anchored)."""
    schema = etree.parse(str(XSD_DIR / "KLE-Emneplan-version-2-0.xsd"))
    for element in schema.iter(f"{XS}element"):
        if element.get("name") == element_name:
            return re.compile(element.find(f".//{XS}pattern").get("value"))
    raise LookupError(element_name)


SUBJECT_PATTERNS = {
    "hovedgruppe": _xsd_pattern("HovedgruppeNr"),
    "gruppe": _xsd_pattern("GruppeNr"),
    "emne": _xsd_pattern("EmneNr"),
}
FACET_PATTERN = _xsd_pattern("HandlingsfacetNr")

two_digits = st.text(alphabet="0123456789", min_size=2, max_size=2)
numbers = st.lists(two_digits, min_size=1, max_size=3).map(".".join)
# Near misses: digits (ASCII and others), dots, letters, spaces.
noise = st.text(alphabet="0123456789.٣A Øa-", max_size=10)


@given(numbers)
def test_valid_numbers_parse_to_level_and_parent(number):
    parsed = subject_number_parse(number=number)

    parts = number.split(".")
    assert parsed.level == ["hovedgruppe", "gruppe", "emne"][len(parts) - 1]
    assert parsed.parent == (".".join(parts[:-1]) or None)
    assert SUBJECT_PATTERNS[parsed.level].fullmatch(number)


@given(st.one_of(noise, numbers, numbers.map(lambda n: n + "0"), numbers.map(" {}".format)))
def test_parsing_accepts_exactly_what_the_xsd_patterns_accept(text):
    accepted_by_xsd = any(p.fullmatch(text) for p in SUBJECT_PATTERNS.values())
    try:
        subject_number_parse(number=text)
    except ValueError as exc:
        assert not accepted_by_xsd
        assert repr(text) in str(exc)
    else:
        assert accepted_by_xsd


@given(
    st.one_of(
        st.tuples(st.sampled_from(FACET_CATEGORY_CODES), two_digits).map("".join),
        st.text(alphabet="APSØGKIXO0123456789٣", max_size=4),
    )
)
def test_facet_codes_agree_with_the_xsd_pattern(code):
    accepted_by_xsd = bool(FACET_PATTERN.fullmatch(code))
    try:
        category = facet_code_parse(code=code)
    except ValueError:
        assert not accepted_by_xsd
    else:
        assert accepted_by_xsd and category == code[0]


@pytest.mark.parametrize("number", ["2.00.10", "02.00.1A", "02.0010", "02.00.10.00", ""])
def test_malformed_numbers_are_rejected(number):
    with pytest.raises(ValueError, match="is not a KLE number"):
        subject_number_parse(number=number)


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("number", "level"), [("2.00.10", "emne"), ("02.00", "emne"), ("02", "gruppe")]
)
def test_the_database_refuses_a_number_that_does_not_fit_its_level(number, level):
    main = Subject.objects.create(number="02", level="hovedgruppe", title="Byggeri")

    with pytest.raises(IntegrityError), transaction.atomic():
        Subject.objects.create(number=number, level=level, title="x", parent=main)


@pytest.mark.parametrize(
    ("text", "days"),
    [("P1800D", 1800), ("P1825D", 1825), (" P120D ", 120), ("PT36H", 1.5), ("P1DT12H", 1.5)],
)
def test_deletion_periods_in_days_and_hours_become_timedeltas(text, days):
    assert deletion_period_parse(text) == dt.timedelta(days=days)


@pytest.mark.parametrize("text", ["P", "PT", "P1DT", "-P1D", "1800", "P1800", "P5Y", "P6M"])
def test_other_durations_are_refused(text):
    with pytest.raises(ValueError, match=re.escape(repr(text.strip()))):
        deletion_period_parse(text)
