"""Recording reads of a citizen's data by others (shown to the citizen)."""

from indexes.models import DataAccess, Municipality, SourceSystem

# The purpose a citizen reads under "Hvem har set mine data" when an admin list
# (a changelist, a data-quality drill-down or its CSV) showed their records.
ADMIN_LIST_PURPOSE = "Så dine oplysninger i en liste i administrationen"


def data_access_record(
    *,
    cpr: str,
    actor_type: str,
    actor_label: str,
    purpose: str,
    detail: str = "",
    user=None,
    source_system: SourceSystem | None = None,
    municipality: Municipality | None = None,
) -> DataAccess:
    """Log that someone other than the citizen read the citizen's data."""
    return DataAccess.objects.create(
        citizen_cpr=cpr,
        actor_type=actor_type,
        actor_label=actor_label,
        purpose=purpose,
        detail=detail,
        user=user,
        source_system=source_system,
        municipality=municipality,
    )


def data_access_record_many(
    *,
    cprs,
    actor_type: str,
    actor_label: str,
    purpose: str,
    detail: str = "",
    user=None,
    municipality: Municipality | None = None,
) -> int:
    """Log one read per citizen in ``cprs`` (a list page that showed several), in one INSERT.

    Empty and repeated numbers are skipped; returns how many rows were written.
    """
    citizens = list(dict.fromkeys(cpr for cpr in cprs if cpr))
    DataAccess.objects.bulk_create(
        DataAccess(
            citizen_cpr=cpr,
            actor_type=actor_type,
            actor_label=actor_label,
            purpose=purpose,
            detail=detail,
            user=user,
            municipality=municipality,
        )
        for cpr in citizens
    )
    return len(citizens)
