"""Usage counters and satisfaction answers (issue 16): aggregates only, nothing per person.

Runs on PostgreSQL and, through tests/test_sqlite.py, on SQLite (``make run``'s default):
the counter's INSERT … ON CONFLICT DO UPDATE must work on both.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from borgerblikket.models import SatisfactionAnswer, UsageCount
from borgerblikket.services.usage import (
    satisfaction_answer_record,
    usage_count,
    usage_keys,
)

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 14, 12, 0, tzinfo=dt.UTC)
MARCH = dt.date(2026, 3, 1)
KIM_CPR = "0101701234"


def _rows():
    return {
        (r.month, r.municipality_code, r.main_group, r.page_kind, r.on_behalf): r.count
        for r in UsageCount.objects.all()
    }


def test_a_page_counts_once_per_municipality_and_once_per_main_group_it_shows():
    shown = [
        ("461", "32.24.04"),
        ("461", "32.24.04"),  # a second case of the same area: still one view
        ("461", "27.24.06"),
        ("101", "27.24.06"),
        ("101", ""),  # a record without a KLE number counts for the municipality only
    ]
    usage_count(page_kind=UsageCount.PageKind.CASES, shown=shown, now=NOW)
    assert _rows() == {
        (MARCH, "101", "", "cases", False): 1,
        (MARCH, "101", "27", "cases", False): 1,
        (MARCH, "461", "", "cases", False): 1,
        (MARCH, "461", "27", "cases", False): 1,
        (MARCH, "461", "32", "cases", False): 1,
    }


def test_views_add_up_in_one_statement_each():
    shown = [("461", "32.24.04"), ("101", "27.24.06")]
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            usage_count(page_kind=UsageCount.PageKind.OVERVIEW, shown=shown, now=NOW)
        assert len(queries) == 1
    usage_count(page_kind=UsageCount.PageKind.OVERVIEW, shown=shown, on_behalf=True, now=NOW)
    rows = _rows()
    assert rows[(MARCH, "461", "", "overview", False)] == 3
    assert rows[(MARCH, "101", "27", "overview", False)] == 3
    assert rows[(MARCH, "461", "", "overview", True)] == 1
    # Next month starts again.
    usage_count(
        page_kind=UsageCount.PageKind.OVERVIEW,
        shown=shown,
        now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC),
    )
    assert _rows()[(dt.date(2026, 4, 1), "461", "", "overview", False)] == 1


def test_a_page_without_a_municipality_s_data_counts_for_none():
    assert usage_keys(shown=[]) == [("", "")]
    usage_count(page_kind=UsageCount.PageKind.ACCESS_LOG, shown=[], now=NOW)
    assert _rows() == {(MARCH, "", "", "access_log", False): 1}


def test_an_unknown_page_kind_is_refused():
    with pytest.raises(ValueError):
        usage_count(page_kind="citizen-0101701234", shown=[], now=NOW)
    assert not UsageCount.objects.exists()


IDENTITY_WORDS = ("cpr", "citizen", "user", "session", "person", "ip", "name", "actor")


@pytest.mark.parametrize("model", [UsageCount, SatisfactionAnswer])
def test_the_models_have_no_field_that_could_name_a_citizen(model):
    fields = {f.name for f in model._meta.get_fields()}
    expected = {
        UsageCount: {
            "id",
            "month",
            "municipality_code",
            "main_group",
            "page_kind",
            "on_behalf",
            "count",
        },
        SatisfactionAnswer: {"id", "month", "municipality_code", "answer", "comment"},
    }[model]
    assert fields == expected
    words = {word for name in fields for word in name.split("_")}
    assert not words & set(IDENTITY_WORDS)
    # No exact time either: a month cannot be matched against a login log.
    assert not any(f.get_internal_type() == "DateTimeField" for f in model._meta.concrete_fields)


def test_an_answer_keeps_the_month_and_the_municipality_only_when_there_was_exactly_one():
    one = satisfaction_answer_record(answer=5, municipality_codes=["461"], now=NOW)
    two = satisfaction_answer_record(answer=2, municipality_codes=["461", "101"], now=NOW)
    none = satisfaction_answer_record(answer=3, municipality_codes=[], now=NOW)
    assert (one.month, one.municipality_code) == (MARCH, "461")
    assert two.municipality_code == "" and none.municipality_code == ""


@pytest.mark.parametrize(
    "written",
    ["0101701234", "010170-1234", "010170 1234", "Mit cpr er 010170-1234, ring til mig"],
)
def test_a_cpr_number_in_a_comment_is_masked_whole(written):
    answer = satisfaction_answer_record(answer=4, comment=written, now=NOW)
    stored = SatisfactionAnswer.objects.get(pk=answer.pk).comment
    assert "[CPR-nr.]" in stored
    assert "1234" not in stored and "010170" not in stored


def test_a_comment_is_at_most_500_characters_and_the_answer_on_the_scale():
    satisfaction_answer_record(answer=1, comment="x" * 500, now=NOW)
    with pytest.raises(ValueError):
        satisfaction_answer_record(answer=1, comment="x" * 501, now=NOW)
    with pytest.raises(ValidationError):
        satisfaction_answer_record(answer=6, now=NOW)
    assert SatisfactionAnswer.objects.count() == 1


def test_no_row_holds_the_citizen_s_number():
    usage_count(page_kind=UsageCount.PageKind.CASE, shown=[("461", "32.24.04")], now=NOW)
    satisfaction_answer_record(answer=4, comment=f"jeg er {KIM_CPR}", now=NOW)
    values = [str(v) for row in UsageCount.objects.values_list() for v in row]
    values += [str(v) for row in SatisfactionAnswer.objects.values_list() for v in row]
    assert not any(KIM_CPR in v or "010170" in v for v in values)
