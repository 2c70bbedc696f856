"""Retention: deleting what is due from the indexes, and the citizens' old access log.

``retention_run`` deletes, for real (``DELETE``; nothing is hidden or kept as a tombstone),
the cases ``borgerblikket.selectors.retention.cases_due`` names and everything that goes
with them (that module's docstring gives the rule), then the access-log rows older than
``OVERBLIK_ACCESS_LOG_RETENTION_DAYS``. It works in bounded batches of cases, each in a
transaction of its own with the cases locked (``FOR UPDATE SKIP LOCKED``: a case a
delivery is writing right now is left for the next run), so a run over millions of rows
holds no long transaction and never loads more than one batch.

The same run then gives the delivery logs a retention of their own (``_delete_inbox``,
``_delete_feed_log``): inbox batches done or parked more than
``OVERBLIK_INBOX_RETENTION_DAYS`` ago go with their records (the delivered JSON); a pending
batch never goes (it is still to be applied). Feed rejections received, and finished feed
polls ended, more than ``OVERBLIK_FEED_LOG_RETENTION_DAYS`` ago go too, except each feed's
latest poll (the feed admin shows it; it holds counts, never a record). So a deleted case's
delivered content outlives it in a delivery log by at most the longer of the two settings.
Last, the comments of the satisfaction answers (issue 16) are emptied once their month is
``OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS`` old; the anonymous answers stay.

The outboxes too (``_delete_events``): events back to the source systems written more than
``OVERBLIK_EVENTS_RETENTION_DAYS`` ago go with their delivered or dead webhook deliveries;
an event with a delivery still pending stays until it is delivered or dead. What an app
above this one keeps (the portal's messages to citizens) it purges itself, through
``retention_purge_register``: the run calls each registered purge and audits its counts.

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
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from borgerblikket.models import RetentionCount, RetentionRun, SatisfactionAnswer
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
    FeedPoll,
    FeedRejection,
    Grant,
    GrantedBenefit,
    InboxBatch,
    InboxRecord,
    OutboxEvent,
    Payment,
    PaymentPlan,
    WebhookDelivery,
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


def satisfaction_comment_cutoff(*, now: dt.datetime) -> dt.date:
    """Comments of answers from months before this one (its first day) are removed: an
    answer keeps only its month, so a comment goes once its whole month is
    ``OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS`` old (the answer itself stays)."""
    days = settings.OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS
    return timezone.localdate(now - dt.timedelta(days=days)).replace(day=1)


def _purge_satisfaction_comments(*, cutoff: dt.date, counts: Counter) -> None:
    due = SatisfactionAnswer.objects.filter(month__lt=cutoff).exclude(comment="")
    with transaction.atomic():
        per_municipality = list(
            due.order_by().values_list("municipality_code").annotate(n=Count("id"))
        )
        due.update(comment="")
    for code, n in per_municipality:
        counts[(code or None, RetentionCount.Kind.COMMENT)] += n


def inbox_cutoff(*, now: dt.datetime) -> dt.datetime:
    """Inbox batches done or parked before this moment are deleted with their records."""
    return now - dt.timedelta(days=settings.OVERBLIK_INBOX_RETENTION_DAYS)


def feed_log_cutoff(*, now: dt.datetime) -> dt.datetime:
    """Feed rejections received, and feed polls finished, before this moment are deleted."""
    return now - dt.timedelta(days=settings.OVERBLIK_FEED_LOG_RETENTION_DAYS)


def inbox_batches_expired(*, cutoff: dt.datetime):
    """Batches done or parked before ``cutoff``; never a pending one."""
    return InboxBatch.objects.filter(
        Q(status=InboxBatch.Status.DONE, finished_at__lt=cutoff)
        | Q(status=InboxBatch.Status.PARKED, parked_at__lt=cutoff)
    )


def _delete_inbox(*, cutoff: dt.datetime, size: int, counts: Counter) -> None:
    # A transaction holds at most ``size`` records (or one batch, up to MAX_BATCH_RECORDS);
    # the batches are locked SKIP LOCKED and the rule re-checked on the locked rows, so a
    # parked batch an operator retries at this moment (back to pending) is left alone.
    after = None
    while True:
        with transaction.atomic():
            expired = inbox_batches_expired(cutoff=cutoff)
            if after is not None:
                expired = expired.filter(pk__gt=after)
            rows = list(
                expired.select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "source_system__municipality_id", "record_count")[:size]
            )
            if not rows:
                return
            taken, records = [], 0
            for row in rows:
                if taken and records + row[2] > size:
                    break
                taken.append(row)
                records += row[2]
            after = taken[-1][0]
            ids = [row[0] for row in taken]
            owner = {row[0]: row[1] for row in taken}
            per_batch = (
                InboxRecord.objects.filter(batch_id__in=ids)
                .order_by()
                .values_list("batch_id")
                .annotate(n=Count("pk"))
            )
            batch_counts: Counter = Counter()
            for batch_id, n in per_batch:
                batch_counts[(owner[batch_id], RetentionCount.Kind.BATCH_RECORD)] += n
            for code in owner.values():
                batch_counts[(code, RetentionCount.Kind.BATCH)] += 1
            _delete_where(InboxRecord, "batch_id", ids)
            _delete_where(InboxBatch, "id", ids)
        counts.update(batch_counts)


def _delete_feed_log(*, cutoff: dt.datetime, size: int, counts: Counter) -> None:
    municipality = "feed__source_system__municipality_id"
    while True:
        with transaction.atomic():
            rows = list(
                FeedRejection.objects.filter(received_at__lt=cutoff)
                .order_by("pk")
                .values_list("pk", municipality)[:size]
            )
            if not rows:
                break
            _delete_where(FeedRejection, "id", [pk for pk, _code in rows])
        for _pk, code in rows:
            counts[(code, RetentionCount.Kind.FEED_REJECT)] += 1
    latest = (
        FeedPoll.objects.filter(feed=OuterRef("feed"))
        .order_by("-started_at", "-pk")
        .values("pk")[:1]
    )
    while True:
        with transaction.atomic():
            rows = list(
                FeedPoll.objects.exclude(status=FeedPoll.Status.RUNNING)
                .filter(finished_at__lt=cutoff)
                .exclude(pk=Subquery(latest))
                .order_by("pk")
                .values_list("pk", municipality)[:size]
            )
            if not rows:
                return
            ids = [pk for pk, _code in rows]
            # A poll's rejections came before it ended; any still here go with it.
            rejections = list(
                FeedRejection.objects.filter(poll_id__in=ids).values_list("pk", municipality)
            )
            _delete_where(FeedRejection, "id", [pk for pk, _code in rejections])
            _delete_where(FeedPoll, "id", ids)
        for _pk, code in rejections:
            counts[(code, RetentionCount.Kind.FEED_REJECT)] += 1
        for _pk, code in rows:
            counts[(code, RetentionCount.Kind.FEED_POLL)] += 1


def events_cutoff(*, now: dt.datetime) -> dt.datetime:
    """Outbox events written before this moment are deleted (unless a delivery pends)."""
    return now - dt.timedelta(days=settings.OVERBLIK_EVENTS_RETENTION_DAYS)


def _delete_events(*, cutoff: dt.datetime, size: int, counts: Counter) -> None:
    pending = WebhookDelivery.objects.filter(
        event=OuterRef("pk"), status=WebhookDelivery.Status.PENDING
    )
    while True:
        with transaction.atomic():
            # Locked SKIP LOCKED, the pending check made on the locked rows: a webhook
            # sweep writing a delivery of one of them right now leaves it for the next run.
            rows = list(
                OutboxEvent.objects.filter(time__lt=cutoff)
                .exclude(Exists(pending))
                .select_for_update(skip_locked=True, of=("self",))
                .order_by("pk")
                .values_list("pk", "municipality_id", "source_system__municipality_id")[:size]
            )
            if not rows:
                return
            ids = [pk for pk, _own, _system in rows]
            owner = {pk: own or system for pk, own, system in rows}
            deliveries = list(
                WebhookDelivery.objects.filter(event_id__in=ids).values_list("event_id", flat=True)
            )
            _delete_where(WebhookDelivery, "event_id", ids)
            _delete_where(OutboxEvent, "id", ids)
        for event_id in deliveries:
            counts[(owner[event_id], RetentionCount.Kind.DELIVERY)] += 1
        for pk in ids:
            counts[(owner[pk], RetentionCount.Kind.EVENT)] += 1


# What apps above this layer keep and purge themselves (overblik's messages to citizens):
# each purge takes the run's moment and batch size and returns its counts, keyed
# (municipality code or None, RetentionCount.Kind).
Purge = Callable[..., Counter]
_PURGES: list[Purge] = []


def retention_purge_register(purge: Purge) -> None:
    """Have every retention run call ``purge(now=..., size=...)`` and audit its counts
    (an app's ``AppConfig.ready``; registering the same purge twice registers it once)."""
    if purge not in _PURGES:
        _PURGES.append(purge)


def retention_run(
    *,
    trigger: str,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
) -> RetentionRun:
    """Delete what is due on ``now``'s day (default: now), and the access log and the
    delivery logs older than their retention; return the run with its counts (also when it
    failed: then re-raised)."""
    size = _batch_size(batch_size)
    now = now or timezone.now()
    today = timezone.localdate(now)
    cutoff = access_log_cutoff(now=now)
    inbox = inbox_cutoff(now=now)
    feed_log = feed_log_cutoff(now=now)
    events = events_cutoff(now=now)
    run = RetentionRun.objects.create(
        started_at=timezone.now(),
        today=today,
        trigger=trigger,
        access_log_cutoff=cutoff,
        inbox_cutoff=inbox,
        feed_log_cutoff=feed_log,
        events_cutoff=events,
    )
    counts: Counter = Counter()
    try:
        _delete_due_cases(today=today, size=size, counts=counts, run=run)
        _delete_access_log(cutoff=cutoff, size=size, counts=counts)
        _delete_inbox(cutoff=inbox, size=size, counts=counts)
        _delete_feed_log(cutoff=feed_log, size=size, counts=counts)
        _delete_events(cutoff=events, size=size, counts=counts)
        for purge in _PURGES:
            counts.update(purge(now=now, size=size))
        _purge_satisfaction_comments(cutoff=satisfaction_comment_cutoff(now=now), counts=counts)
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
