"""National roll-out: where each of the 98 municipalities stands (seed 002, "Status på ØA21")."""

from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from borgerblikket.models import MandatoryKleNumber, SheetRow
from indexes.models import Case, Grant, Municipality

# The four categories of KOMBIT's status map, in the map's order.
NO_DATA = "no_data"
NOT_EXPOSED = "not_exposed"
SOME_EXPOSED = "some_exposed"
ALL_MANDATORY = "all_mandatory"
CATEGORIES = {
    NO_DATA: _("Ingen data i indekserne"),
    NOT_EXPOSED: _("Data i indekserne, men ikke udstillet"),
    SOME_EXPOSED: _("Enkelte KLE-numre udstillet"),
    ALL_MANDATORY: _("Alle obligatoriske KLE-numre udstillet"),
}


@dataclass(frozen=True)
class MunicipalityRollout:
    code: str
    name: str
    category: str
    exposed: int  # sheet rows
    mandatory_exposed: int
    mandatory_total: int

    @property
    def category_label(self) -> str:
        return str(CATEGORIES[self.category])


def _count(queryset) -> Coalesce:
    counted = queryset.order_by().values("municipality").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def rollout_status() -> list[MunicipalityRollout]:
    """Every municipality placed in one of the four categories, from the live index and sheets.

    Sandbox installations' records do not count. No indexed (non-retracted) case or grant → "Ingen data"; data but no sheet row →
    "ikke udstillet"; every mandatory KLE number on the sheet → "Alle obligatoriske";
    otherwise "Enkelte". One query.
    """
    mandatory = MandatoryKleNumber.objects.values("kle_number")
    mandatory_total = len(mandatory)
    rows = SheetRow.objects.filter(municipality=OuterRef("pk"))
    municipalities = Municipality.objects.order_by("code").annotate(
        has_case=Exists(
            Case.objects.filter(
                municipality=OuterRef("pk"),
                retracted_at__isnull=True,
                source_system__sandbox=False,
            )
        ),
        has_grant=Exists(
            Grant.objects.filter(
                municipality=OuterRef("pk"),
                retracted_at__isnull=True,
                source_system__sandbox=False,
            )
        ),
        exposed=_count(rows),
        mandatory_exposed=_count(rows.filter(kle_subject__number__in=mandatory)),
    )
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
