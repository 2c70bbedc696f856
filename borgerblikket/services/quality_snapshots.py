"""Data quality over time: a daily count of every check per municipality (issue 16).

``quality_snapshots_take`` counts each check of ``borgerblikket.selectors.quality`` for
every municipality with a source system, the way the quality page counts them (sandbox
installations left out), and stores the totals as that day's ``QualitySnapshot`` rows.
Taking the same day again replaces the day's rows, so a re-run after a fix is the day's
figure; other days are never touched.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from borgerblikket.models import QualitySnapshot
from borgerblikket.selectors import quality
from indexes.models import Municipality


def quality_snapshots_take(
    *, day: dt.date | None = None, municipalities=None
) -> list[QualitySnapshot]:
    """Count every check for ``municipalities`` (default: those with a source system) and
    store the counts as ``day``'s snapshot (default: today, Danish time), replacing any
    taken earlier that day for those municipalities. Returns the rows written."""
    day = day or timezone.localdate()
    if municipalities is None:
        municipalities = Municipality.objects.filter(source_systems__isnull=False).distinct()
    municipalities = list(municipalities)
    now = timezone.now()
    rows = [
        QualitySnapshot(
            taken_on=day,
            municipality=municipality,
            check_key=key,
            count=sum(quality.check_counts(municipality=municipality, key=key).values()),
            taken_at=now,
        )
        for municipality in municipalities
        for key in quality.CHECKS
    ]
    with transaction.atomic():
        QualitySnapshot.objects.filter(taken_on=day, municipality__in=municipalities).delete()
        QualitySnapshot.objects.bulk_create(rows)
    return rows
