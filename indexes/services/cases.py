"""Rules of the case index that more than one writer needs."""

import datetime
from collections.abc import Sequence

from indexes.models import ProgressStatus


def case_status_derive(
    *,
    progress: Sequence[dict],
    at: datetime.datetime,
    awaiting_party_since: datetime.datetime | None = None,
    wait_ended_at: datetime.datetime | None = None,
) -> tuple[str, datetime.datetime]:
    """The case's status and the time of its last change a citizen would notice.

    The one place ``Case.status`` and ``Case.last_changed_at`` come from. The
    status is that of the latest period that has begun at ``at`` (SF1470
    Fremdrift is a Tilstand with Virkning: a period dated in the future is not
    yet the case's status); when none has begun, the first period's. Each period
    is ``{"status", "from", "to"}`` with aware datetimes, oldest first.

    The last change is the latest of: that period's start, the moment the
    municipality began waiting for the citizen (``awaiting_party_since``: "Afventer
    dig" must bring the case forward and mark it new, issue 11.10), and the moment a
    wait ended (``wait_ended_at``: the source timestamp of the delivery that ended
    it, as the source does not date the end) — none of them later than ``at``.
    """
    if not progress:
        raise ValueError("a case has at least one progress period (Opstaaet)")
    current = progress[0]
    for period in progress:
        if period["from"] <= at:
            current = period
        else:
            break
    moments = [current["from"]]
    moments += [min(m, at) for m in (awaiting_party_since, wait_ended_at) if m is not None]
    return ProgressStatus(current["status"]).value, max(moments)
