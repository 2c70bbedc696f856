"""Dry runs: what a delivery would do, decided by the engine's own rules, writing nothing.

A dry run takes the engine's validate-only path (``Batch`` with ``write=False``: the
wire shape, the kind's domain rules, references to records earlier in the batch) and
adds the decision ``Batch.apply`` makes (``engine._decide``: created, updated,
unchanged, stale, or rejected as ``timestamp_conflict``) against the stored records,
read without row locks. What the batch would have written is kept in memory (a
``Rehearsal``), so a later delivery of the same record, a document naming a case
created earlier, a payment naming a grant that an earlier record changed, are decided
against the state the real write would have reached by then.

Nothing is written, and the database is made to prove it: every dry run runs in a
transaction (a savepoint when called inside one) set ``READ ONLY`` on PostgreSQL and
always rolled back (``nothing_written``), so a write that slipped in is an error, not
a change. No record, history, inbox row, idempotency key, case reference or
``transaction.on_commit`` work comes of it; a rolled-back savepoint drops its
``on_commit`` callbacks.

What a dry run cannot know, because only writing tells: a value the database itself
refuses past validation (``not_storable``), and a concurrent writer that changes the
record between the dry run and the real write (then the real write may answer
otherwise; ``If-Match`` guards against that).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from indexes.models import SourceSystem
from indexes.services.errors import RecordNotFound, RecordRejected
from indexes.services.ingestion.engine import (
    HANDLERS,
    Batch,
    Delivery,
    Handler,
    Outcome,
    _decide,
    _timestamp_conflict,
    retraction_time,
)


@contextlib.contextmanager
def nothing_written() -> Iterator[None]:
    """A transaction (or savepoint) that may only read, and is always rolled back.

    On PostgreSQL ``SET TRANSACTION READ ONLY`` makes any write in it an error;
    going read-only is allowed at any point, also inside a savepoint, and the rollback
    of the savepoint restores the outer transaction's mode.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION READ ONLY")
        try:
            yield
        finally:
            transaction.set_rollback(True)


@dataclass
class Rehearsal:
    """What a dry run has decided so far: each record's state as the write would leave it."""

    # (kind, external id) -> (state: source_timestamp, retracted_at, version; canonical form)
    records: dict[tuple[str, str], tuple[SimpleNamespace, dict]] = field(default_factory=dict)
    # The handlers' memory of earlier records of the batch (``Batch.known``).
    known: dict[str, Any] = field(default_factory=dict)

    def decide(self, batch: Batch, handler: Handler, valid: list[Delivery]) -> None:
        """``Batch.apply``'s decisions for ``valid`` without its writes (one round)."""
        kind = handler.kind
        fresh = [d.external_id for d in valid if (kind, d.external_id) not in self.records]
        stored = handler.load_existing(batch.source_system, fresh, lock=False) if fresh else {}
        for delivery in valid:
            key = (kind, delivery.external_id)
            if key in self.records:
                state, before = self.records[key]
            elif delivery.external_id in stored:
                instance, before = stored[delivery.external_id]
                state = SimpleNamespace(
                    source_timestamp=instance.source_timestamp,
                    retracted_at=instance.retracted_at,
                    version=instance.version,
                )
            else:
                state, before = None, None
            new = handler.from_data(delivery.data)
            timestamp = delivery.data["source_timestamp"]
            action, diff = _decide(state, before, timestamp, new)
            if action in ("stale", "unchanged"):
                delivery.result = Outcome(kind, delivery.external_id, action, None, state.version)
            elif action == "conflict":
                delivery.result = _timestamp_conflict(diff)
            elif action == "touch":
                # The stored timestamp moves on (the version does not).
                state.source_timestamp = timestamp
                delivery.result = Outcome(
                    kind, delivery.external_id, "unchanged", None, state.version
                )
            else:
                version = 1 if state is None else state.version + 1
                self.records[key] = (
                    SimpleNamespace(source_timestamp=timestamp, retracted_at=None, version=version),
                    new,
                )
                # Later records of the batch may name it (a document its case, ...).
                handler.remember(batch, delivery.data)
                delivery.result = Outcome(
                    kind,
                    delivery.external_id,
                    "created" if action == "create" else "updated",
                    None,
                    version,
                )


def records_apply_many_dry_run(
    *,
    source_system: SourceSystem,
    items: Iterable[tuple[str, Any]],
    chunk: int | None = None,
    rehearsal: Rehearsal | None = None,
) -> list[Outcome | RecordRejected]:
    """What ``records_apply_many`` would answer for ``items``; nothing is written.

    ``chunk``: rehearse the items in consecutive parts of this size, as the inbox
    applies a batch (one ``records_apply_many`` per chunk), so a record naming one of
    a later chunk is rejected exactly as there. ``Outcome.instance`` is ``None``.
    """
    items = list(items)
    rehearsal = rehearsal or Rehearsal()
    size = chunk or max(len(items), 1)
    received_at = timezone.now()
    results: list[Outcome | RecordRejected] = []
    with nothing_written():
        for start in range(0, len(items), size):
            part = items[start : start + size]
            results += Batch(
                source_system, part, received_at=received_at, write=False, rehearsal=rehearsal
            ).run()
    return results


def record_apply_dry_run(*, source_system: SourceSystem, kind: str, payload: Any) -> Outcome:
    """What ``record_apply`` would answer; ``RecordRejected`` as it would raise. No write."""
    if kind not in HANDLERS:
        raise ValueError(f"unknown record kind {kind!r}")
    result = records_apply_many_dry_run(source_system=source_system, items=[(kind, payload)])[0]
    if isinstance(result, RecordRejected):
        raise result
    return result


def record_retract_dry_run(
    *, source_system: SourceSystem, kind: str, external_id: str, source_timestamp
) -> Outcome:
    """What ``record_retract`` would answer (``RecordNotFound``/``RecordRejected`` as it
    would raise); nothing is written."""
    handler = HANDLERS.get(kind)
    if handler is None:
        raise ValueError(f"unknown record kind {kind!r}")
    source_timestamp = retraction_time(source_timestamp)
    with nothing_written():
        row = (
            handler.model.objects.filter(source_system=source_system, external_id=external_id)
            .values("source_timestamp", "retracted_at", "version")
            .first()
        )
    if row is None:
        raise RecordNotFound(f"no {kind} with this external id")
    if source_timestamp < row["source_timestamp"]:
        return Outcome(kind, external_id, "stale", None, row["version"])
    if row["retracted_at"] is not None:
        return Outcome(kind, external_id, "unchanged", None, row["version"])
    return Outcome(kind, external_id, "retracted", None, row["version"] + 1)
