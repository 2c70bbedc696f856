"""The roll-out map's weekly history: one snapshot per ISO week, municipality and area."""

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from borgerblikket.models import RolloutSnapshot
from borgerblikket.selectors.rollout import rollout_areas, rollout_status, week_monday


@dataclass(frozen=True)
class SnapshotResult:
    week: dt.date  # the Monday
    areas: int
    rows: int


def rollout_snapshot_take(*, today: dt.date | None = None) -> SnapshotResult:
    """Write where every municipality stands now, in every tracked area, as the current ISO
    week's rows; the week's earlier rows are replaced (one transaction), so a past week
    keeps the state of its last run. Other weeks are never touched."""
    today = today or timezone.localdate()
    monday = week_monday(today)
    now = timezone.now()
    rows = []
    areas = rollout_areas()
    for area in areas:
        for item in rollout_status(area=area):
            rows.append(
                RolloutSnapshot(
                    week=monday,
                    municipality_id=item.code,
                    area=area.key,
                    category=item.category,
                    exposed=item.exposed,
                    required_exposed=item.mandatory_exposed,
                    required_total=item.mandatory_total,
                    taken_at=now,
                )
            )
    with transaction.atomic():
        RolloutSnapshot.objects.filter(week=monday).delete()
        RolloutSnapshot.objects.bulk_create(rows, batch_size=2000)
    return SnapshotResult(week=monday, areas=len(areas), rows=len(rows))
