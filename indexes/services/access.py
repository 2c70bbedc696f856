"""Recording reads of a citizen's data by others (shown to the citizen).

Each row says who by role and organisation and what in words a citizen reads
(``DataAccess``); the reader's account and an internal note are kept for the
admin's audit only. ``records_citizens`` (indexes.selectors) gives the citizens
a set of records belongs to and what each is about.
"""

from collections.abc import Iterable

from config.cpr_shape import cpr_shapes_mask
from indexes.models import (
    Case,
    CaseDocument,
    Change,
    DataAccess,
    Document,
    Grant,
    GrantedBenefit,
    Municipality,
    Payment,
    SourceSystem,
)

# What kind of the citizen's records a model's rows are (``DataAccess.record_kind``).
RECORD_KINDS = {
    Case: DataAccess.RecordKind.CASE,
    Document: DataAccess.RecordKind.DOCUMENT,
    CaseDocument: DataAccess.RecordKind.DOCUMENT,
    Grant: DataAccess.RecordKind.GRANT,
    GrantedBenefit: DataAccess.RecordKind.BENEFIT,
    Payment: DataAccess.RecordKind.PAYMENT,
    Change: DataAccess.RecordKind.CHANGE,
}

# Several subjects of one read (a list showing several of the citizen's cases) are kept
# one a line; the citizen's page joins them ("A, B og C").
SUBJECT_SEPARATOR = "\n"


def data_access_record(
    *,
    cpr: str,
    actor_type: str,
    channel: str,
    record_kind: str = "",
    subject: str = "",
    detail: str = "",
    user=None,
    source_system: SourceSystem | None = None,
    municipality: Municipality | None = None,
    actor_cpr: str = "",
    actor_name: str = "",
    actor_relation: str = "",
    citizen_name: str = "",
) -> DataAccess:
    """Log that someone other than the citizen read the citizen's data.

    ``detail`` is the admin's internal note; a CPR-shaped number in it (a title) is
    stored masked. ``actor_*`` and ``citizen_name``: a citizen acting for this one."""
    return DataAccess.objects.create(
        actor_cpr=actor_cpr,
        actor_name=actor_name[:255],
        actor_relation=actor_relation[:40],
        citizen_name=citizen_name[:255],
        citizen_cpr=cpr,
        actor_type=actor_type,
        channel=channel,
        record_kind=record_kind,
        subject=subject[:255],
        detail=cpr_shapes_mask(detail)[:255],
        user=user,
        source_system=source_system,
        municipality=municipality,
    )


def data_access_record_many(
    *,
    reads: Iterable[tuple[str | None, str]],
    actor_type: str,
    channel: str,
    record_kind: str = "",
    detail: str = "",
    user=None,
    source_system: SourceSystem | None = None,
    municipality: Municipality | None = None,
) -> int:
    """Log one read per citizen in ``reads`` — ``(cpr, subject)`` pairs of the records a
    page showed — in one INSERT; a citizen's subjects are kept together.

    Empty CPR numbers are skipped; returns how many rows were written.
    """
    subjects: dict[str, list[str]] = {}
    for cpr, subject in reads:
        if cpr:
            seen = subjects.setdefault(cpr, [])
            if subject and subject not in seen:
                seen.append(subject)
    DataAccess.objects.bulk_create(
        DataAccess(
            citizen_cpr=cpr,
            actor_type=actor_type,
            channel=channel,
            record_kind=record_kind,
            subject=SUBJECT_SEPARATOR.join(sorted(about))[:255],
            detail=cpr_shapes_mask(detail)[:255],
            user=user,
            source_system=source_system,
            municipality=municipality,
        )
        for cpr, about in subjects.items()
    )
    return len(subjects)
