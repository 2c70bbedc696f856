"""The PostgreSQL inbox of bulk deliveries: receive, enqueue, process, sweep.

A bulk request is validated record by record; accepted records are written to
``InboxBatch``/``InboxRecord`` in the request's own transaction, so they are
durable before the 202 is sent. After commit the batch id is handed to Celery;
if the broker is down the request still succeeds and ``inbox_sweep`` (Celery
beat) enqueues the batch later. Processing is idempotent and serialised per
batch, so a redelivered or duplicated task never applies a record twice.
"""

import contextlib
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict
from datetime import timedelta

import kombu.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from config.logging import redact_cpr
from indexes.models import EventType, IdempotencyKey, InboxBatch, InboxRecord, SourceSystem
from indexes.payloads import external_id_shown
from indexes.services.bulk import rows_insert
from indexes.services.errors import Problem, RecordNotFound, RecordRejected, nul_free
from indexes.services.events import EventSpec, events_emit, record_ordering_key
from indexes.services.ingestion import (
    RECORD_KINDS,
    records_apply_many,
    records_apply_many_dry_run,
    records_validate_many,
)

logger = logging.getLogger(__name__)

MAX_BATCH_RECORDS = 1000
# Records applied per transaction: progress is committed (and visible in
# GET /batches/{id}) chunk by chunk; a killed worker loses at most one chunk.
# Half a batch (MAX_BATCH_RECORDS): against 250, about 7 % less worker wall time
# (docs/performance.md, "Ingestion"), and a killed worker still loses at most 500.
PROCESS_CHUNK = 500
# Sweeper batch size: pending batches enqueued again per run, the least-tried first.
SWEEP_LIMIT = 500
# Only these are transient (database restarted, connection dropped): they are
# retried and do not count towards parking a batch; anything else is a bug or a
# poisoned batch and must surface, not loop.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Key space of the per-batch advisory locks (pg_try_advisory_lock(int, int)).
_LOCK_CLASS = 0x1B0C
# How long stored Idempotency-Key answers are kept.
IDEMPOTENCY_RETENTION = timedelta(hours=24)


def _problem_dicts(problems: list[Problem], *, prefix: str = "") -> list[dict]:
    return [asdict(p) | {"pointer": prefix + p.pointer} for p in problems]


def _envelope_problems(item, index: int) -> list[Problem]:
    pointer = f"/records/{index}"
    if not isinstance(item, dict):
        return [Problem(pointer=pointer, code="invalid", message="Skal være et objekt.")]
    problems = []
    if item.get("kind") not in RECORD_KINDS:
        problems.append(
            Problem(
                pointer=f"{pointer}/kind",
                code="invalid_choice",
                message=f"kind skal være en af {', '.join(RECORD_KINDS)}.",
            )
        )
    if not isinstance(item.get("record"), dict):
        problems.append(
            Problem(pointer=f"{pointer}/record", code="invalid", message="Skal være et objekt.")
        )
    return problems


def _external_id(item) -> str:
    # Only a valid external id is repeated: never a CPR-shaped one (issue 12.8).
    record = item.get("record") if isinstance(item, dict) else None
    return external_id_shown(record.get("external_id") if isinstance(record, dict) else None)


# Where a record's problem is, for a delivery that was not JSON (``indexes.kombit``):
# (position, JSON pointer into the mapped record) -> (XPath, line) in the delivered XML.
Locate = Callable[[int, str], tuple[str, int | None]]


@transaction.atomic
def inbox_batch_receive(
    *,
    source_system: SourceSystem,
    items: list,
    locate: Locate | None = None,
    refused: dict[int, list[dict]] | None = None,
) -> tuple[InboxBatch, list[dict]]:
    """Validate ``items`` (``{"kind", "record"}``) and store the accepted ones as a batch.

    Returns the batch and the rejections ``[{index, kind, external_id, problems}]``
    (pointers relative to the request body). Each record stands or falls alone;
    a rejected record is kept only as its outcome and problems, never its data.
    If no record is accepted, raises ``RecordRejected`` and writes nothing.
    The batch is enqueued after commit.

    ``locate`` (XML deliveries) turns each problem's pointer into the XPath and line of
    the element it came from; ``refused`` are problems found before the engine (position
    -> problem dicts), which reject their records as the engine's own would.
    """
    rows, rejections = _batch_check(
        source_system=source_system, items=items, locate=locate, refused=refused
    )
    batch = InboxBatch(source_system=source_system, record_count=len(items))
    batch.save()
    # COPY, not bulk_create: psycopg quotes every '"' of every JSON payload
    # client-side for bulk_create's array parameters (a third of the request's CPU).
    for row in rows:
        row["batch_id"] = batch.pk
    rows_insert(InboxRecord, rows)
    batch_id = batch.id
    # record.rejected for those refused at receipt too (the 202 lists them as well).
    events_emit(
        events=[
            _rejected_event(
                source_system,
                batch,
                kind=str(r["kind"] or ""),
                external_id=r["external_id"],
                problems=r["problems"],
            )
            for r in rejections
        ]
    )

    def enqueue() -> None:
        inbox_batch_enqueue(batch_id=batch_id)

    # robust: the batch is committed; a database or broker failure while
    # enqueueing is logged and left to the sweeper, never turned into an error
    # answer for a delivery that was stored. (A named function, not a partial:
    # Django's robust hook logs the callback's __qualname__.)
    transaction.on_commit(enqueue, robust=True)
    return batch, rejections


def inbox_batch_dry_run(
    *,
    source_system: SourceSystem,
    items: list,
    locate: Locate | None = None,
    refused: dict[int, list[dict]] | None = None,
) -> tuple[list[dict], list]:
    """What ``inbox_batch_receive`` and then the workers would do with ``items``; no write.

    Returns the rejections as ``inbox_batch_receive`` returns them and every record's
    row as ``GET /batches/{id}`` would show it once done (``position``, ``kind``,
    ``external_id``, ``outcome``, ``problems``), decided synchronously: the accepted
    records are rehearsed chunk by chunk as the worker applies them
    (``PROCESS_CHUNK``). Raises ``RecordRejected`` where ``inbox_batch_receive`` would.
    """
    rows, rejections = _batch_check(
        source_system=source_system, items=items, locate=locate, refused=refused
    )
    pending = [row for row in rows if row["outcome"] == InboxRecord.Outcome.PENDING.value]
    results = records_apply_many_dry_run(
        source_system=source_system,
        items=[(row["kind"], row["payload"]) for row in pending],
        chunk=PROCESS_CHUNK,
    )
    for row, result in zip(pending, results, strict=True):
        if isinstance(result, RecordRejected):
            row["outcome"] = InboxRecord.Outcome.REJECTED.value
            row["problems"] = _problems_located(result.problems, row["position"], locate)
        else:
            row["outcome"] = result.outcome
    return rejections, [
        {name: row[name] for name in ("position", "kind", "external_id", "outcome", "problems")}
        for row in rows
    ]


def _problems_located(problems: list[Problem], position: int, locate: Locate | None) -> list[dict]:
    """Problem dicts with pointers into the record, or (``locate``) at their XML element."""
    if locate is None:
        return _problem_dicts(problems)
    out = []
    for problem in problems:
        xpath, line = locate(position, problem.pointer)
        out.append(
            {"pointer": xpath, "line": line, "code": problem.code, "message": problem.message}
        )
    return out


def _batch_check(
    *,
    source_system: SourceSystem,
    items: list,
    locate: Locate | None = None,
    refused: dict[int, list[dict]] | None = None,
) -> tuple[list[dict], list[dict]]:
    """The inbox rows of ``items`` (rejected, or pending with the payload) and the rejections.

    Raises ``RecordRejected`` for a batch of the wrong size or with no valid record.
    """
    refused = refused or {}
    if not 1 <= len(items) <= MAX_BATCH_RECORDS:
        raise RecordRejected(
            [
                Problem(
                    pointer="/records",
                    code="batch_size",
                    message=f"En batch skal have 1-{MAX_BATCH_RECORDS} poster, ikke {len(items)}.",
                )
            ]
        )
    rows: list[dict] = []
    rejections: list[dict] = []
    now = timezone.now()
    envelope = [_envelope_problems(item, index) for index, item in enumerate(items)]
    for index in refused:
        envelope[index] = envelope[index] or [Problem(pointer="", code="refused", message="")]
    # One validation pass for the whole batch (one query per kind of reference),
    # so a document may name a case delivered earlier in the same batch.
    valid_positions = [index for index, problems in enumerate(envelope) if not problems]
    results = dict(
        zip(
            valid_positions,
            records_validate_many(
                source_system=source_system,
                items=[(items[i]["kind"], items[i]["record"]) for i in valid_positions],
            ),
            strict=True,
        )
    )
    for index, item in enumerate(items):
        problems = envelope[index]
        result = results.get(index)
        if isinstance(result, RecordRejected):
            problems = [
                Problem(
                    pointer=f"/records/{index}/record{p.pointer}", code=p.code, message=p.message
                )
                for p in result.problems
            ]
        kind = item.get("kind") if isinstance(item, dict) else None
        kind = kind if kind in RECORD_KINDS else ""
        if problems:
            if index in refused:
                problem_dicts = refused[index]
            elif locate is not None and isinstance(result, RecordRejected):
                problem_dicts = _problems_located(result.problems, index, locate)
            else:
                problem_dicts = _problem_dicts(problems)
            rejection = {
                "index": index,
                "kind": kind,
                "external_id": _external_id(item),
                "problems": problem_dicts,
            }
            rejections.append(rejection)
            rows.append(
                {
                    "position": index,
                    "kind": kind,
                    "external_id": nul_free(rejection["external_id"]),
                    "payload": {},
                    "outcome": InboxRecord.Outcome.REJECTED.value,
                    "problems": nul_free(rejection["problems"]),
                    "processed_at": now,
                }
            )
        else:
            rows.append(
                {
                    "position": index,
                    "kind": kind,
                    "external_id": _external_id(item),
                    "payload": item["record"],
                    "outcome": InboxRecord.Outcome.PENDING.value,
                    "problems": [],
                    "processed_at": None,
                }
            )
    if len(rejections) == len(items):
        rejected = RecordRejected(
            [
                Problem(pointer=p["pointer"], code=p["code"], message=p["message"])
                for r in rejections
                for p in r["problems"]
            ]
        )
        # Each record's rejection as the answer lists them (an XML delivery's carry lines).
        rejected.rejections = rejections
        raise rejected
    return rows, rejections


def inbox_queue(*, source_system_id: int, record_count: int) -> str | None:
    """The Celery queue of a batch (settings, "Queues"); None: the default queue.

    A small delivery goes to ``ingest.single``, a bigger one to its source system's bulk
    shard, so one system's backlog never sits in front of another's deliveries.
    """
    if not settings.INDEXES_QUEUES_SPLIT:
        return None
    if record_count <= settings.INDEXES_QUEUE_SINGLE_MAX_RECORDS:
        return "ingest.single"
    return f"ingest.bulk.{source_system_id % settings.INDEXES_QUEUE_BULK_SHARDS}"


def inbox_batch_enqueue(*, batch_id: uuid.UUID) -> bool:
    """Hand ``batch_id`` to a worker on its queue (``inbox_queue``); ``False`` (logged)
    when the broker is unreachable.

    A failed enqueue loses nothing: the batch is in PostgreSQL and ``inbox_sweep``
    enqueues it again, to the same queue.
    """
    from indexes.tasks import inbox_batch_process_task  # tasks import this module

    queue = None
    if settings.INDEXES_QUEUES_SPLIT:
        sizes = InboxBatch.objects.filter(pk=batch_id).values_list(
            "source_system_id", "record_count"
        )
        for source_system_id, record_count in sizes:
            queue = inbox_queue(source_system_id=source_system_id, record_count=record_count)
    try:
        # Bounded retries: a request must not hang on a dead broker.
        inbox_batch_process_task.apply_async(
            kwargs={"batch_id": str(batch_id)},
            **({"queue": queue} if queue else {}),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )
    except (kombu.exceptions.OperationalError, ConnectionError, OSError) as exc:
        logger.warning(
            "Inbox batch %s not enqueued (%s); the sweeper will enqueue it.",
            batch_id,
            type(exc).__name__,
        )
        return False
    InboxBatch.objects.filter(pk=batch_id).update(
        enqueued_at=timezone.now(), attempts=F("attempts") + 1
    )
    return True


def _records_apply(
    *, source_system: SourceSystem, batch: InboxBatch, rows: list[tuple[int, str, dict]]
):
    # One bulk apply per chunk (one query per kind to load, bulk writes); each
    # record still gets its own outcome and a rejected one writes nothing.
    # ``rows`` are (pk, kind, payload) tuples: model instances cost more to build.
    results = records_apply_many(
        source_system=source_system,
        items=[(kind, payload) for _pk, kind, payload in rows],
        received_at=batch.received_at,
    )
    now = timezone.now()
    # One UPDATE per outcome (bulk_update's CASE WHEN per row cost more than
    # applying the records); rejected rows carry their own problems.
    by_outcome: dict[str, list[int]] = defaultdict(list)
    for (pk, _kind, _payload), result in zip(rows, results, strict=True):
        if isinstance(result, RecordRejected):
            # Valid when received, invalid now (e.g. the case a document names
            # was never delivered): the record's own outcome, not the batch's.
            InboxRecord.objects.filter(pk=pk).update(
                outcome=InboxRecord.Outcome.REJECTED,
                problems=_problem_dicts(result.problems),
                processed_at=now,
            )
        else:
            by_outcome[result.outcome].append(pk)
    for outcome, pks in by_outcome.items():
        InboxRecord.objects.filter(pk__in=pks).update(
            outcome=outcome, problems=[], processed_at=now
        )
    rejected = []
    for (_pk, kind, payload), result in zip(rows, results, strict=True):
        if isinstance(result, RecordRejected):
            external_id = payload.get("external_id") if isinstance(payload, dict) else None
            rejected.append(
                _rejected_event(
                    source_system,
                    batch,
                    kind=kind,
                    external_id=external_id,
                    problems=_problem_dicts(result.problems),
                )
            )
    events_emit(events=rejected)


def _rejected_event(source_system, batch, *, kind: str, external_id, problems) -> EventSpec:
    """``record.rejected``; never a CPR number in a message sent out: an id holding one is
    sent as "" (``external_id_shown``), the problems' messages never echo one."""
    shown = external_id_shown(external_id)
    return EventSpec(
        type=EventType.RECORD_REJECTED,
        subject=f"{kind}/{shown}",
        source_system_id=source_system.pk,
        ordering_key=record_ordering_key(
            source_system_id=source_system.pk, kind=kind, external_id=shown
        ),
        # PostgreSQL's jsonb holds no NUL: a delivered one is kept written as "\\u0000".
        data={
            "batch": str(batch.pk),
            "kind": kind,
            "external_id": shown,
            "problems": json.loads(json.dumps(problems).replace("\\u0000", "\\\\u0000")),
        },
    )


def _batch_completed_event(batch: InboxBatch) -> EventSpec:
    """``batch.completed``: the batch's outcome counts (the records: GET the batch)."""
    counts = dict(
        batch.records.order_by()
        .values_list("outcome")
        .annotate(n=Count("pk"))
        .values_list("outcome", "n")
    )
    return EventSpec(
        type=EventType.BATCH_COMPLETED,
        subject=f"batch/{batch.pk}",
        source_system_id=batch.source_system_id,
        ordering_key=f"batch:{batch.pk}",
        data={
            "batch": str(batch.pk),
            "received": batch.record_count,
            "outcomes": counts,
            "finished_at": batch.finished_at.isoformat(),
        },
    )


def inbox_batch_process(*, batch_id: uuid.UUID) -> InboxBatch | None:
    """Apply the pending records of ``batch_id`` in position order; mark the batch done.

    Safe to call any number of times, concurrently too: a call returns at once
    when another worker is processing the batch, and each chunk runs in one
    transaction holding the batch row locked, so two workers never apply the same
    record and a killed worker's chunk rolls back whole. A run that fails (any
    error but a lost database connection) or dies counts as a try; after
    ``INDEXES_INBOX_MAX_TRIES`` the batch is parked with the reason and no longer
    processed or swept (``inbox_batch_retry`` puts it back). Returns ``None``
    for an unknown batch.
    """
    with _batch_claimed(batch_id) as claimed:
        if not claimed:
            # Another worker holds it and finishes it (a duplicate task from the sweeper).
            return InboxBatch.objects.filter(pk=batch_id).first()
        tries = _try_begin(batch_id)
        if tries is None:
            return InboxBatch.objects.filter(pk=batch_id).first()  # done, parked or unknown
        try:
            return _chunks_apply(batch_id)
        except TRANSIENT_ERRORS:
            # Not the batch's fault (the task retries it); best effort, the database may be gone.
            with contextlib.suppress(*TRANSIENT_ERRORS):
                InboxBatch.objects.filter(pk=batch_id, tries__gt=0).update(tries=F("tries") - 1)
            raise
        except BaseException as exc:  # a time limit too; the task still fails as before
            try:
                _try_failed(batch_id, tries=tries, reason=f"{type(exc).__name__}: {exc}")
            except Exception:  # the original error is the one to surface
                logger.exception("Inbox batch %s: its failure could not be recorded", batch_id)
            raise


@contextlib.contextmanager
def _batch_claimed(batch_id: uuid.UUID):
    """A session lock on ``batch_id`` while this worker processes it (PostgreSQL).

    Released by PostgreSQL when the worker dies with its connection; on SQLite
    (tasks run in-process) there is no concurrency to guard against.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = [_LOCK_CLASS, int.from_bytes(uuid.UUID(str(batch_id)).bytes[:4], "big", signed=True)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        claimed = cursor.fetchone()[0]
    try:
        yield claimed
    finally:
        if claimed:
            with contextlib.suppress(*TRANSIENT_ERRORS), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _try_begin(batch_id: uuid.UUID) -> int | None:
    """Count a try of a pending batch (committed at once); park it if it used up its tries.

    Returns the try's number, or ``None`` when the batch is not (or no longer) pending.
    """
    with transaction.atomic():
        batch = (
            InboxBatch.objects.select_for_update(no_key=True)
            .filter(pk=batch_id, status=InboxBatch.Status.PENDING)
            .first()
        )
        if batch is None:
            return None
        if batch.tries >= settings.INDEXES_INBOX_MAX_TRIES:
            # The runs before this one began and never finished: workers killed on it.
            _park(
                batch,
                batch.last_error
                or f"Stopped {batch.tries} times without finishing (a worker killed or lost).",
            )
            return None
        batch.tries += 1
        batch.save(update_fields=["tries"])
        return batch.tries


def _try_failed(batch_id: uuid.UUID, *, tries: int, reason: str) -> None:
    reason = redact_cpr(reason)[:2000]
    logger.error(
        "Inbox batch %s failed (try %d of %d): %s",
        batch_id,
        tries,
        settings.INDEXES_INBOX_MAX_TRIES,
        reason.splitlines()[0][:200] if reason else "",
    )
    with transaction.atomic():
        batch = InboxBatch.objects.select_for_update(no_key=True).filter(pk=batch_id).first()
        if batch is None or batch.status != InboxBatch.Status.PENDING:
            return
        batch.last_error = reason
        batch.save(update_fields=["last_error"])
        if batch.tries >= settings.INDEXES_INBOX_MAX_TRIES:
            _park(batch, reason)


def _park(batch: InboxBatch, reason: str) -> None:
    batch.status = InboxBatch.Status.PARKED
    batch.parked_at = timezone.now()
    batch.last_error = reason
    batch.save(update_fields=["status", "parked_at", "last_error"])
    logger.error(
        "Inbox batch %s parked after %d tries; retry it from the admin once fixed.",
        batch.pk,
        batch.tries,
    )


def _chunks_apply(batch_id: uuid.UUID) -> InboxBatch | None:
    while True:
        with transaction.atomic():
            # Blocking FOR NO KEY UPDATE: a second worker on the same batch waits
            # for the first one's chunk to commit, then sees its outcomes (never
            # applies a record twice). SKIP LOCKED would also skip a batch that is
            # only briefly locked (e.g. by the enqueue's own UPDATE) and strand it
            # until the sweeper runs.
            batch = (
                InboxBatch.objects.select_for_update(no_key=True, of=("self",))
                .select_related("source_system")
                .filter(pk=batch_id)
                .first()
            )
            if batch is None or batch.status != InboxBatch.Status.PENDING:
                return batch
            rows = list(
                batch.records.filter(outcome=InboxRecord.Outcome.PENDING)
                .order_by("position")
                .values_list("id", "kind", "payload")[:PROCESS_CHUNK]
            )
            if not rows:
                batch.status = InboxBatch.Status.DONE
                batch.finished_at = timezone.now()
                batch.save(update_fields=["status", "finished_at"])
                events_emit(events=[_batch_completed_event(batch)])
                return batch
            _records_apply(source_system=batch.source_system, batch=batch, rows=rows)


def inbox_batch_retry(*, batch_ids: list[uuid.UUID]) -> int:
    """Put parked batches back to pending with fresh tries and enqueue them; how many."""
    now = timezone.now()
    ids = list(
        InboxBatch.objects.filter(pk__in=batch_ids, status=InboxBatch.Status.PARKED).values_list(
            "id", flat=True
        )
    )
    InboxBatch.objects.filter(pk__in=ids).update(
        status=InboxBatch.Status.PENDING, tries=0, parked_at=None, enqueued_at=None
    )
    logger.info("%d parked inbox batches put back to pending at %s", len(ids), now.isoformat())

    def enqueue() -> None:
        for batch_id in ids:
            inbox_batch_enqueue(batch_id=batch_id)

    transaction.on_commit(enqueue, robust=True)
    return len(ids)


def inbox_sweep(
    *, older_than: timedelta | None = None, limit: int = SWEEP_LIMIT
) -> list[uuid.UUID]:
    """Enqueue pending batches not enqueued within ``older_than``; expire idempotency keys.

    ``older_than`` defaults to ``INDEXES_INBOX_SWEEP_AFTER`` seconds. Covers a
    broker that was down at enqueue time and a worker killed mid-batch (its task
    message is not redelivered until the visibility timeout). Parked batches are
    left alone, and the least-tried batches go first, so batches that keep
    failing never crowd out the others.
    """
    if older_than is None:
        older_than = timedelta(seconds=settings.INDEXES_INBOX_SWEEP_AFTER)
    cutoff = timezone.now() - older_than
    batch_ids = list(
        InboxBatch.objects.filter(status=InboxBatch.Status.PENDING, received_at__lte=cutoff)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=cutoff))
        .order_by("tries", "received_at")
        .values_list("id", flat=True)[:limit]
    )
    for batch_id in batch_ids:
        inbox_batch_enqueue(batch_id=batch_id)
    if batch_ids:
        logger.info("Inbox sweep re-enqueued %d pending batches.", len(batch_ids))
    IdempotencyKey.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_RETENTION).delete()
    return batch_ids


def inbox_batch_get(*, source_system: SourceSystem, batch_id: uuid.UUID) -> InboxBatch:
    """The batch ``batch_id`` of ``source_system`` with its outcome counts.

    Raises ``RecordNotFound`` for a batch of another system exactly as for none.
    """
    batch = (
        InboxBatch.objects.filter(pk=batch_id, source_system=source_system)
        .annotate(processed=Count("records", filter=~Q(records__outcome="pending")))
        .first()
    )
    if batch is None:
        raise RecordNotFound(str(batch_id))
    return batch
