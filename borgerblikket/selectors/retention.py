"""Retention: which closed cases, documents and benefits are due to leave the index.

A case is *due* on day ``today`` (Europe/Copenhagen) when all of these hold:

1. it is closed: ``status`` is Afsluttet and its last progress period (open-ended) is
   Afsluttet; the *closing day* is that period's start, as a Copenhagen date (seed 002:
   "kassationskoden først aktiveres, når sagen afsluttes");
2. its retention period has run: closing day + period <= today, where the period is
   the shorter of its KLE emne's deletion period (``kle.Subject.deletion_period``,
   SletningJaevnfoerPersondataloven) and the municipality's own
   ``Sheet.retention_days``; when only one is set, that one; when neither, never;
3. nothing that hangs on it is still running: every grant whose ``related_case`` is the
   case, and every granted benefit whose own or whose grant's ``related_case`` is the
   case, is Inaktiv (an Aktiv or Passiv pension granted on a case closed years ago keeps
   the case, or the citizen would lose the benefit with it).

What goes with a due case (``retention_due_counts``; ``borgerblikket.services.retention``
deletes exactly this): its progress and relations; each document whose every case is due
(a document shared with a case that stays, stays); the grants resolved to it with all
their benefits, payment plans and payments; the benefits resolved to it; and the change
history (``indexes.Change``) of every deleted case, document, grant and payment.

Everything here is one SQL statement per question (no per-row Python), so it scales with
the database, not with the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    Case as SqlCase,
)
from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Least, Substr, TruncDate, TruncMonth
from django.utils import timezone

from indexes.models import (
    BenefitStatus,
    Case,
    CaseDocument,
    CaseProgress,
    Change,
    Document,
    Grant,
    GrantedBenefit,
    Payment,
    ProgressStatus,
)
from kle.models import Subject

KLE_PERIOD = "kle_subject__deletion_period"
MUNICIPAL_DAYS = "municipality__borgerblikket_sheet__retention_days"

# The kinds counted, in the order a run deletes them (and the audit lists them).
KINDS = ("case", "document", "grant", "benefit", "payment", "change")


def _closed_at():
    """The start of the case's open-ended Afsluttet period (NULL: not closed)."""
    return Subquery(
        CaseProgress.objects.filter(
            case=OuterRef("pk"), status=ProgressStatus.CLOSED, valid_to__isnull=True
        )
        .order_by("-valid_from")
        .values("valid_from")[:1]
    )


def _period():
    """The shorter of the KLE deletion period and the municipality's setting (or the one set)."""
    municipal = ExpressionWrapper(
        F(MUNICIPAL_DAYS) * Value(dt.timedelta(days=1), output_field=DurationField()),
        output_field=DurationField(),
    )
    has_kle = Q(**{f"{KLE_PERIOD}__isnull": False})
    has_municipal = Q(**{f"{MUNICIPAL_DAYS}__isnull": False})
    return SqlCase(
        When(has_kle & has_municipal, then=Least(F(KLE_PERIOD), municipal)),
        When(has_kle, then=F(KLE_PERIOD)),
        When(has_municipal, then=municipal),
        default=Value(None, output_field=DurationField()),
        output_field=DurationField(),
    )


def _running(kind_qs: QuerySet) -> QuerySet:
    return kind_qs.exclude(status=BenefitStatus.INACTIVE)


def cases_with_retention(*, municipality_codes=None) -> QuerySet[Case]:
    """Closed cases annotated with ``retention_closed_on``, ``retention_period`` and
    ``retention_due_on`` (NULL when no period applies), and held back when a grant or
    benefit on them still runs. ``municipality_codes``: None for all."""
    tz = timezone.get_default_timezone()
    cases = Case.objects.filter(status=ProgressStatus.CLOSED)
    if municipality_codes is not None:
        cases = cases.filter(municipality_id__in=municipality_codes)
    running_grant = _running(Grant.objects.filter(related_case=OuterRef("pk")))
    running_benefit = _running(
        GrantedBenefit.objects.filter(
            Q(related_case=OuterRef("pk")) | Q(grant__related_case=OuterRef("pk"))
        )
    )
    return (
        cases.annotate(retention_closed_at=_closed_at())
        .filter(retention_closed_at__isnull=False)
        .annotate(
            retention_closed_on=TruncDate("retention_closed_at", tzinfo=tz),
            retention_period=_period(),
        )
        .annotate(
            retention_due_on=Cast(
                ExpressionWrapper(
                    F("retention_closed_on") + F("retention_period"),
                    output_field=DateTimeField(),
                ),
                output_field=DateField(),
            )
        )
        .exclude(Exists(running_grant))
        .exclude(Exists(running_benefit))
    )


def cases_due(*, today: dt.date, municipality_codes=None) -> QuerySet[Case]:
    """The cases a retention run on ``today`` deletes (the module's rule)."""
    return cases_with_retention(municipality_codes=municipality_codes).filter(
        retention_due_on__lte=today
    )


# --- what goes with them ---------------------------------------------------------------


def documents_going_with(case_ids) -> QuerySet[Document]:
    """Documents linked to one of ``case_ids`` (a list or a subquery) and to no other case."""
    return Document.objects.filter(
        Exists(CaseDocument.objects.filter(document=OuterRef("pk"), case_id__in=case_ids))
    ).exclude(
        Exists(CaseDocument.objects.filter(document=OuterRef("pk")).exclude(case_id__in=case_ids))
    )


def grants_going_with(case_ids) -> QuerySet[Grant]:
    return Grant.objects.filter(related_case_id__in=case_ids)


def benefits_going_with(case_ids) -> QuerySet[GrantedBenefit]:
    return GrantedBenefit.objects.filter(
        Q(related_case_id__in=case_ids) | Q(grant__related_case_id__in=case_ids)
    )


def payments_going_with(case_ids) -> QuerySet[Payment]:
    return Payment.objects.filter(benefit__in=benefits_going_with(case_ids).values("pk"))


def changes_of(*, kind: str, records: QuerySet) -> QuerySet[Change]:
    """The change history of ``records`` (a queryset of the kind's model)."""
    return Change.objects.filter(record_type=kind, record_id__in=records.values("pk"))


# --- the preview -----------------------------------------------------------------------


def retention_due_counts(*, today: dt.date, municipality_codes=None) -> dict[str, dict[str, int]]:
    """What a run on ``today`` deletes: ``{municipality code: {kind: count}}`` (kinds with
    none left out). Each record counts where it belongs (its own municipality; a benefit
    its grant's); a change where its record belongs."""
    due = cases_due(today=today, municipality_codes=municipality_codes).values("pk")
    querysets = {
        "case": Case.objects.filter(pk__in=due),
        "document": documents_going_with(due),
        "grant": grants_going_with(due),
        "benefit": benefits_going_with(due),
        "payment": payments_going_with(due),
    }
    paths = {"benefit": "grant__municipality_id"}
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for kind, qs in querysets.items():
        path = paths.get(kind, "municipality_id")
        for code, n in qs.order_by().values_list(path).annotate(n=Count("pk", distinct=True)):
            counts[code][kind] = n
    for kind in ("case", "document", "grant", "payment"):
        model = querysets[kind].model
        owner = Subquery(model.objects.filter(pk=OuterRef("record_id")).values("municipality")[:1])
        rows = (
            changes_of(kind=kind, records=querysets[kind])
            .annotate(owner=owner)
            .order_by()
            .values_list("owner")
            .annotate(n=Count("pk"))
        )
        for code, n in rows:
            counts[code]["change"] = counts[code].get("change", 0) + n
    return {code: dict(kinds) for code, kinds in sorted(counts.items())}


@dataclass(frozen=True)
class PreviewRow:
    """Cases of one municipality and KLE main group due in one month (``None``: due now)."""

    municipality: str
    area: str
    area_title: str
    month: dt.date | None
    cases: int


def retention_preview(
    *, today: dt.date, municipality_codes=None, months: int = 12
) -> list[PreviewRow]:
    """Cases due now (``month`` None) and due in each of the next ``months`` months, per
    municipality and KLE main group (hovedgruppe): one grouped query."""
    first_of_month = today.replace(day=1)
    end = _add_months(first_of_month, months + 1)
    rows = (
        cases_with_retention(municipality_codes=municipality_codes)
        .filter(retention_due_on__lt=end)
        .annotate(
            area=Substr("kle_subject__number", 1, 2),
            due_now=SqlCase(
                When(retention_due_on__lte=today, then=Value(True)),
                default=Value(False),
            ),
            due_month=TruncMonth("retention_due_on"),
        )
        .order_by()
        .values_list("municipality_id", "area", "due_now", "due_month")
        .annotate(n=Count("pk"))
    )
    grouped: dict[tuple, int] = defaultdict(int)
    for code, area, due_now, month, n in rows:
        grouped[(code, area, None if due_now else month)] += n
    titles = dict(
        Subject.objects.filter(
            level=Subject.Level.MAIN_GROUP, number__in={k[1] for k in grouped}
        ).values_list("number", "title")
    )
    return [
        PreviewRow(code, area, titles.get(area, ""), month, n)
        for (code, area, month), n in sorted(
            grouped.items(), key=lambda item: (item[0][0], item[0][1], item[0][2] or dt.date.min)
        )
    ]


def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    return day.replace(year=day.year + year, month=month + 1)
