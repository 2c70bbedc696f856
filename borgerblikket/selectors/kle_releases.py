"""Reads of the KLE releases' impact on the sheets, scoped like the rest of the admin."""

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet

from borgerblikket.models import KleImpactItem, KleImpactReport
from borgerblikket.selectors.scoping import municipality_codes_for_user

# An item is open while its row is still on the sheet and nobody has handled it.
OPEN_ITEM = Q(items__resolution="", items__sheet_row__isnull=False)
MAX_NOTICES = 5


def kle_impact_items_open() -> QuerySet[KleImpactItem]:
    """Items whose row is still on the sheet and not handled (all municipalities)."""
    return KleImpactItem.objects.filter(resolution="", sheet_row__isnull=False)


def kle_impact_reports_for_user(*, user) -> QuerySet[KleImpactReport]:
    """The reports of the municipalities where the user's role may see them (operators:
    all), each annotated
    ``open_count`` and ``item_count``."""
    reports = KleImpactReport.objects.select_related("release__publication", "municipality")
    codes = municipality_codes_for_user(user=user, perm="borgerblikket.view_kleimpactreport")
    if codes is not None:
        reports = reports.filter(municipality_id__in=codes)
    return reports.annotate(
        item_count=Count("items", distinct=True),
        open_count=Count("items", filter=OPEN_ITEM, distinct=True),
    )


@dataclass
class KleReleaseNotices:
    """What the admin's start page and sheet list tell a municipal admin."""

    reports: list[KleImpactReport]  # the newest open ones, at most MAX_NOTICES
    more: int  # open reports beyond those


def kle_release_notices(*, user) -> KleReleaseNotices:
    """Open impact reports of the user's municipalities, newest release first."""
    open_reports = kle_impact_reports_for_user(user=user).filter(open_count__gt=0)
    reports = list(
        open_reports.order_by("-release__publication__published_on", "municipality_id")[
            : MAX_NOTICES + 1
        ]
    )
    more = 0
    if len(reports) > MAX_NOTICES:
        more = open_reports.count() - MAX_NOTICES
        reports = reports[:MAX_NOTICES]
    return KleReleaseNotices(reports=reports, more=more)
