"""The CPR check of the wire format, property-based: what is accepted, what not, what is said.

tests/indexes/test_services_validation.py has the examples (a dash, no modulus
11, a CVR); here every birth date and century digit is drawn, every mutation
is tried, and no message or API answer may repeat the number.
"""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from indexes.models import Case
from indexes.payloads import CprField, FieldProblem
from tests.indexes.api_support import (
    case_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

TODAY = dt.date.today()


def _century_digits(born: dt.date) -> str:
    """The 7th digits that give ``born``'s century (CPR-kontoret's table, DOMAIN.md §6)."""
    yy = born.year % 100
    if born.year < 1900:
        return "5678" if yy >= 58 else ""
    if born.year < 2000:
        return "0123" + ("49" if yy >= 37 else "")
    return ("49" if yy <= 36 else "") + ("5678" if yy <= 57 else "")


@st.composite
def valid_cprs(draw) -> tuple[str, str]:
    """(as written, as stored): a CPR number whose birth date is real and not in the future."""
    born = draw(st.dates(min_value=dt.date(1858, 1, 1), max_value=TODAY))
    digits = _century_digits(born)
    assume(digits)
    serial = draw(st.sampled_from(digits)) + draw(st.text("0123456789", min_size=3, max_size=3))
    stored = born.strftime("%d%m%y") + serial
    written = draw(st.sampled_from([stored, f"{stored[:6]}-{stored[6:]}", f" {stored} "]))
    return written, stored


def _rejected(value) -> FieldProblem:
    with pytest.raises(FieldProblem) as caught:
        CprField().check(value)
    return caught.value


def _assert_not_echoed(problem: FieldProblem, value: str):
    digits = "".join(c for c in value if c.isdigit())
    text = f"{problem.code} {problem}"
    if len(value.strip()) >= 6:  # shorter fragments ("0") occur in any message
        assert value.strip() not in text
    if len(digits) >= 6:
        assert digits[:6] not in text and digits not in text


@settings(max_examples=300, deadline=None, database=None)
@given(valid_cprs())
def test_every_real_birth_date_with_its_century_digit_is_accepted(cpr):
    written, stored = cpr
    assert CprField().check(written) == stored


@settings(max_examples=300, deadline=None, database=None)
@given(valid_cprs(), st.data())
def test_mutated_numbers_are_rejected_without_repeating_them(cpr, data):
    _, stored = cpr
    mutation = data.draw(
        st.sampled_from(
            ["day", "month", "future", "length", "letter", "separator", "century", "inner_space"]
        )
    )
    if mutation == "day":
        value = data.draw(st.sampled_from(["00", "32", "99"])) + stored[2:]
    elif mutation == "month":
        value = stored[:2] + data.draw(st.sampled_from(["00", "13", "99"])) + stored[4:]
    elif mutation == "future":
        born = TODAY + dt.timedelta(days=data.draw(st.integers(1, 3000)))
        digits = _century_digits(born)
        assume(digits)
        value = born.strftime("%d%m%y") + digits[0] + stored[7:]
    elif mutation == "length":
        cut = data.draw(st.integers(0, 9))
        value = data.draw(st.sampled_from([stored[:cut], stored + stored[: cut + 1]]))
    elif mutation == "letter":
        at = data.draw(st.integers(0, 9))
        value = stored[:at] + data.draw(st.sampled_from("xX-/ ٣١")) + stored[at + 1 :]
    elif mutation == "separator":
        value = (
            stored[:6] + data.draw(st.sampled_from(["/", ".", "--", " ", "\u2013"])) + stored[6:]
        )
    elif mutation == "century":
        # 29 February 1900 (7th digit 0-3: the 1900s) never was: 1900 is no leap year.
        value = "290200" + data.draw(st.sampled_from("0123")) + stored[7:]
    else:
        at = data.draw(st.integers(1, 9))
        value = stored[:at] + " " + stored[at:]
    assume(value.strip() != stored)
    problem = _rejected(value)
    assert problem.code in ("invalid_cpr", "blank"), problem.code
    _assert_not_echoed(problem, value)


@given(st.one_of(st.integers(), st.floats(), st.none(), st.lists(st.integers(), max_size=2)))
@settings(max_examples=50, deadline=None, database=None)
def test_a_cpr_that_is_not_a_string_is_a_type_problem(value):
    assert _rejected(value).code == "invalid_type"


@pytest.mark.django_db
@pytest.mark.usefixtures("kle")
@settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(valid_cprs(), st.sampled_from(["00", "13", "32"]))
def test_the_api_names_the_field_and_never_the_number(source_system_client, cpr, bad):
    _, stored = cpr
    wrong = stored[:2] + bad + stored[4:] if bad != "32" else bad + stored[2:]
    response = source_system_client.put(
        "/api/v1/cases/c-1",
        data=json.dumps(case_record("c-1", cpr=wrong)),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert [e["pointer"] for e in response.json()["errors"]] == ["/party/cpr"]
    assert wrong not in response.content.decode() and wrong[:6] not in response.content.decode()
    assert not Case.objects.exists()
