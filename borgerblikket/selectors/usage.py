"""Reads of usage and satisfaction (issue 16): what a login counts for, and the admin's
12-month trends and CSV rows. Only counters and anonymous answers; nothing per person."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from borgerblikket.models import SatisfactionAnswer, UsageCount
from borgerblikket.selectors.visibility import (
    benefits_visible_to_citizen,
    cases_visible_to_citizen,
    municipalities_for_citizen,
)
from kle.models import Subject

TREND_MONTHS = 12


def usage_shown_for_citizen(*, cpr) -> list[tuple[str, str]]:
    """(municipality code, KLE number) of each kind of record the citizen may see: what a
    login counts for (through the door, so a hidden case counts for nothing)."""
    cases = cases_visible_to_citizen(cpr=cpr).order_by().values_list("municipality", "kle_number")
    benefits = (
        benefits_visible_to_citizen(cpr=cpr)
        .order_by()
        .values_list("municipality_code", "kle_number")
    )
    return sorted(set(cases.distinct()) | set(benefits.distinct()))


def satisfaction_municipalities_for_citizen(*, cpr) -> list[str]:
    """The codes of the municipalities the citizen's data comes from."""
    return [code for code, _name in municipalities_for_citizen(cpr=cpr)]


def trend_months(*, today: dt.date | None = None, months: int = TREND_MONTHS) -> list[dt.date]:
    """The first days of the last ``months`` months, oldest first, this month last."""
    first = (today or timezone.localdate()).replace(day=1)
    result = []
    for _ in range(months):
        result.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return result[::-1]


def _scoped(queryset, codes: Iterable[str] | None, municipality: str | None):
    """Rows of the user's municipalities (``codes``; None: all, also rows of none), narrowed
    to one ``municipality`` when named."""
    if codes is not None:
        queryset = queryset.filter(municipality_code__in=list(codes))
    if municipality:
        queryset = queryset.filter(municipality_code=municipality)
    return queryset


@dataclass
class UsageMonth:
    month: dt.date
    logins: int = 0
    views: int = 0
    views_on_behalf: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_group: dict[str, int] = field(default_factory=dict)


def usage_trend(
    *, codes: Iterable[str] | None, municipality: str | None = None, today: dt.date | None = None
) -> dict:
    """The last 12 months of the counters the user may see: logins, page views (of them
    seen for someone else), views per page kind and per KLE main group."""
    months = trend_months(today=today)
    rows = (
        _scoped(UsageCount.objects.filter(month__gte=months[0]), codes, municipality)
        .values("month", "main_group", "page_kind", "on_behalf")
        .annotate(n=Sum("count"))
        .order_by()
    )
    by_month = {m: UsageMonth(month=m) for m in months}
    groups: set[str] = set()
    for row in rows:
        entry = by_month.get(row["month"])
        if entry is None:
            continue
        n = row["n"] or 0
        if row["main_group"]:
            groups.add(row["main_group"])
            if row["page_kind"] != UsageCount.PageKind.LOGIN:
                entry.by_group[row["main_group"]] = entry.by_group.get(row["main_group"], 0) + n
            continue
        if row["page_kind"] == UsageCount.PageKind.LOGIN:
            entry.logins += n
            continue
        entry.views += n
        if row["on_behalf"]:
            entry.views_on_behalf += n
        entry.by_kind[row["page_kind"]] = entry.by_kind.get(row["page_kind"], 0) + n
    kinds = [k for k in UsageCount.PageKind if k != UsageCount.PageKind.LOGIN]
    names = dict(Subject.objects.filter(number__in=groups).values_list("number", "title"))
    return {
        "months": [by_month[m] for m in months],
        "kinds": [(k.value, k.label) for k in kinds],
        # (main group, its KLE title), by number.
        "groups": [(group, names.get(group, "")) for group in sorted(groups)],
    }


def usage_rows(
    *, codes: Iterable[str] | None, municipality: str | None = None, today: dt.date | None = None
):
    """The counters of the last 12 months the user may see, for the CSV."""
    months = trend_months(today=today)
    return _scoped(UsageCount.objects.filter(month__gte=months[0]), codes, municipality).order_by(
        "month", "municipality_code", "main_group", "page_kind", "on_behalf"
    )


@dataclass
class SatisfactionMonth:
    month: dt.date
    counts: dict[int, int] = field(default_factory=dict)
    total: int = 0
    comments: int = 0

    @property
    def average(self) -> float | None:
        if not self.total:
            return None
        return sum(answer * n for answer, n in self.counts.items()) / self.total

    @property
    def satisfied_share(self) -> float | None:
        """The share answering "Tilfreds" or "Meget tilfreds" (percent)."""
        if not self.total:
            return None
        satisfied = sum(n for answer, n in self.counts.items() if answer >= 4)
        return 100 * satisfied / self.total


def satisfaction_trend(
    *, codes: Iterable[str] | None, municipality: str | None = None, today: dt.date | None = None
) -> dict:
    """The last 12 months of answers the user may see: per answer, total, average."""
    months = trend_months(today=today)
    rows = (
        _scoped(SatisfactionAnswer.objects.filter(month__gte=months[0]), codes, municipality)
        .values("month", "answer")
        .annotate(n=Count("id"), comments=Count("id", filter=~Q(comment="")))
        .order_by()
    )
    by_month = {m: SatisfactionMonth(month=m) for m in months}
    for row in rows:
        entry = by_month.get(row["month"])
        if entry is None:
            continue
        entry.counts[row["answer"]] = row["n"]
        entry.total += row["n"]
        entry.comments += row["comments"]
    answers = sorted(SatisfactionAnswer.Answer, reverse=True)
    for entry in by_month.values():
        entry.cells = [entry.counts.get(a.value, 0) for a in answers]
    return {
        "months": [by_month[m] for m in months],
        "answers": [(a.value, a.label) for a in answers],
    }


def satisfaction_rows(
    *, codes: Iterable[str] | None, municipality: str | None = None, today: dt.date | None = None
):
    """The answers of the last 12 months the user may see, newest first (CSV, comments)."""
    months = trend_months(today=today)
    return _scoped(
        SatisfactionAnswer.objects.filter(month__gte=months[0]), codes, municipality
    ).order_by("-month", "-id")
