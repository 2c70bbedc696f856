"""The admin's usage and satisfaction pages (issue 16): 12-month trends and CSV, each
municipality its own figures; and the nightly removal of old comments.

Who may open the pages at all: tests/security/test_roles_matrix.py; another
municipality's figures: tests/security/test_authz_matrix.py.
"""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from borgerblikket.models import (
    Membership,
    RetentionCount,
    RetentionRun,
    SatisfactionAnswer,
    UsageCount,
)
from borgerblikket.roles import OPERATOR_GROUP
from borgerblikket.services.retention import retention_run
from borgerblikket.services.usage import usage_count
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG = "461", "210"
Kind = UsageCount.PageKind


def _this_month() -> dt.date:
    return timezone.localdate().replace(day=1)


def _months_ago(n: int) -> dt.date:
    month = _this_month()
    for _ in range(n):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


@pytest.fixture
def figures():
    for code in (ODENSE, FREDENSBORG):
        f.municipality(code)
    now = timezone.now()
    for _ in range(3):
        usage_count(page_kind=Kind.CASES, shown=[(ODENSE, "32.24.04")], now=now)
    usage_count(page_kind=Kind.CASE, shown=[(ODENSE, "27.24.06")], on_behalf=True, now=now)
    usage_count(page_kind=Kind.LOGIN, shown=[(ODENSE, "32.24.04")], now=now)
    for _ in range(7):
        usage_count(page_kind=Kind.OVERVIEW, shown=[(FREDENSBORG, "02.00.10")], now=now)
    usage_count(page_kind=Kind.ACCESS_LOG, shown=[], now=now)
    # Last year's (13 months ago): outside the trend.
    UsageCount.objects.create(
        month=_months_ago(13), municipality_code=ODENSE, page_kind=Kind.CASES, count=99
    )
    UsageCount.objects.create(
        month=_months_ago(2), municipality_code=ODENSE, page_kind=Kind.CASES, count=5
    )
    month = _this_month()
    SatisfactionAnswer.objects.create(
        month=month, municipality_code=ODENSE, answer=5, comment="=HYPERLINK(1) fint"
    )
    SatisfactionAnswer.objects.create(month=month, municipality_code=ODENSE, answer=2)
    SatisfactionAnswer.objects.create(
        month=month, municipality_code=FREDENSBORG, answer=1, comment="Fredensborgs kommentar"
    )
    SatisfactionAnswer.objects.create(month=month, answer=4, comment="Fra to kommuner")


def _member(code: str, role: str, username: str) -> Client:
    user = f.municipal_admin(code, username=username)
    Membership.objects.filter(user=user).update(role=role)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator() -> Client:
    user = f.UserFactory(username="usage-operator")
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    client = Client()
    client.force_login(user)
    return client


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    assert "\r\n" in body and "\n" not in body.replace("\r\n", "")
    return [line.split(";") for line in body[1:].split("\r\n") if line]


def test_the_usage_trend_shows_12_months_of_the_own_municipality(figures):
    client = _member(ODENSE, "manager", "usage-manager")
    page = client.get(reverse("borgerblikket_admin:usage"))
    assert page.status_code == 200
    months = page.context["trend"]["months"]
    assert len(months) == 12 and months[-1].month == _this_month()
    assert months[0].month == _months_ago(11)
    now = months[-1]
    assert (now.views, now.views_on_behalf, now.logins) == (4, 1, 1)
    assert now.by_kind == {"cases": 3, "case": 1}
    assert now.by_group == {"32": 3, "27": 1}
    assert months[-3].views == 5
    assert sum(m.views for m in months) == 9  # not last year's 99, not Fredensborg's 7
    text = page.content.decode()
    assert 'id="usage-trend"' in text and "Fredensborg" not in text


def test_the_operator_sees_every_municipality_and_can_narrow_to_one(figures, operator):
    page = operator.get(reverse("borgerblikket_admin:usage"))
    assert page.context["trend"]["months"][-1].views == 4 + 7 + 1
    one = operator.get(reverse("borgerblikket_admin:usage") + f"?kommune={FREDENSBORG}")
    assert one.context["trend"]["months"][-1].views == 7


def test_another_municipality_in_the_filter_is_the_same_404_as_none(figures):
    client = _member(ODENSE, "admin", "usage-admin")
    url = reverse("borgerblikket_admin:usage")
    assert client.get(f"{url}?kommune={FREDENSBORG}").status_code == 404
    assert client.get(f"{url}?kommune=999").status_code == 404
    url = reverse("borgerblikket_admin:satisfaction")
    assert client.get(f"{url}?kommune={FREDENSBORG}").status_code == 404


def test_the_usage_csv_is_utf8_with_bom_semicolons_and_crlf(figures):
    client = _member(ODENSE, "lead", "usage-lead")
    response = client.get(reverse("borgerblikket_admin:usage") + "?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="brug-alle.csv"' in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["Måned", "Kommune", "KLE-hovedgruppe", "Side", "Set for en anden", "Antal"]
    month = f"{_this_month():%Y-%m}"
    assert [month, ODENSE, "32", "Sager", "nej", "3"] in rows
    assert [month, ODENSE, "27", "Sag", "ja", "1"] in rows
    assert {row[1] for row in rows[1:]} == {ODENSE}
    assert "99" not in {row[5] for row in rows[1:]}


def test_the_satisfaction_trend_and_comments_of_the_own_municipality(figures):
    client = _member(ODENSE, "admin", "satisfaction-admin")
    page = client.get(reverse("borgerblikket_admin:satisfaction"))
    assert page.status_code == 200
    now = page.context["trend"]["months"][-1]
    assert (now.total, now.comments) == (2, 1)
    assert now.average == 3.5 and now.satisfied_share == 50
    assert now.cells == [1, 0, 0, 1, 0]  # Meget tilfreds … Meget utilfreds
    text = page.content.decode()
    assert "=HYPERLINK(1) fint" in text
    assert "Fredensborgs kommentar" not in text and "Fra to kommuner" not in text


def test_the_operator_sees_answers_of_no_municipality_too(figures, operator):
    page = operator.get(reverse("borgerblikket_admin:satisfaction"))
    assert page.context["trend"]["months"][-1].total == 4
    assert "Fra to kommuner" in page.content.decode()


def test_the_satisfaction_csv_escapes_formulas(figures):
    client = _member(ODENSE, "admin", "satisfaction-csv")
    response = client.get(reverse("borgerblikket_admin:satisfaction") + "?format=csv")
    rows = _csv(response)
    assert rows[0] == ["Måned", "Kommune", "Svar (1-5)", "Svar", "Kommentar"]
    month = f"{_this_month():%Y-%m}"
    assert [month, ODENSE, "5", "Meget tilfreds", "'=HYPERLINK(1) fint"] in rows
    assert [month, ODENSE, "2", "Utilfreds", ""] in rows
    assert len(rows) == 3


def test_the_start_page_links_a_manager_to_usage(figures):
    client = _member(ODENSE, "manager", "usage-start")
    text = client.get(reverse("admin:index")).content.decode()
    assert f"{reverse('borgerblikket_admin:usage')}?kommune={ODENSE}" in text
    assert f"{reverse('borgerblikket_admin:satisfaction')}?kommune={ODENSE}" in text


def test_an_area_admin_is_refused(figures):
    client = _member(ODENSE, "area", "usage-area")
    for name in ("usage", "satisfaction"):
        response = client.get(reverse(f"borgerblikket_admin:{name}"))
        assert response.status_code == 403
        assert "Ingen adgang" in response.content.decode()


# --- comments leave after OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS ------------------------

NOW = dt.datetime(2026, 3, 14, 3, 0, tzinfo=dt.UTC)


def test_comments_go_when_their_whole_month_is_past_the_retention_answers_stay(settings):
    settings.OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS = 730  # cutoff 2024-03-14
    f.municipality(ODENSE)
    old = SatisfactionAnswer.objects.create(
        month=dt.date(2024, 2, 1), municipality_code=ODENSE, answer=4, comment="gammel"
    )
    older = SatisfactionAnswer.objects.create(
        month=dt.date(2023, 5, 1), answer=1, comment="endnu ældre"
    )
    # Part of March 2024 is younger than 730 days: the month keeps its comments.
    boundary = SatisfactionAnswer.objects.create(
        month=dt.date(2024, 3, 1), municipality_code=ODENSE, answer=5, comment="grænse"
    )
    new = SatisfactionAnswer.objects.create(month=dt.date(2026, 3, 1), answer=3, comment="ny")
    run = retention_run(trigger=RetentionRun.Trigger.COMMAND, now=NOW)
    for answer in (old, older, boundary, new):
        answer.refresh_from_db()
    assert (old.comment, older.comment) == ("", "")
    assert (boundary.comment, new.comment) == ("grænse", "ny")
    assert (old.answer, older.answer) == (4, 1)  # the answers stay for the trend
    counts = {(c.municipality_id, c.kind): c.count for c in run.counts.all()}
    assert counts == {
        (ODENSE, RetentionCount.Kind.COMMENT): 1,
        (None, RetentionCount.Kind.COMMENT): 1,
    }
    # A second run finds nothing more.
    again = retention_run(trigger=RetentionRun.Trigger.COMMAND, now=NOW)
    assert not again.counts.filter(kind=RetentionCount.Kind.COMMENT).exists()


def test_the_comment_retention_is_a_setting(settings):
    settings.OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS = 30  # cutoff 2026-02-12
    january = SatisfactionAnswer.objects.create(month=dt.date(2026, 1, 1), answer=4, comment="a")
    february = SatisfactionAnswer.objects.create(month=dt.date(2026, 2, 1), answer=4, comment="b")
    retention_run(trigger=RetentionRun.Trigger.COMMAND, now=NOW)
    january.refresh_from_db()
    february.refresh_from_db()
    assert (january.comment, february.comment) == ("", "b")


def test_the_pages_speak_english_by_the_language_switch(figures):
    client = _member(ODENSE, "manager", "usage-english")
    client.post(reverse("overblik:set_language"), {"language": "en", "next": "/admin/"})
    usage_page = client.get(reverse("borgerblikket_admin:usage")).content.decode()
    assert "Usage of Mit Overblik" in usage_page and "Page views per KLE main group" in usage_page
    page = client.get(reverse("borgerblikket_admin:satisfaction")).content.decode()
    assert "Satisfaction with Mit Overblik" in page and "Very satisfied" in page
    rows = _csv(client.get(reverse("borgerblikket_admin:usage") + "?format=csv"))
    assert rows[0] == [
        "Month",
        "Municipality",
        "KLE main group",
        "Page",
        "Seen for someone else",
        "Count",
    ]


@pytest.mark.django_db(transaction=True)
def test_concurrent_views_lose_no_count():
    """Pages of the same month and municipality, at once from several connections: the
    upsert's row locks serialise them, every view is counted."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connection

    def views(_n):
        try:
            for _ in range(25):
                usage_count(
                    page_kind=Kind.OVERVIEW, shown=[(ODENSE, "32.24.04"), (FREDENSBORG, "27.24")]
                )
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(views, range(4)))
    counts = {
        (r.municipality_code, r.main_group): r.count
        for r in UsageCount.objects.filter(page_kind=Kind.OVERVIEW)
    }
    assert counts == {
        (ODENSE, ""): 100,
        (ODENSE, "32"): 100,
        (FREDENSBORG, ""): 100,
        (FREDENSBORG, "27"): 100,
    }
