"""Rules of the case index that more than one writer needs."""

import datetime
from collections.abc import Sequence

from indexes.models import ProgressStatus


def case_status_derive(
    *, progress: Sequence[dict], at: datetime.datetime
) -> tuple[str, datetime.datetime]:
    """The case's status and time of its last status change, from its progress history.

    The one place ``Case.status`` and ``Case.last_changed_at`` come from. The
    status is that of the latest period that has begun at ``at`` (SF1470
    Fremdrift is a Tilstand with Virkning: a period dated in the future is not
    yet the case's status); when none has begun, the first period's. Each period
    is ``{"status", "from", "to"}`` with aware datetimes, oldest first.
    """
    if not progress:
        raise ValueError("a case has at least one progress period (Opstaaet)")
    current = progress[0]
    for period in progress:
        if period["from"] <= at:
            current = period
        else:
            break
    return ProgressStatus(current["status"]).value, current["from"]
