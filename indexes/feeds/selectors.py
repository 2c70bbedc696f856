"""Reads of scheduled ingestion for operators and the data-quality report.

Some source-system faults never reach the index — a record on an unknown or
expired KLE number, or with a multi-line title, is rejected; a repeated
delivery is ``unchanged``; an overtaken update is ``stale`` — so the only trace
is the poll log. These selectors summarise it per source system (see
docs/sources.md, "Faults and where they surface").
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Sum

from indexes.models import FeedPoll, FeedRejection, Municipality


@dataclass
class DeliveryQuality:
    """What one source system's feed delivered, summed over its polls."""

    source_system_id: int
    received: int = 0
    applied: int = 0  # created + updated + retracted
    unchanged: int = 0  # e.g. the same delivery twice
    stale: int = 0  # older than what the index holds: updates out of order
    rejected: int = 0
    rejected_by_code: dict[str, int] = field(default_factory=dict)


def feed_delivery_quality(*, municipality: Municipality) -> dict[int, DeliveryQuality]:
    """Per source system of ``municipality`` (by id): its feed's delivery counts and reasons.

    Sandbox installations are left out (their conformance report shows them).
    """
    sums = (
        FeedPoll.objects.filter(
            feed__source_system__municipality=municipality, feed__source_system__sandbox=False
        )
        .values("feed__source_system_id")
        .annotate(
            received=Sum("received"),
            created=Sum("created"),
            updated=Sum("updated"),
            retracted=Sum("retracted"),
            unchanged=Sum("unchanged"),
            stale=Sum("stale"),
            rejected=Sum("rejected"),
        )
    )
    result: dict[int, DeliveryQuality] = {}
    for row in sums:
        system = row["feed__source_system_id"]
        result[system] = DeliveryQuality(
            source_system_id=system,
            received=row["received"] or 0,
            applied=(row["created"] or 0) + (row["updated"] or 0) + (row["retracted"] or 0),
            unchanged=row["unchanged"] or 0,
            stale=row["stale"] or 0,
            rejected=row["rejected"] or 0,
        )
    codes = (
        FeedRejection.objects.filter(
            feed__source_system__municipality=municipality, feed__source_system__sandbox=False
        )
        .values("feed__source_system_id", "code")
        .annotate(count=Count("id"))
    )
    by_code: dict[int, dict[str, int]] = defaultdict(dict)
    for row in codes:
        by_code[row["feed__source_system_id"]][row["code"]] = row["count"]
    for system, counts in by_code.items():
        result.setdefault(
            system, DeliveryQuality(source_system_id=system)
        ).rejected_by_code = counts
    return result


def feed_rejections(*, municipality: Municipality, code: str | None = None):
    """The rejected deliveries of ``municipality``'s feeds, newest first (drill-down)."""
    rejections = FeedRejection.objects.filter(
        feed__source_system__municipality=municipality, feed__source_system__sandbox=False
    ).select_related("feed__source_system")
    if code:
        rejections = rejections.filter(code=code)
    return rejections.order_by("-received_at", "pk")
