"""What each municipality shows citizens, for everyone to read ("Det viser kommunen").

Seed 004: a citizen must be able to trust that absence means absence, so the
portal says, for every municipality, which areas its sheet shows, from which
date, from which source systems (a row's Fagsystem filter) and with which
switches (issue 11.11). Public configuration, no citizen's data: the areas come
through the door's ``exposed_areas_for_municipality``, so they read exactly as
the citizen's own pages do.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from borgerblikket.models import Sheet, SheetRow
from borgerblikket.selectors.visibility import ExposedArea, exposed_areas_for_municipality
from indexes.models import Municipality


@dataclass(frozen=True)
class MunicipalityExposure:
    code: str
    name: str
    areas: list[ExposedArea] = field(default_factory=list)
    shows_document_titles: bool = False
    shows_active_cases_before_show_from: bool = False

    @property
    def first_show_from(self) -> dt.date | None:
        return min((area.show_from for area in self.areas), default=None)


@dataclass(frozen=True)
class MunicipalitySummary:
    code: str
    name: str
    area_count: int


def municipality_exposure(*, municipality: str) -> MunicipalityExposure | None:
    """What one municipality shows, or ``None`` when there is no such municipality."""
    place = Municipality.objects.filter(pk=municipality).first()
    if place is None:
        return None
    sheet = Sheet.objects.filter(municipality=place).first()
    return MunicipalityExposure(
        code=place.code,
        name=place.name,
        areas=exposed_areas_for_municipality(municipality=place.code),
        shows_document_titles=bool(sheet and sheet.show_document_titles),
        shows_active_cases_before_show_from=bool(
            sheet and sheet.show_active_cases_before_show_from
        ),
    )


def municipalities_with_exposure(*, query: str = "") -> list[MunicipalitySummary]:
    """All municipalities (or those whose name or code contains ``query``), by name, each
    with how many areas it shows (one query)."""
    rows = Municipality.objects.all()
    query = (query or "").strip()[:50]
    if query:
        rows = rows.filter(Q(name__icontains=query) | Q(code=query))
    counts = (
        SheetRow.objects.filter(municipality=OuterRef("pk"))
        .order_by()
        .values("municipality")
        .annotate(n=Count("pk"))
        .values("n")
    )
    rows = rows.annotate(area_count=Coalesce(Subquery(counts), 0)).order_by("name")
    return [
        MunicipalitySummary(code=row.code, name=row.name, area_count=row.area_count) for row in rows
    ]
