"""Recording reads of a citizen's data by others (shown to the citizen)."""

from indexes.models import DataAccess, Municipality, SourceSystem


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
