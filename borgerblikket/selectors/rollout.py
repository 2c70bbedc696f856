"""National roll-out: where each of the 98 municipalities stands (seed 002, "Status på ØA21"),
now or in a past ISO week, in all of the mandatory numbers or in one area."""

import datetime as dt
import re
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from borgerblikket.models import (
    MandatoryKleNumber,
    RolloutCategory,
    RolloutSnapshot,
    RolloutStage,
    SheetRow,
)
from indexes.models import Case, Grant, GrantedBenefit, Municipality
from kle.models import Subject

# The four categories of KOMBIT's status map, in the map's order.
NO_DATA = RolloutCategory.NO_DATA
NOT_EXPOSED = RolloutCategory.NOT_EXPOSED
SOME_EXPOSED = RolloutCategory.SOME_EXPOSED
ALL_MANDATORY = RolloutCategory.ALL_MANDATORY
CATEGORIES = dict(RolloutCategory.choices)

STAGE_PREFIX = "etape:"
TREND_WEEKS = 12


class RolloutParameterError(ValueError):
    """A ``?area=`` or ``?week=`` the roll-out pages cannot use; the message says why."""


@dataclass(frozen=True)
class Area:
    """What the map is about: "" all (the mandatory numbers), a KLE main group or group
    ("15", "15.17": numbers under it), or a stage (``etape:<slug>``: its numbers).

    ``required`` are the numbers that make "Alle obligatoriske": the mandatory numbers inside
    a KLE area, a stage's own numbers. With none required, any row counts as all.
    """

    key: str
    label: str
    required: tuple[str, ...]
    prefix: str | None = None  # "15." / "15.17."
    numbers: tuple[str, ...] | None = None  # a stage's numbers

    def subjects(self) -> list[int] | None:
        """The ids of the KLE subjects inside the area (``None``: any). A list, not a
        subquery: the planner then probes the (municipality, kle_subject) index of the cases
        with the ids (docs/performance.md)."""
        if self.prefix is not None:
            found = Subject.objects.filter(number__startswith=self.prefix)
        elif self.numbers is not None:
            found = Subject.objects.filter(number__in=self.numbers)
        else:
            return None
        return list(found.values_list("pk", flat=True))


@dataclass(frozen=True)
class MunicipalityRollout:
    code: str
    name: str
    category: str
    exposed: int  # sheet rows (in the area)
    mandatory_exposed: int  # of the area's required numbers
    mandatory_total: int

    @property
    def category_label(self) -> str:
        return str(CATEGORIES[self.category])


def _mandatory() -> tuple[str, ...]:
    return tuple(MandatoryKleNumber.objects.values_list("kle_number", flat=True))


def rollout_area(*, key: str) -> Area:
    """The area a ``?area=`` names; raises ``RolloutParameterError`` with a reason."""
    key = (key or "").strip()
    if not key:
        return Area(key="", label=gettext("Alle obligatoriske KLE-numre"), required=_mandatory())
    if key.startswith(STAGE_PREFIX):
        stage = RolloutStage.objects.filter(slug=key.removeprefix(STAGE_PREFIX)).first()
        if stage is None:
            raise RolloutParameterError(gettext("Etapen findes ikke: %(key)s") % {"key": key[:60]})
        return Area(key=stage.area_key, label=stage.name, required=stage.numbers,
                    numbers=stage.numbers)  # fmt: skip
    if not re.fullmatch(r"[0-9]{2}(\.[0-9]{2})?", key):
        raise RolloutParameterError(
            gettext(
                "Området skal være en KLE-hovedgruppe (fx 15), en KLE-gruppe (fx 15.17) "
                "eller en etape (etape:<navn>)."
            )
        )
    subject = Subject.objects.filter(number=key).first()
    if subject is None:
        raise RolloutParameterError(gettext("KLE-nummeret findes ikke: %(key)s") % {"key": key})
    required = tuple(n for n in _mandatory() if n.startswith(f"{key}."))
    return Area(key=key, label=f"{subject.number} {subject.title}", required=required,
                prefix=f"{key}.")  # fmt: skip


def rollout_areas() -> list[Area]:
    """The areas the weekly history keeps: all, every stage, and the KLE main groups and
    groups of the mandatory and stage numbers and of every sheet row."""
    areas = [rollout_area(key="")]
    stages = list(RolloutStage.objects.all())
    areas += [rollout_area(key=stage.area_key) for stage in stages]
    numbers = set(_mandatory())
    for stage in stages:
        numbers.update(stage.numbers)
    groups = {n[:5] for n in numbers} | {n[:2] for n in numbers}
    groups |= {
        n[:2] for n in SheetRow.objects.values_list("kle_subject__number", flat=True).distinct()
    }
    existing = set(Subject.objects.filter(number__in=groups).values_list("number", flat=True))
    areas += [rollout_area(key=key) for key in sorted(existing)]
    return areas


def rollout_stages() -> list[RolloutStage]:
    return list(RolloutStage.objects.all())


def _count(queryset) -> Coalesce:
    counted = queryset.order_by().values("municipality").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def rollout_status(*, area: Area | None = None) -> list[MunicipalityRollout]:
    """Every municipality placed in one of the four categories, from the live index and
    sheets, in ``area`` (default: all, judged on the mandatory numbers).

    Sandbox installations' records do not count. No indexed (non-retracted) case or grant
    (in the area: a case or granted benefit on a number of the area) → "Ingen data"; data
    but no sheet row in the area → "ikke udstillet"; every required number on the sheet →
    "Alle obligatoriske"; otherwise "Enkelte". One query.
    """
    area = area or rollout_area(key="")
    subjects = area.subjects()
    required = area.required
    cases = Case.objects.filter(
        municipality=OuterRef("pk"), retracted_at__isnull=True, source_system__sandbox=False
    )
    rows = SheetRow.objects.filter(municipality=OuterRef("pk"))
    if subjects is None:
        grants = Exists(
            Grant.objects.filter(
                municipality=OuterRef("pk"),
                retracted_at__isnull=True,
                source_system__sandbox=False,
            )
        )
    else:
        cases = cases.filter(kle_subject__in=subjects)
        rows = rows.filter(kle_subject__in=subjects)
        grants = Exists(
            GrantedBenefit.objects.filter(
                grant__municipality=OuterRef("pk"),
                grant__retracted_at__isnull=True,
                grant__source_system__sandbox=False,
                kle_subject__in=subjects,
            )
        )
    municipalities = Municipality.objects.order_by("code").annotate(
        has_case=Exists(cases),
        has_grant=grants,
        exposed=_count(rows),
        mandatory_exposed=_count(rows.filter(kle_subject__number__in=required)),
    )
    mandatory_total = len(required)
    out = []
    for m in municipalities:
        if not (m.has_case or m.has_grant):
            category = NO_DATA
        elif m.exposed == 0:
            category = NOT_EXPOSED
        elif m.mandatory_exposed >= mandatory_total:
            category = ALL_MANDATORY
        else:
            category = SOME_EXPOSED
        out.append(
            MunicipalityRollout(
                code=m.code,
                name=m.name,
                category=category,
                exposed=m.exposed,
                mandatory_exposed=m.mandatory_exposed,
                mandatory_total=mandatory_total,
            )
        )
    return out


def rollout_summary(*, status: list[MunicipalityRollout]) -> dict[str, int]:
    """How many municipalities are in each category (all four, zeros included)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for item in status:
        counts[item.category] += 1
    return counts


# --- weeks ----------------------------------------------------------------------------------


def week_monday(day: dt.date) -> dt.date:
    """The Monday of ``day``'s ISO week."""
    return day - dt.timedelta(days=day.weekday())


def week_label(monday: dt.date) -> str:
    year, week, _day = monday.isocalendar()
    return f"{year}-W{week:02d}"


def rollout_week(*, text: str, today: dt.date | None = None) -> dt.date | None:
    """The Monday of the ISO week ``2026-W49`` names (``None`` for ""); raises
    ``RolloutParameterError`` for another form, a week that does not exist or a future one."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"([0-9]{4})-W([0-9]{2})", text)
    if match is None:
        raise RolloutParameterError(gettext("Ugen skal skrives som år-Wuge, fx 2026-W49."))
    year, week = int(match[1]), int(match[2])
    try:
        monday = dt.date.fromisocalendar(year, week, 1)
    except ValueError:
        raise RolloutParameterError(
            gettext("Uge %(week)d findes ikke i %(year)d.") % {"week": week, "year": year}
        ) from None
    if monday > week_monday(today or timezone.localdate()):
        raise RolloutParameterError(gettext("Ugen ligger i fremtiden."))
    return monday


def rollout_status_of_week(*, area: Area, week: dt.date) -> list[MunicipalityRollout]:
    """The snapshot of ``week`` (its Monday) in ``area``; empty when none was taken."""
    snapshots = (
        RolloutSnapshot.objects.filter(week=week, area=area.key)
        .select_related("municipality")
        .order_by("municipality_id")
    )
    return [
        MunicipalityRollout(
            code=s.municipality_id,
            name=s.municipality.name,
            category=s.category,
            exposed=s.exposed,
            mandatory_exposed=s.required_exposed,
            mandatory_total=s.required_total,
        )
        for s in snapshots
    ]


@dataclass(frozen=True)
class TrendWeek:
    week: dt.date
    label: str
    counts: dict[str, int]  # per category; empty when the week has no snapshot

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def ordered(self) -> list[int]:
        """The counts in the categories' order."""
        return [self.counts.get(key, 0) for key in CATEGORIES]


def rollout_trend(
    *, area: Area, until: dt.date, codes: frozenset[str] | None, weeks: int = TREND_WEEKS
) -> list[TrendWeek]:
    """Municipalities per category in each of the ``weeks`` ISO weeks up to ``until`` (a
    Monday), newest first, counting only ``codes`` (``None``: all). One query."""
    first = until - dt.timedelta(weeks=weeks - 1)
    snapshots = RolloutSnapshot.objects.filter(area=area.key, week__range=(first, until))
    if codes is not None:
        snapshots = snapshots.filter(municipality_id__in=codes)
    found: dict[dt.date, dict[str, int]] = {}
    for row in snapshots.values("week", "category").annotate(n=Count("pk")).order_by():
        found.setdefault(row["week"], dict.fromkeys(CATEGORIES, 0))[row["category"]] = row["n"]
    out = []
    for i in range(weeks):
        monday = until - dt.timedelta(weeks=i)
        out.append(TrendWeek(week=monday, label=week_label(monday), counts=found.get(monday, {})))
    return out


def rollout_visible(*, status: list[MunicipalityRollout], codes: frozenset[str] | None):
    """Only the municipalities ``codes`` names (``None``: all)."""
    return status if codes is None else [s for s in status if s.code in codes]
