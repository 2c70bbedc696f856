"""The common path of ingestion, whatever the kind of record.

Validate every record (wire shape, then the kind's domain rules), load what
already exists with one query per kind, decide each record's outcome by its
``source_timestamp`` (created / updated / unchanged / stale, or rejected), then
write with bulk inserts and updates in one transaction, each change with its
``Change`` row. Locking, the transaction, the retry of a batch the database
refuses and retraction are here too. The rules themselves are in the package
docstring (``indexes.services.ingestion``).

What differs per kind is a ``Handler`` (one module per kind beside this one),
held in ``HANDLERS``, which the package fills in the order a batch is applied.
The engine asks the handler and never tests the kind itself.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db import DataError, IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from indexes.models import Change, EventType, Municipality, SourceSystem
from indexes.payloads import DateTimeField, FieldProblem
from indexes.services import bulk, canonical, events, outbox
from indexes.services.errors import Problem, RecordNotFound, RecordRejected
from indexes.services.validation import Lookups, shape_check
from kle.models import Subject

# The package's name, as before the split (log configuration and tests name it).
logger = logging.getLogger(__package__)

# What the KLE rules read (the guidance texts are large and not needed).
KLE_RULE_FIELDS = ("id", "expired_on", "moved_on", "successor_numbers")
# Large columns of joined KLE rows that the canonical form does not read.
RELATED_BULK = (
    "kle_subject__guidance_html",
    "kle_subject__legal_references",
    "facet__guidance_html",
    "facet__legal_references",
)


# --- the registry ---------------------------------------------------------------------


class Handler:
    """What the engine needs to know about one kind of record.

    ``rules`` are the kind's domain rules (``indexes.services.validation``) and
    ``from_data`` its canonical form (``indexes.services.canonical``); the
    methods below without a body in a subclass do nothing for that kind.
    """

    kind: ClassVar[str]
    model: ClassVar[type[Model]]
    rules: ClassVar[Callable[[dict, Lookups, list[Problem]], None]]
    from_data: ClassVar[Callable[[dict], dict]]

    def kle_numbers(self, data: dict) -> set[str]:
        """The KLE numbers a record names (loaded for the whole round in one query)."""
        number = data.get("kle_number")
        return {number} if number else set()

    def lookups_load(self, batch: Batch, datas: list[dict], lookups: Lookups) -> None:
        """Load what this kind's domain rules read, for the records of one round."""

    def accepted(self, lookups: Lookups, data: dict) -> None:
        """A record passed the domain rules; a later record of the round may depend on it."""

    def remember(self, batch: Batch, data: dict) -> None:
        """Validate only: keep what later records of the batch may name (nothing is written)."""

    def load_existing(
        self, source_system, external_ids, *, lock: bool = True
    ) -> dict[str, tuple[Any, dict]]:
        """The stored records by external id: ``(instance, canonical form)``.

        Locked (``SELECT … FOR UPDATE``) unless ``lock`` is false (a dry run reads only).
        """
        raise NotImplementedError

    def write(self, batch: Batch, decisions: list[Decision], lookups: Lookups) -> None:
        """Write the created and updated records and their children (``Batch.save_main``)."""
        raise NotImplementedError

    def retracted(self, source_system, instance) -> None:
        """After ``record_retract`` retracted ``instance`` (same transaction)."""

    def locked(self, source_system, external_ids, *, lock: bool = True):
        rows = self.model.objects.select_for_update(of=("self",)) if lock else self.model.objects
        return rows.filter(source_system=source_system, external_id__in=external_ids).order_by("pk")


# Filled by the package ``__init__`` in apply order: a kind comes after the kinds it names.
HANDLERS: dict[str, Handler] = {}


def register(*handlers: Handler) -> None:
    """Add handlers; a batch is applied kind by kind in the order they were added."""
    for handler in handlers:
        if handler.kind in HANDLERS:
            raise ValueError(f"record kind {handler.kind!r} is registered already")
        HANDLERS[handler.kind] = handler


def record_kinds() -> tuple[str, ...]:
    """The registered kinds, alphabetically (as the API and its errors list them)."""
    return tuple(sorted(HANDLERS))


# --- entry points ---------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What happened to one delivered record (``InboxRecord.Outcome`` values)."""

    kind: str
    external_id: str
    outcome: str  # created / updated / unchanged / stale / retracted
    instance: Model | None
    version: int


# --- entry points ---------------------------------------------------------------------


def record_validate(*, source_system: SourceSystem, kind: str, payload: Any) -> dict:
    """Validate one record without writing; the converted data, or ``RecordRejected``."""
    result = records_validate_many(source_system=source_system, items=[(kind, payload)])[0]
    if isinstance(result, RecordRejected):
        raise result
    return result


def records_validate_many(
    *, source_system: SourceSystem, items: Iterable[tuple[str, Any]]
) -> list[dict | RecordRejected]:
    """Validate ``(kind, payload)`` pairs as one batch, without writing.

    A document may name a case, and a payment a grant, delivered earlier in the
    same batch (as ``records_apply_many`` would apply them).
    """
    return Batch(source_system, list(items), received_at=timezone.now(), write=False).run()


def record_apply(
    *, source_system: SourceSystem, kind: str, payload: Any, received_at=None
) -> Outcome:
    """Validate and upsert one record by (source system, external id), atomically.

    Raises ``RecordRejected`` (nothing written). See the package docstring for
    ordering, replays and retraction.
    """
    if kind not in HANDLERS:
        raise ValueError(f"unknown record kind {kind!r}")
    result = records_apply_many(
        source_system=source_system, items=[(kind, payload)], received_at=received_at
    )[0]
    if isinstance(result, RecordRejected):
        raise result
    return result


def records_apply_many(
    *, source_system: SourceSystem, items: Iterable[tuple[str, Any]], received_at=None
) -> list[Outcome | RecordRejected]:
    """Apply ``(kind, payload)`` pairs; one ``Outcome`` or ``RecordRejected`` per item, in order.

    Each record's outcome is independent: a rejected one writes nothing and the
    others still apply. All writes happen in one transaction (a savepoint when
    called inside one). Several deliveries of the same record in one batch are
    applied in their order. If the database refuses the batch (a concurrent
    writer created the same record or case number, or a value it cannot hold),
    the items are applied in ever smaller parts, each in a savepoint, until the
    record at fault stands alone: it is rejected (``conflict`` or
    ``not_storable``) and every other record applies.
    """
    items = list(items)
    received_at = received_at or timezone.now()
    if len(items) == 1:
        return [_record_apply_alone(source_system, items[0], received_at)]
    try:
        return _attempt(source_system, items, received_at)
    except (IntegrityError, *STORAGE_ERRORS) as exc:
        logger.info(
            "batch of %d refused by the database (%s); applying it in parts",
            len(items),
            type(exc).__name__,
        )
    results: list[Any] = [None] * len(items)
    # In apply order (cases, grants, documents, payments; delivery order within a
    # kind), so a record still comes after the records it names.
    rank = {kind: position for position, kind in enumerate(HANDLERS)}
    order = sorted(range(len(items)), key=lambda i: rank.get(items[i][0], len(rank)))
    _apply_in_parts(source_system, items, order, received_at, results)
    return results


# Errors a record's own values can cause when it is written, past validation (a
# value PostgreSQL or the time-zone conversion cannot hold): the record is rejected
# as ``not_storable``. Anything else (a lost connection, a bug) fails the whole call,
# so a transient failure never rejects a record for good.
STORAGE_ERRORS: tuple[type[Exception], ...] = (DataError, ArithmeticError, ValueError, TypeError)
NOT_STORABLE = Problem(
    "",
    "not_storable",
    "The index cannot store this record (a value outside what the database holds); "
    "nothing of it was written.",
)


def _attempt(source_system, items: list, received_at) -> list:
    with transaction.atomic():
        return Batch(source_system, items, received_at=received_at, write=True).run()


def _apply_in_parts(source_system, items, positions: list[int], received_at, results) -> None:
    """Apply ``items`` at ``positions`` in two halves, splitting a refused half again."""
    half = len(positions) // 2
    for part in (positions[:half], positions[half:]):
        if len(part) == 1:
            results[part[0]] = _record_apply_alone(source_system, items[part[0]], received_at)
            continue
        if not part:
            continue
        try:
            outcomes = _attempt(source_system, [items[i] for i in part], received_at)
        except (IntegrityError, *STORAGE_ERRORS):
            _apply_in_parts(source_system, items, part, received_at, results)
        else:
            for position, outcome in zip(part, outcomes, strict=True):
                results[position] = outcome


def _record_apply_alone(source_system, item, received_at) -> Outcome | RecordRejected:
    for attempt in (1, 2):
        try:
            return _attempt(source_system, [item], received_at)[0]
        except IntegrityError:
            if attempt == 1:
                continue  # raced a concurrent writer; its row is visible now, so try once more
            logger.warning("record refused by the database twice", exc_info=True)
            return RecordRejected(
                [
                    Problem(
                        "", "conflict", "A concurrent delivery changed this record; send it again."
                    )
                ]
            )
        except STORAGE_ERRORS as exc:
            # The class only: the message may quote a value (a CPR number).
            logger.warning(
                "%s record refused by the database (%s): rejected as not storable",
                item[0],
                type(exc).__name__,
            )
            return RecordRejected([NOT_STORABLE])
    raise AssertionError("unreachable")  # pragma: no cover


def retraction_time(source_timestamp):
    """The time of a retraction as an aware datetime, or ``RecordRejected`` naming it."""
    if isinstance(source_timestamp, str):
        try:
            return DateTimeField().check(source_timestamp)
        except FieldProblem as problem:
            raise RecordRejected(
                [Problem("/source_timestamp", problem.code, problem.message)]
            ) from None
    if source_timestamp is None or timezone.is_naive(source_timestamp):
        raise RecordRejected(
            [Problem("/source_timestamp", "timezone_required", "An aware date-time is required.")]
        )
    return source_timestamp


def record_retract(
    *, source_system: SourceSystem, kind: str, external_id: str, source_timestamp
) -> Outcome:
    """Retract a record as of ``source_timestamp``, keeping a tombstone.

    ``retracted`` (version + 1, a ``Change`` row); ``stale`` when the record is
    newer than the retraction; ``unchanged`` when it is already retracted.
    ``RecordNotFound`` when the system has no such record.
    """
    handler = HANDLERS.get(kind)
    if handler is None:
        raise ValueError(f"unknown record kind {kind!r}")
    source_timestamp = retraction_time(source_timestamp)
    now = timezone.now()
    with transaction.atomic():
        instance = (
            handler.model.objects.select_for_update()
            .filter(source_system=source_system, external_id=external_id)
            .first()
        )
        if instance is None:
            raise RecordNotFound(f"no {kind} with this external id")
        if source_timestamp < instance.source_timestamp:
            return Outcome(kind, external_id, "stale", instance, instance.version)
        if instance.retracted_at is not None:
            if source_timestamp > instance.source_timestamp:
                # Keep the newest time, so ordering holds whatever arrives next.
                instance.source_timestamp = source_timestamp
                instance.received_at = now
                instance.save(update_fields=["source_timestamp", "received_at"])
            return Outcome(kind, external_id, "unchanged", instance, instance.version)
        instance.retracted_at = now
        instance.source_timestamp = source_timestamp
        instance.received_at = now
        instance.version += 1
        instance.save(update_fields=["retracted_at", "source_timestamp", "received_at", "version"])
        Change.objects.create(
            record_type=kind,
            record_id=instance.pk,
            action=Change.Action.RETRACTED,
            version=instance.version,
            source_system=source_system,
            source_timestamp=source_timestamp,
            received_at=now,
            diff={"retracted_at": [None, canonical.iso_datetime(now)]},
        )
        handler.retracted(source_system, instance)
        outcome = Outcome(kind, external_id, "retracted", instance, instance.version)
        if events.record_applied_wanted(source_system=source_system):
            events.events_emit(events=[_applied_event(source_system, kind, outcome)])
        return outcome


def _applied_event(source_system, kind: str, outcome: Outcome) -> events.EventSpec:
    """``record.applied``: what was written (never the record's content: no CPR leaves)."""
    return events.EventSpec(
        type=EventType.RECORD_APPLIED,
        subject=f"{kind}/{outcome.external_id}",
        source_system_id=source_system.pk,
        ordering_key=events.record_ordering_key(
            source_system_id=source_system.pk, kind=kind, external_id=outcome.external_id
        ),
        data={
            "kind": kind,
            "external_id": outcome.external_id,
            "outcome": outcome.outcome,
            "version": outcome.version,
            "source_timestamp": canonical.iso_datetime(outcome.instance.source_timestamp),
        },
    )


# --- the engine -----------------------------------------------------------------------


@dataclass
class Delivery:
    position: int
    kind: str
    data: dict
    problems: list[Problem]
    result: Any = None

    @property
    def external_id(self) -> str | None:
        return self.data.get("external_id")


@dataclass
class Decision:
    delivery: Delivery
    action: str  # create / update / touch
    existing: Any
    canonical: dict
    diff: dict


def _rounds(deliveries: list[Delivery]) -> list[list[Delivery]]:
    """Split so each round holds each external id at most once, keeping delivery order."""
    rounds: list[list[Delivery]] = []
    seen: dict[Any, int] = defaultdict(int)
    for delivery in deliveries:
        key = delivery.external_id if delivery.external_id is not None else id(delivery)
        index = seen[key]
        seen[key] += 1
        if index == len(rounds):
            rounds.append([])
        rounds[index].append(delivery)
    return rounds


def _decide(existing, existing_canonical, timestamp, new_canonical) -> tuple[str, dict]:
    """The ordering rule of the package docstring: (action, diff)."""
    if existing is None:
        return "create", canonical.content_diff(None, new_canonical)
    if existing.retracted_at is not None:
        if timestamp <= existing.source_timestamp:
            return "stale", {}
        diff = canonical.content_diff(existing_canonical, new_canonical)
        diff["retracted_at"] = [canonical.iso_datetime(existing.retracted_at), None]
        return "update", diff
    if timestamp < existing.source_timestamp:
        return "stale", {}
    diff = canonical.content_diff(existing_canonical, new_canonical)
    if timestamp == existing.source_timestamp:
        return ("unchanged", {}) if not diff else ("conflict", diff)
    return ("touch", {}) if not diff else ("update", diff)


def _timestamp_conflict(diff: dict) -> RecordRejected:
    return RecordRejected(
        [
            Problem(
                "/source_timestamp",
                "timestamp_conflict",
                "The index holds other content with the same source_timestamp; "
                "every change needs a newer timestamp. Changed: " + ", ".join(sorted(diff)),
            )
        ]
    )


class Batch:
    def __init__(self, source_system, items, *, received_at, write: bool, rehearsal=None):
        self.source_system = source_system
        self.items = items
        self.received_at = received_at
        self.write = write
        # A dry run (``dry_run.Rehearsal``): decide every outcome as ``apply`` would, write nothing.
        self.rehearsal = rehearsal
        # Validate only: what earlier records of the batch hold, by kind (``Handler.remember``).
        # A dry run shares it between the chunks it rehearses.
        self.known: dict[str, Any] = rehearsal.known if rehearsal is not None else {}
        self._municipality_codes: set[str] | None = None
        self._record_applied_wanted: bool | None = None

    def municipality_codes(self) -> set[str]:
        if self._municipality_codes is None:
            self._municipality_codes = set(Municipality.objects.values_list("code", flat=True))
        return self._municipality_codes

    def run(self) -> list:
        deliveries = []
        for position, item in enumerate(self.items):
            kind, payload = item
            if kind not in HANDLERS:
                delivery = Delivery(position, str(kind), {}, [])
                delivery.result = RecordRejected(
                    [
                        Problem(
                            "",
                            "unknown_kind",
                            f"The kind must be one of {', '.join(record_kinds())}.",
                        )
                    ]
                )
            else:
                data, problems = shape_check(kind=kind, payload=payload)
                delivery = Delivery(position, kind, data, problems)
            deliveries.append(delivery)
        for kind, handler in HANDLERS.items():
            of_kind = [d for d in deliveries if d.kind == kind and d.result is None]
            for round_ in _rounds(of_kind):
                lookups = self.lookups(handler, round_)
                for delivery in round_:
                    handler.rules(delivery.data, lookups, delivery.problems)
                    if delivery.problems:
                        delivery.result = RecordRejected(delivery.problems)
                    else:
                        handler.accepted(lookups, delivery.data)
                valid = [d for d in round_ if d.result is None]
                if self.write:
                    if valid:
                        self.apply(handler, valid, lookups)
                elif self.rehearsal is not None:
                    if valid:
                        self.rehearsal.decide(self, handler, valid)
                else:
                    for delivery in valid:
                        delivery.result = delivery.data
                        handler.remember(self, delivery.data)
        return [d.result for d in deliveries]

    # -- lookups for the domain rules --

    def lookups(self, handler: Handler, round_: list[Delivery]) -> Lookups:
        ss = self.source_system
        lookups = Lookups(
            source_system=ss,
            municipality_codes=self.municipality_codes,
            # Historisk/Flyttet/AfloestAf as imported; the relation only holds known numbers.
            successors=lambda subject: (
                list(subject.successor_numbers)
                or list(subject.successors.order_by("number").values_list("number", flat=True))
            ),
        )
        datas = [d.data for d in round_]
        numbers = set().union(*(handler.kle_numbers(data) for data in datas))
        if numbers:
            lookups.subjects = {
                s.number: s
                for s in Subject.objects.filter(number__in=numbers).only(
                    *KLE_RULE_FIELDS, "number", "level"
                )
            }
        handler.lookups_load(self, datas, lookups)
        return lookups

    # -- writing --

    def apply(self, handler: Handler, valid: list[Delivery], lookups: Lookups) -> None:
        kind = handler.kind
        existing = handler.load_existing(self.source_system, [d.external_id for d in valid])
        decisions: list[Decision] = []
        touched = []
        for delivery in valid:
            new = handler.from_data(delivery.data)
            found = existing.get(delivery.external_id)
            instance, before = found if found else (None, None)
            action, diff = _decide(instance, before, delivery.data["source_timestamp"], new)
            if action == "stale":
                delivery.result = Outcome(
                    kind, delivery.external_id, "stale", instance, instance.version
                )
            elif action == "unchanged":
                delivery.result = Outcome(
                    kind, delivery.external_id, "unchanged", instance, instance.version
                )
            elif action == "conflict":
                delivery.result = _timestamp_conflict(diff)
            elif action == "touch":
                instance.source_timestamp = delivery.data["source_timestamp"]
                instance.received_at = self.received_at
                touched.append(instance)
                delivery.result = Outcome(
                    kind, delivery.external_id, "unchanged", instance, instance.version
                )
            else:
                decisions.append(Decision(delivery, action, instance, new, diff))
        if touched:
            bulk.rows_update(
                handler.model,
                [
                    {
                        "id": i.pk,
                        "source_timestamp": i.source_timestamp,
                        "received_at": i.received_at,
                    }
                    for i in touched
                ],
                ["source_timestamp", "received_at"],
            )
        if not decisions:
            return
        handler.write(self, decisions, lookups)
        changes = []
        for decision in decisions:
            instance = decision.existing
            created = decision.action == "create"
            decision.delivery.result = Outcome(
                kind,
                decision.delivery.external_id,
                "created" if created else "updated",
                instance,
                instance.version,
            )
            changes.append(
                {
                    "record_type": kind,
                    "record_id": instance.pk,
                    "action": Change.Action.CREATED if created else Change.Action.UPDATED,
                    "version": instance.version,
                    "source_system_id": self.source_system.pk,
                    "user_id": None,
                    "source_timestamp": instance.source_timestamp,
                    "received_at": self.received_at,
                    "diff": decision.diff,
                }
            )
        bulk.rows_insert(Change, changes)
        # The outbox: the citizen's notifications, in the same transaction as the change.
        outbox.events_for_changes(kind, decisions, received_at=self.received_at)
        if self.record_applied_wanted():
            events.events_emit(
                events=[
                    _applied_event(self.source_system, kind, d.delivery.result) for d in decisions
                ]
            )

    def record_applied_wanted(self) -> bool:
        """Whether to write ``record.applied`` events (asked once per batch)."""
        if self._record_applied_wanted is None:
            self._record_applied_wanted = events.record_applied_wanted(
                source_system=self.source_system
            )
        return self._record_applied_wanted

    def save_main(self, handler: Handler, decisions: list[Decision], fields_of) -> None:
        """Insert new and update changed main rows; ``decision.existing`` becomes the row.

        ``fields_of(data)`` gives every content column by attribute name.
        """
        creates, updates = [], []
        for decision in decisions:
            data = decision.delivery.data
            row = fields_of(data)
            row["source_timestamp"] = data["source_timestamp"]
            row["received_at"] = self.received_at
            row["retracted_at"] = None
            if decision.action == "create":
                row.update(
                    source_system_id=self.source_system.pk,
                    external_id=data["external_id"],
                    version=1,
                )
                creates.append((decision, row))
            else:
                instance = decision.existing
                row["version"] = instance.version + 1
                for name, value in row.items():
                    setattr(instance, name, value)
                row["id"] = instance.pk
                updates.append(row)
        bulk.rows_insert(handler.model, [row for _, row in creates], with_ids=True)
        for decision, row in creates:
            decision.existing = bulk.instance_build(handler.model, row)
        if updates:
            bulk.rows_update(handler.model, updates, [n for n in updates[0] if n != "id"])
