"""Reads of the KLE taxonomy for the other apps (indexes, borgerblikket)."""

from django.db.models import QuerySet

from kle.models import Facet, Subject


def subject_get(*, number: str) -> Subject | None:
    """The KLE item with this number (any level, active or not), or None."""
    return Subject.objects.filter(number=number).first()


def subjects_active(*, level: str | None = None) -> QuerySet[Subject]:
    """Items neither expired nor moved, optionally of one level (Subject.Level)."""
    queryset = Subject.objects.filter(expired_on__isnull=True, moved_on__isnull=True)
    return queryset.filter(level=level) if level else queryset


def facet_get(*, code: str) -> Facet | None:
    """The handlingsfacet with this code (e.g. "G01"), or None."""
    return Facet.objects.select_related("category").filter(code=code).first()
