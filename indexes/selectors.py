"""Reads of the indexes for source systems and operators (never for citizens).

Citizens' reads go through ``borgerblikket.selectors`` only. Every queryset
here is ordered by id, so it can be cursor-paginated, and loads what
``record_to_payload`` needs with a fixed number of queries per page.
"""

from django.db.models import Model, Prefetch, QuerySet

from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    CaseRelation,
    Change,
    Document,
    Grant,
    GrantedBenefit,
    Payment,
    SourceSystem,
)
from indexes.services import canonical
from indexes.services.errors import RecordNotFound

MODELS: dict[str, type[Model]] = {
    "case": Case,
    "document": Document,
    "grant": Grant,
    "payment": Payment,
}


def _check_kind(kind: str) -> type[Model]:
    try:
        return MODELS[kind]
    except KeyError:
        raise ValueError(f"unknown record kind {kind!r}; one of {', '.join(MODELS)}") from None


# Large KLE columns that no index page or wire form reads.
KLE_TEXTS = ("guidance_html", "legal_references")


def _without_kle_texts(*relations: str) -> list[str]:
    return [f"{relation}__{name}" for relation in relations for name in KLE_TEXTS]


def record_queryset(*, kind: str) -> QuerySet:
    """All records of a kind with what their wire form needs (joined or prefetched)."""
    model = _check_kind(kind)
    queryset = model.objects.select_related("municipality")
    if kind == "case":
        return (
            queryset.select_related("kle_subject", "facet")
            .defer(*_without_kle_texts("kle_subject", "facet"))
            .prefetch_related(
                Prefetch("progress", queryset=CaseProgress.objects.order_by("valid_from")),
                Prefetch(
                    "relations", queryset=CaseRelation.objects.only("case", "related_external_id")
                ),
            )
        )
    if kind == "document":
        return (
            queryset.select_related("kle_subject")
            .defer(*_without_kle_texts("kle_subject"))
            .prefetch_related(
                Prefetch(
                    "case_links",
                    queryset=CaseDocument.objects.select_related("case").only(
                        "document", "role", "case__external_id"
                    ),
                )
            )
        )
    if kind == "grant":
        return queryset.prefetch_related(
            Prefetch(
                "benefits",
                queryset=GrantedBenefit.objects.select_related("kle_subject", "payment_plan").defer(
                    *_without_kle_texts("kle_subject")
                ),
            )
        )
    return queryset.select_related("benefit__grant")


def records_list(
    *, source_system: SourceSystem, kind: str, include_retracted: bool = False
) -> QuerySet:
    """The system's own records of one kind, oldest first; retracted ones only on request."""
    queryset = record_queryset(kind=kind).filter(source_system=source_system)
    if not include_retracted:
        queryset = queryset.filter(retracted_at__isnull=True)
    return queryset.order_by("id")


def record_get(
    *, source_system: SourceSystem, kind: str, external_id: str, include_retracted: bool = False
) -> Model:
    """One of the system's own records; ``RecordNotFound`` for a missing, retracted
    (unless asked for) or another system's record, which all look the same."""
    queryset = records_list(
        source_system=source_system, kind=kind, include_retracted=include_retracted
    )
    instance = queryset.filter(external_id=external_id).first()
    if instance is None:
        raise RecordNotFound(f"no {kind} with this external id")
    return instance


def record_to_payload(*, kind: str, instance: Model) -> dict:
    """The record in the wire format it was delivered in (PUT it back: "unchanged")."""
    _check_kind(kind)
    if kind == "case":
        return canonical.case_from_instance(
            instance,
            progress=[(p.status, p.valid_from, p.valid_to) for p in instance.progress.all()],
            related_external_ids=[r.related_external_id for r in instance.relations.all()],
        )
    if kind == "document":
        return canonical.document_from_instance(
            instance,
            links=[(link.case.external_id, link.role) for link in instance.case_links.all()],
        )
    if kind == "grant":
        return canonical.grant_from_instance(
            instance,
            benefits=[(b, getattr(b, "payment_plan", None)) for b in instance.benefits.all()],
        )
    return canonical.payment_from_instance(
        instance,
        grant_external_id=instance.benefit.grant.external_id,
        benefit_external_id=instance.benefit.external_id,
    )


def record_changes(*, kind: str, instance: Model) -> QuerySet:
    """The change history of one record, oldest first."""
    _check_kind(kind)
    return Change.objects.filter(record_type=kind, record_id=instance.pk).order_by("version", "id")


def records_for_admin(*, kind: str, municipality=None) -> QuerySet:
    """Records of a kind for the admin's lists, newest change first; one municipality's
    only when ``municipality`` is given (the Borgerblikket admin scopes with it)."""
    model = _check_kind(kind)
    queryset = model.objects.select_related("municipality", "source_system")
    if kind == "case":
        queryset = queryset.select_related("kle_subject").defer(*_without_kle_texts("kle_subject"))
    if kind == "payment":
        queryset = queryset.select_related("benefit")
    if municipality is not None:
        queryset = queryset.filter(municipality=municipality)
    return queryset.order_by("-received_at", "-id")


# --- whose data a set of records is (the access log, ``DataAccess``) ---------------------


def _about(title: str | None, *hidden: bool | None) -> str:
    """What a record is about as its citizen may be told: its KLE area, or nothing when
    the case it belongs to is hidden from them ("Visning undtaget for borger")."""
    return "" if any(hidden) or not title else title


def _change_citizens(ids) -> list[tuple[str, str]]:
    records: dict[str, set[int]] = {}
    for kind, record_id in Change.objects.filter(pk__in=ids).values_list(
        "record_type", "record_id"
    ):
        records.setdefault(kind, set()).add(record_id)
    reads: list[tuple[str, str]] = []
    for kind, model in (("case", Case), ("grant", Grant), ("payment", Payment)):
        if records.get(kind):
            cprs = model._base_manager.filter(pk__in=records[kind]).values_list(
                "party_cpr", flat=True
            )
            reads += [(cpr, "") for cpr in cprs]
    if records.get("document"):
        cprs = CaseDocument.objects.filter(document__in=records["document"]).values_list(
            "case__party_cpr", flat=True
        )
        reads += [(cpr, "") for cpr in cprs]
    return reads


def records_citizens(*, model: type[Model], ids) -> list[tuple[str | None, str]]:
    """``(CPR, subject)`` of each citizen whose data the records ``ids`` of ``model`` are,
    for the access log: the subject is the KLE area a citizen is told the read was about
    (never a source system's own title), one query per call. ``ids`` may be a list or
    a queryset of primary keys (then it is a subquery)."""
    if model is Case:
        rows = Case.objects.filter(pk__in=ids).values_list(
            "party_cpr", "kle_subject__title", "hidden_from_citizen"
        )
    elif model is Document:
        rows = CaseDocument.objects.filter(document__in=ids).values_list(
            "case__party_cpr", "case__kle_subject__title", "case__hidden_from_citizen"
        )
    elif model is CaseDocument:
        rows = CaseDocument.objects.filter(pk__in=ids).values_list(
            "case__party_cpr", "case__kle_subject__title", "case__hidden_from_citizen"
        )
    elif model is Grant:
        rows = Grant.objects.filter(pk__in=ids).values_list(
            "party_cpr", "related_case__kle_subject__title", "related_case__hidden_from_citizen"
        )
    elif model is GrantedBenefit:
        rows = GrantedBenefit.objects.filter(pk__in=ids).values_list(
            "grant__party_cpr",
            "kle_subject__title",
            "related_case__hidden_from_citizen",
            "grant__related_case__hidden_from_citizen",
        )
    elif model is Payment:
        rows = Payment.objects.filter(pk__in=ids).values_list(
            "party_cpr",
            "benefit__kle_subject__title",
            "benefit__related_case__hidden_from_citizen",
            "benefit__grant__related_case__hidden_from_citizen",
        )
    elif model is Change:
        return _change_citizens(ids)
    else:
        raise ValueError(f"{model.__name__} is not a record about a citizen")
    return [(cpr, _about(title, *hidden)) for cpr, title, *hidden in rows]
