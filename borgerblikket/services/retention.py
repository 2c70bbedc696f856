"""Retention: deleting what is due from the indexes, and the citizens' old access log.

``retention_run`` deletes, for real (``DELETE``; nothing is hidden or kept as a tombstone),
the cases ``borgerblikket.selectors.retention.cases_due`` names and everything that goes
with them (that module's docstring gives the rule), then the access-log rows older than
``OVERBLIK_ACCESS_LOG_RETENTION_DAYS``. It works in bounded batches of cases, each in a
transaction of its own with the cases locked (``FOR UPDATE SKIP LOCKED``: a case a
delivery is writing right now is left for the next run), so a run over millions of rows
holds no long transaction and never loads more than one batch.

Cross-system references (docs/borgerblikket.md, "Retention"): grants and benefits
resolved to a deleted case go with it; a relation from a case that stays to a deleted
one becomes pending again (``related`` NULL, the external id kept, as if the case had
not been delivered yet); references that name a deleted case's number without being
resolved to it are resolved again (``indexes.services.references.cases_changed``), as
after a retraction — a number held by two systems may now name one case.

Each run leaves a ``RetentionRun`` with ``RetentionCount`` rows: how many of each kind
per municipality. Never contents, never ids.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from borgerblikket.models import RetentionCount, RetentionRun
from borgerblikket.selectors.retention import (
    benefits_going_with,
    cases_due,
    documents_going_with,
    grants_going_with,
)
from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    CaseRelation,
    Change,
    DataAccess,
    Document,
    Grant,
    GrantedBenefit,
    Payment,
    PaymentPlan,
)
from indexes.services import references

logger = logging.getLogger(__name__)

# Ids per DELETE statement (SQLite allows 32,766 parameters; PostgreSQL 65,535).
DELETE_CHUNK = 5000


def _batch_size(batch_size: int | None) -> int:
    size = batch_size or settings.OVERBLIK_RETENTION_BATCH_SIZE
    if size < 1:
        raise ValueError("batch_size must be at least 1")
    return size


def _count_changes(*, kind: str, owners: dict[int, str], counts: Counter) -> None:
    """Count and delete the history rows of ``owners`` (record id → municipality)."""
    if not owners:
        return
    rows = (
        Change.objects.filter(record_type=kind, record_id__in=list(owners))
        .order_by()
        .values_list("record_id")
        .annotate(n=Count("pk"))
    )
    for record_id, n in rows:
        counts[(owners[record_id], "change")] += n
    Change.objects.filter(record_type=kind, record_id__in=list(owners)).delete()


def _delete_where(model, column: str, ids: list) -> None:
    """``DELETE FROM <table> WHERE <column> IN (ids)``, in chunks: one statement per chunk,
    no model instances (Django's ``delete()`` loads every row to collect cascades; the
    callers delete the dependants themselves, leaves first)."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(column)
    with connection.cursor() as cursor:
        for start in range(0, len(ids), DELETE_CHUNK):
            chunk = ids[start : start + DELETE_CHUNK]
            placeholders = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM {table} WHERE {column} IN ({placeholders})", chunk)  # noqa: S608 - names from the models, values as parameters


def _delete_batch(*, cases: list[tuple], counts: Counter) -> None:
    """Delete ``cases`` ((id, system, municipality, external id, number)) and what goes
    with them, leaves first; one statement per table."""
    case_ids = [row[0] for row in cases]
    documents = dict(documents_going_with(case_ids).values_list("pk", "municipality_id"))
    grants = dict(grants_going_with(case_ids).values_list("pk", "municipality_id"))
    benefits = dict(benefits_going_with(case_ids).values_list("pk", "grant__municipality_id"))
    payments = dict(
        Payment.objects.filter(benefit_id__in=list(benefits)).values_list("pk", "municipality_id")
    )
    for kind, owners in (
        ("case", {row[0]: row[2] for row in cases}),
        ("document", documents),
        ("grant", grants),
        ("payment", payments),
    ):
        _count_changes(kind=kind, owners=owners, counts=counts)
    for kind, owners in (
        ("case", {row[0]: row[2] for row in cases}),
        ("document", documents),
        ("grant", grants),
        ("benefit", benefits),
        ("payment", payments),
    ):
        for code in owners.values():
            counts[(code, kind)] += 1
    _delete_where(Payment, "id", list(payments))
    _delete_where(PaymentPlan, "benefit_id", list(benefits))
    _delete_where(GrantedBenefit, "id", list(benefits))
    _delete_where(Grant, "id", list(grants))
    _delete_where(CaseDocument, "document_id", list(documents))
    _delete_where(Document, "id", list(documents))
    # A case that stays keeps its relation to a deleted one as pending (by external id).
    CaseRelation.objects.filter(related_id__in=case_ids).exclude(case_id__in=case_ids).update(
        related=None
    )
    _delete_where(CaseRelation, "case_id", case_ids)
    _delete_where(CaseDocument, "case_id", case_ids)
    _delete_where(CaseProgress, "case_id", case_ids)
    _delete_where(Case, "id", case_ids)
    # What named a deleted case by number (unresolved: ambiguous or another's) resolves anew.
    references.cases_changed(cases)


def _delete_due_cases(*, today: dt.date, size: int, counts: Counter, run: RetentionRun) -> None:
    # Keyset pagination: each batch starts after the last one's highest id, so a run reads
    # every closed case once, not once per batch (cases skipped as locked wait for the next
    # run, and so do cases that fall due while it runs).
    after = 0
    while True:
        with transaction.atomic():
            cases = list(
                cases_due(today=today)
                .filter(pk__gt=after)
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list(
                    "pk", "source_system_id", "municipality_id", "external_id", "case_number"
                )[:size]
            )
            if not cases:
                return
            after = cases[-1][0]
            batch_counts: Counter = Counter()
            _delete_batch(cases=cases, counts=batch_counts)
        counts.update(batch_counts)  # only what was committed
        run.batches += 1
        RetentionRun.objects.filter(pk=run.pk).update(batches=run.batches)


def access_log_cutoff(*, now: dt.datetime) -> dt.datetime:
    """Access-log rows from before this moment are deleted."""
    return now - dt.timedelta(days=settings.OVERBLIK_ACCESS_LOG_RETENTION_DAYS)


def _delete_access_log(*, cutoff: dt.datetime, size: int, counts: Counter) -> None:
    while True:
        with transaction.atomic():
            rows = list(
                DataAccess.objects.filter(accessed_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", "municipality_id")[:size]
            )
            if not rows:
                return
            DataAccess.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
        for _pk, code in rows:
            counts[(code, RetentionCount.Kind.ACCESS_LOG)] += 1


def retention_run(
    *,
    trigger: str,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
) -> RetentionRun:
    """Delete what is due on ``now``'s day (default: now) and the access log older than its
    retention; return the run with its counts (also when it failed: then re-raised)."""
    size = _batch_size(batch_size)
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = access_log_cutoff(now=now)
    run = RetentionRun.objects.create(
        started_at=timezone.now(), today=today, trigger=trigger, access_log_cutoff=cutoff
    )
    counts: Counter = Counter()
    try:
        _delete_due_cases(today=today, size=size, counts=counts, run=run)
        _delete_access_log(cutoff=cutoff, size=size, counts=counts)
    except Exception as exc:
        run.status = RetentionRun.Status.FAILED
        run.error = type(exc).__name__
        raise
    else:
        run.status = RetentionRun.Status.FINISHED
    finally:
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "batches"])
        RetentionCount.objects.bulk_create(
            RetentionCount(run=run, municipality_id=code, kind=kind, count=n)
            for (code, kind), n in sorted(counts.items(), key=lambda i: (i[0][0] or "", i[0][1]))
        )
        logger.info(
            "Retention run %s: %s deleted in %d batches.",
            run.pk,
            ", ".join(f"{n} {k}" for k, n in sorted(_totals(counts).items())) or "nothing",
            run.batches,
        )
    return run


def _totals(counts: Counter) -> Counter:
    totals: Counter = Counter()
    for (_code, kind), n in counts.items():
        totals[kind] += n
    return totals
