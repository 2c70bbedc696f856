"""Ingestion of index records delivered by source systems.

One engine serves a single PUT (``record_apply``) and a bulk delivery
(``records_apply_many``): validate every record, load what already exists with
one query per kind, decide each record's outcome, then write with bulk inserts
and updates in one transaction. A rejected record writes nothing; the others
still apply.

Ordering (SF1470 Registrering/Tidspunkt; DOMAIN.md §3): a delivery is ordered by
its ``source_timestamp``.

- older than the stored record → ``stale``; nothing is written.
- equal and the same content → ``unchanged`` (a replay is a no-op).
- equal with different content → rejected (``timestamp_conflict``): two
  different registrations cannot have the same time, and any pick would make
  the result depend on delivery order.
- newer with the same content → ``unchanged``; the stored timestamp moves on
  (so a later-arriving delivery in between is recognised as stale) but the
  version does not change.
- newer with other content → ``updated``: version + 1 and a ``Change`` row.

Retraction (``record_retract``) keeps the record as a tombstone with
``retracted_at``. A delivery not newer than the retraction is ``stale``, so a
late, older PUT cannot resurrect it; a strictly newer PUT brings the record back
(outcome ``updated``, ``retracted_at`` cleared; the source system has created it
again). On equal timestamps the retraction wins, whichever arrives first. A
tombstone keeps the fields it had when retracted (they are shown nowhere); a
version older than the retraction is never applied to it, so after shuffled
deliveries two tombstones may differ in those fields but not in being retracted
as of the same time.

Related cases are named by external id within the same source system. A
reference to a case not delivered yet is kept (``CaseRelation.related`` NULL,
``Grant``/``GrantedBenefit.related_case`` NULL with the id kept) and resolved
when that case arrives, so delivery order does not matter. A document's cases
and a payment's grant must exist already (else ``unknown_case`` /
``unknown_grant``); in a bulk delivery they may come earlier in the same batch,
because a batch is applied kind by kind: cases, grants, documents, payments.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import Model, OuterRef, Subquery
from django.utils import timezone

from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    CaseRelation,
    Change,
    Document,
    Grant,
    GrantedBenefit,
    Municipality,
    Payment,
    PaymentPlan,
    SourceSystem,
)
from indexes.payloads import DateTimeField, FieldProblem
from indexes.selectors import record_get, record_to_payload, records_list
from indexes.services import bulk, canonical, references
from indexes.services.cases import case_status_derive
from indexes.services.errors import Problem, RecordNotFound, RecordRejected
from indexes.services.validation import (
    DOMAIN_RULES,
    Lookups,
    kle_numbers_of,
    shape_check,
)
from kle.models import Facet, Subject

logger = logging.getLogger(__name__)

RECORD_KINDS = ("case", "document", "grant", "payment")
# What the KLE rules read (the guidance texts are large and not needed).
KLE_RULE_FIELDS = ("id", "expired_on", "moved_on", "successor_numbers")
# Large columns of joined KLE rows that the canonical form does not read.
RELATED_BULK = (
    "kle_subject__guidance_html",
    "kle_subject__legal_references",
    "facet__guidance_html",
    "facet__legal_references",
)
# References point from later kinds to earlier ones, so a batch is applied in this order.
APPLY_ORDER = ("case", "grant", "document", "payment")
MODELS: dict[str, type[Model]] = {
    "case": Case,
    "document": Document,
    "grant": Grant,
    "payment": Payment,
}

__all__ = [
    "RECORD_KINDS",
    "Outcome",
    "record_apply",
    "record_get",
    "record_retract",
    "record_to_payload",
    "record_validate",
    "records_apply_many",
    "records_list",
    "records_validate_many",
]


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
    return _Batch(source_system, list(items), received_at=timezone.now(), write=False).run()


def record_apply(
    *, source_system: SourceSystem, kind: str, payload: Any, received_at=None
) -> Outcome:
    """Validate and upsert one record by (source system, external id), atomically.

    Raises ``RecordRejected`` (nothing written). See the module docstring for
    ordering, replays and retraction.
    """
    if kind not in RECORD_KINDS:
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
    order = sorted(range(len(items)), key=lambda i: _APPLY_RANK.get(items[i][0], len(APPLY_ORDER)))
    _apply_in_parts(source_system, items, order, received_at, results)
    return results


# Errors a record's own values can cause when it is written, past validation (a
# value PostgreSQL or the time-zone conversion cannot hold): the record is rejected
# as ``not_storable``. Anything else (a lost connection, a bug) fails the whole call,
# so a transient failure never rejects a record for good.
STORAGE_ERRORS: tuple[type[Exception], ...] = (DataError, ArithmeticError, ValueError, TypeError)
_APPLY_RANK = {kind: rank for rank, kind in enumerate(APPLY_ORDER)}
NOT_STORABLE = Problem(
    "",
    "not_storable",
    "The index cannot store this record (a value outside what the database holds); "
    "nothing of it was written.",
)


def _attempt(source_system, items: list, received_at) -> list:
    with transaction.atomic():
        return _Batch(source_system, items, received_at=received_at, write=True).run()


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


def record_retract(
    *, source_system: SourceSystem, kind: str, external_id: str, source_timestamp
) -> Outcome:
    """Retract a record as of ``source_timestamp``, keeping a tombstone.

    ``retracted`` (version + 1, a ``Change`` row); ``stale`` when the record is
    newer than the retraction; ``unchanged`` when it is already retracted.
    ``RecordNotFound`` when the system has no such record.
    """
    model = MODELS.get(kind)
    if model is None:
        raise ValueError(f"unknown record kind {kind!r}")
    if isinstance(source_timestamp, str):
        try:
            source_timestamp = DateTimeField().check(source_timestamp)
        except FieldProblem as problem:
            raise RecordRejected(
                [Problem("/source_timestamp", problem.code, problem.message)]
            ) from None
    elif source_timestamp is None or timezone.is_naive(source_timestamp):
        raise RecordRejected(
            [Problem("/source_timestamp", "timezone_required", "An aware date-time is required.")]
        )
    now = timezone.now()
    with transaction.atomic():
        instance = (
            model.objects.select_for_update()
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
        if kind == "case":
            # What named it by number may now name another system's case (or nothing).
            references.cases_changed(
                [
                    (
                        instance.pk,
                        source_system.pk,
                        instance.municipality_id,
                        external_id,
                        instance.case_number,
                    )
                ]
            )
        return Outcome(kind, external_id, "retracted", instance, instance.version)


# --- the engine -----------------------------------------------------------------------


@dataclass
class _Delivery:
    position: int
    kind: str
    data: dict
    problems: list[Problem]
    result: Any = None

    @property
    def external_id(self) -> str | None:
        return self.data.get("external_id")


@dataclass
class _Decision:
    delivery: _Delivery
    action: str  # create / update / touch
    existing: Any
    canonical: dict
    diff: dict


@dataclass
class _Known:
    """Records validated earlier in a validate-only batch (nothing is written there)."""

    cases: set[str] = field(default_factory=set)
    grants: dict[str, tuple[Any, dict[str, Any]]] = field(default_factory=dict)
    case_numbers: dict[str, str] = field(default_factory=dict)


def _rounds(deliveries: list[_Delivery]) -> list[list[_Delivery]]:
    """Split so each round holds each external id at most once, keeping delivery order."""
    rounds: list[list[_Delivery]] = []
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
    """The ordering rule of the module docstring: (action, diff)."""
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


class _Batch:
    def __init__(self, source_system, items, *, received_at, write: bool):
        self.source_system = source_system
        self.items = items
        self.received_at = received_at
        self.write = write
        self.known = _Known()
        self._municipality_codes: set[str] | None = None

    def municipality_codes(self) -> set[str]:
        if self._municipality_codes is None:
            self._municipality_codes = set(Municipality.objects.values_list("code", flat=True))
        return self._municipality_codes

    def run(self) -> list:
        deliveries = []
        for position, item in enumerate(self.items):
            kind, payload = item
            if kind not in RECORD_KINDS:
                delivery = _Delivery(position, str(kind), {}, [])
                delivery.result = RecordRejected(
                    [
                        Problem(
                            "",
                            "unknown_kind",
                            f"The kind must be one of {', '.join(RECORD_KINDS)}.",
                        )
                    ]
                )
            else:
                data, problems = shape_check(kind=kind, payload=payload)
                delivery = _Delivery(position, kind, data, problems)
            deliveries.append(delivery)
        for kind in APPLY_ORDER:
            of_kind = [d for d in deliveries if d.kind == kind and d.result is None]
            handler = HANDLERS[kind]
            for round_ in _rounds(of_kind):
                lookups = self.lookups(kind, round_)
                for delivery in round_:
                    DOMAIN_RULES[kind](delivery.data, lookups, delivery.problems)
                    if delivery.problems:
                        delivery.result = RecordRejected(delivery.problems)
                    elif kind == "case":
                        # First come, first served within a batch (unique per source system).
                        lookups.case_numbers[delivery.data["case_number"]] = delivery.external_id
                valid = [d for d in round_ if d.result is None]
                if self.write:
                    if valid:
                        self.apply(handler, valid, lookups)
                else:
                    for delivery in valid:
                        delivery.result = delivery.data
                        self.remember(kind, delivery.data)
        return [d.result for d in deliveries]

    # -- lookups for the domain rules --

    def lookups(self, kind: str, round_: list[_Delivery]) -> Lookups:
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
        numbers = set().union(*(kle_numbers_of(kind, data) for data in datas))
        if numbers:
            lookups.subjects = {
                s.number: s
                for s in Subject.objects.filter(number__in=numbers).only(
                    *KLE_RULE_FIELDS, "number", "level"
                )
            }
        if kind == "case":
            codes = {data["facet"] for data in datas if "facet" in data}
            lookups.facets = {
                f.code: f
                for f in Facet.objects.filter(code__in=codes).only(*KLE_RULE_FIELDS, "code")
            }
            case_numbers = {data["case_number"] for data in datas if "case_number" in data}
            # The system's own live cases only (unique per source system, issue 12.4).
            lookups.case_numbers = dict(
                Case.objects.filter(
                    source_system=ss, case_number__in=case_numbers, retracted_at__isnull=True
                ).values_list("case_number", "external_id")
            )
            if not self.write:
                for number, external_id in self.known.case_numbers.items():
                    lookups.case_numbers.setdefault(number, external_id)
        elif kind == "document":
            wanted = {
                link.get("case_external_id")
                for data in datas
                for link in data.get("cases") or []
                if isinstance(link, dict)
            }
            lookups.cases = dict(
                Case.objects.filter(
                    source_system=ss, external_id__in=wanted, retracted_at__isnull=True
                ).values_list("external_id", "id")
            )
            for external_id in self.known.cases & wanted:
                lookups.cases.setdefault(external_id, 0)
        elif kind == "grant":
            ids = {data["external_id"] for data in datas if "external_id" in data}
            paid = defaultdict(set)
            for grant_id, benefit_id in (
                Payment.objects.filter(
                    benefit__grant__source_system=ss, benefit__grant__external_id__in=ids
                )
                .values_list("benefit__grant__external_id", "benefit__external_id")
                .distinct()
            ):
                paid[grant_id].add(benefit_id)
            lookups.benefits_with_payments = dict(paid)
        elif kind == "payment":
            wanted = {data["grant_external_id"] for data in datas if "grant_external_id" in data}
            grants = {
                g.pk: g
                for g in Grant.objects.filter(
                    source_system=ss, external_id__in=wanted, retracted_at__isnull=True
                )
            }
            benefits = defaultdict(dict)
            for benefit in GrantedBenefit.objects.filter(grant_id__in=grants):
                benefits[benefit.grant_id][benefit.external_id] = benefit
            lookups.grants = {g.external_id: (g, benefits[g.pk]) for g in grants.values()}
            for external_id, found in self.known.grants.items():
                if external_id in wanted:
                    lookups.grants.setdefault(external_id, found)
        return lookups

    def remember(self, kind: str, data: dict) -> None:
        if kind == "case":
            self.known.cases.add(data["external_id"])
            self.known.case_numbers[data["case_number"]] = data["external_id"]
        elif kind == "grant":
            party = data["party"] or {}
            benefits = {
                b["external_id"]: SimpleNamespace(
                    external_id=b["external_id"], kind=b["kind"], id=0
                )
                for b in data["benefits"]
            }
            self.known.grants[data["external_id"]] = (
                SimpleNamespace(party_cpr=party.get("cpr"), external_id=data["external_id"]),
                benefits,
            )

    # -- writing --

    def apply(self, handler: _Handler, valid: list[_Delivery], lookups: Lookups) -> None:
        kind = handler.kind
        existing = handler.load_existing(self.source_system, [d.external_id for d in valid])
        decisions: list[_Decision] = []
        touched = []
        for delivery in valid:
            new = canonical.FROM_DATA[kind](delivery.data)
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
                delivery.result = RecordRejected(
                    [
                        Problem(
                            "/source_timestamp",
                            "timestamp_conflict",
                            "The index holds other content with the same source_timestamp; "
                            "every change needs a newer timestamp. Changed: "
                            + ", ".join(sorted(diff)),
                        )
                    ]
                )
            elif action == "touch":
                instance.source_timestamp = delivery.data["source_timestamp"]
                instance.received_at = self.received_at
                touched.append(instance)
                delivery.result = Outcome(
                    kind, delivery.external_id, "unchanged", instance, instance.version
                )
            else:
                decisions.append(_Decision(delivery, action, instance, new, diff))
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

    def save_main(self, handler: _Handler, decisions: list[_Decision], fields_of) -> None:
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


# --- per kind ---------------------------------------------------------------------------


class _Handler:
    kind: str
    model: type[Model]

    def load_existing(self, source_system, external_ids) -> dict[str, tuple[Any, dict]]:
        raise NotImplementedError

    def write(self, batch: _Batch, decisions: list[_Decision], lookups: Lookups) -> None:
        raise NotImplementedError

    def locked(self, source_system, external_ids):
        return (
            self.model.objects.select_for_update(of=("self",))
            .filter(source_system=source_system, external_id__in=external_ids)
            .order_by("pk")
        )


def _case_ids(source_system, external_ids: Iterable[str]) -> dict[str, int]:
    wanted = {e for e in external_ids if e}
    if not wanted:
        return {}
    return dict(
        Case.objects.filter(source_system=source_system, external_id__in=wanted).values_list(
            "external_id", "id"
        )
    )


class _CaseHandler(_Handler):
    kind = "case"
    model = Case

    def load_existing(self, source_system, external_ids):
        cases = list(
            self.locked(source_system, external_ids)
            .select_related("kle_subject", "facet")
            .defer(*RELATED_BULK)
        )
        ids = [c.pk for c in cases]
        progress = defaultdict(list)
        relations = defaultdict(list)
        if ids:
            for case_id, status, start, end in CaseProgress.objects.filter(
                case_id__in=ids
            ).values_list("case_id", "status", "valid_from", "valid_to"):
                progress[case_id].append((status, start, end))
            for case_id, related in CaseRelation.objects.filter(case_id__in=ids).values_list(
                "case_id", "related_external_id"
            ):
                relations[case_id].append(related)
        return {
            c.external_id: (
                c,
                canonical.case_from_instance(
                    c, progress=progress[c.pk], related_external_ids=relations[c.pk]
                ),
            )
            for c in cases
        }

    def write(self, batch, decisions, lookups):
        received_at = batch.received_at
        # The last change a citizen notices (case_status_derive): a wait this delivery ends
        # is dated by its source timestamp; an update that leaves the history as it was
        # keeps a later last change (an earlier wait's end is not in the data).
        updates = {d.delivery.external_id: d for d in decisions if d.action == "update"}

        def fields_of(data):
            party = data["party"] or {}
            update = updates.get(data["external_id"])
            ended = (
                update and update.existing.awaiting_party_since and not data["awaiting_party_since"]
            )
            status, last_changed_at = case_status_derive(
                progress=data["progress"],
                at=received_at,
                awaiting_party_since=data["awaiting_party_since"],
                wait_ended_at=data["source_timestamp"] if ended else None,
            )
            if update and "progress" not in update.diff:
                last_changed_at = max(last_changed_at, update.existing.last_changed_at)
            return {
                "municipality_id": data["municipality"],
                "case_number": data["case_number"],
                "title": data["title"],
                "alternative_title": data["alternative_title"],
                "description": data["description"],
                "source_status_text": data["source_status_text"],
                "sensitivity": data["sensitivity"],
                "hidden_from_citizen": data["hidden_from_citizen"],
                "kle_subject_id": lookups.subjects[data["kle_number"]].pk,
                "facet_id": lookups.facets[data["facet"]].pk,
                "responsible_unit": data["responsible_unit"],
                "primary_caseworker": data["primary_caseworker"],
                "party_cpr": party.get("cpr"),
                "party_cvr": party.get("cvr"),
                "decision_class": data["decision_class"],
                "created_on": data["created_on"],
                "awaiting_party_since": data["awaiting_party_since"],
                "awaiting_party_due": data["awaiting_party_due"],
                "awaiting_party_reason": data["awaiting_party_reason"],
                "status": status,
                "last_changed_at": last_changed_at,
            }

        batch.save_main(self, decisions, fields_of)
        ss = batch.source_system
        # Children are replaced as a whole: an import carries the whole history (SF1470 AM-01).
        new_progress = [d for d in decisions if d.action == "create" or "progress" in d.diff]
        new_relations = [d for d in decisions if d.action == "create" or "related_cases" in d.diff]
        bulk.rows_delete(
            CaseProgress, "case_id", [d.existing.pk for d in new_progress if d.action == "update"]
        )
        bulk.rows_insert(
            CaseProgress,
            [
                {
                    "case_id": d.existing.pk,
                    "status": p["status"],
                    "valid_from": p["from"],
                    "valid_to": p["to"],
                }
                for d in new_progress
                for p in d.delivery.data["progress"]
            ],
        )
        bulk.rows_delete(
            CaseRelation, "case_id", [d.existing.pk for d in new_relations if d.action == "update"]
        )
        wanted = {e for d in new_relations for e in d.canonical["related_cases"]}
        ids = _case_ids(ss, wanted)
        bulk.rows_insert(
            CaseRelation,
            [
                {
                    "case_id": d.existing.pk,
                    "related_id": ids.get(external_id),
                    "related_external_id": external_id,
                }
                for d in new_relations
                for external_id in d.canonical["related_cases"]
            ],
        )
        created = [d.delivery.external_id for d in decisions if d.action == "create"]
        if created:
            _pending_relations_resolve(ss, created)
        # Grants and benefits naming these cases (by external id or, across source systems,
        # by case number) follow a new case, a new number or municipality, a comeback.
        moved = []
        for d in decisions:
            if d.action != "create" and not {"case_number", "municipality", "retracted_at"} & set(
                d.diff
            ):
                continue
            case = d.existing
            numbers = {case.case_number, *(d.diff.get("case_number") or [])[:1]} - {None}
            places = {case.municipality_id, *(d.diff.get("municipality") or [])[:1]} - {None}
            moved += [(case.pk, ss.pk, m, case.external_id, n) for m in places for n in numbers]
        references.cases_changed(moved)


_PENDING_SQL = """
SELECT
  EXISTS (SELECT 1 FROM indexes_caserelation r JOIN indexes_case c ON c.id = r.case_id
          WHERE r.related_id IS NULL AND r.related_external_id = ANY(%(ids)s)
            AND c.source_system_id = %(system)s)
"""


def _pending_relations_resolve(source_system, external_ids: list[str]) -> None:
    """Point case relations that waited for these (new) cases at them.

    One indexed look-up first (usually nothing waits; raw SQL with one array
    parameter), then an UPDATE only when something does wait. (Grants and benefits
    naming a case: ``indexes.services.references``.)
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_PENDING_SQL, {"ids": list(external_ids), "system": source_system.pk})
            (relations,) = cursor.fetchone()
    else:  # SQLite (``make run`` without PostgreSQL): just run the update
        relations = True
    if relations:
        CaseRelation.objects.filter(
            related__isnull=True,
            related_external_id__in=external_ids,
            case__source_system=source_system,
        ).update(
            related=Subquery(
                Case.objects.filter(
                    source_system=source_system, external_id=OuterRef("related_external_id")
                ).values("id")[:1]
            )
        )


class _DocumentHandler(_Handler):
    kind = "document"
    model = Document

    def load_existing(self, source_system, external_ids):
        documents = list(
            self.locked(source_system, external_ids)
            .select_related("kle_subject")
            .defer(*RELATED_BULK[:2])
        )
        links = defaultdict(list)
        if documents:
            for document_id, case_id, role in CaseDocument.objects.filter(
                document_id__in=[d.pk for d in documents]
            ).values_list("document_id", "case__external_id", "role"):
                links[document_id].append((case_id, role))
        return {
            d.external_id: (d, canonical.document_from_instance(d, links=links[d.pk]))
            for d in documents
        }

    def write(self, batch, decisions, lookups):
        def fields_of(data):
            number = data["kle_number"]
            return {
                "municipality_id": data["municipality"],
                "title": data["title"],
                "letter_date": data["letter_date"],
                "type": data["type"],
                "status": data["status"],
                "sensitivity": data["sensitivity"],
                "hidden_from_citizen": data["hidden_from_citizen"],
                "kle_subject_id": lookups.subjects[number].pk if number else None,
            }

        batch.save_main(self, decisions, fields_of)
        changed = [d for d in decisions if d.action == "create" or "cases" in d.diff]
        bulk.rows_delete(
            CaseDocument, "document_id", [d.existing.pk for d in changed if d.action == "update"]
        )
        bulk.rows_insert(
            CaseDocument,
            [
                {
                    "case_id": lookups.cases[link["case_external_id"]],
                    "document_id": d.existing.pk,
                    "role": link["role"],
                }
                for d in changed
                for link in d.delivery.data["cases"]
            ],
        )


class _GrantHandler(_Handler):
    kind = "grant"
    model = Grant

    def load_existing(self, source_system, external_ids):
        grants = list(self.locked(source_system, external_ids))
        benefits = defaultdict(list)
        if grants:
            for benefit in (
                GrantedBenefit.objects.filter(grant_id__in=[g.pk for g in grants])
                .select_related("kle_subject", "payment_plan")
                .defer(*RELATED_BULK[:2])
            ):
                benefits[benefit.grant_id].append(benefit)
        for grant in grants:
            grant.loaded_benefits = benefits[grant.pk]
        return {
            g.external_id: (
                g,
                canonical.grant_from_instance(
                    g,
                    benefits=[(b, getattr(b, "payment_plan", None)) for b in benefits[g.pk]],
                ),
            )
            for g in grants
        }

    def write(self, batch, decisions, lookups):
        ss = batch.source_system

        def reference(data, municipality):
            return references.Reference(
                ss.pk, municipality, data["related_case"] or "", data["related_case_number"] or ""
            )

        resolver = references.Resolver(
            reference(x, d.delivery.data["municipality"])
            for d in decisions
            for x in (d.delivery.data, *d.delivery.data["benefits"])
        )
        party_before = {
            d.existing.pk: d.existing.party_cpr for d in decisions if d.action == "update"
        }

        def fields_of(data):
            party = data["party"] or {}
            return {
                "municipality_id": data["municipality"],
                "case_number": data["case_number"],
                "party_cpr": party.get("cpr"),
                "start_on": data["start_on"],
                "end_on": data["end_on"],
                "reason": data["reason"],
                "sensitivity": data["sensitivity"],
                "status": data["status"],
                "related_case_id": resolver.case_for(reference(data, data["municipality"])),
                "related_case_external_id": data["related_case"] or "",
                "related_case_number": data["related_case_number"] or "",
            }

        batch.save_main(self, decisions, fields_of)

        def benefit_values(benefit, municipality):
            return {
                "name": benefit["name"],
                "kind": benefit["kind"],
                "kle_subject_id": lookups.subjects[benefit["kle_number"]].pk,
                "start_on": benefit["start_on"],
                "end_on": benefit["end_on"],
                "status": benefit["status"],
                "repayable": benefit["repayable"],
                "description": benefit["description"],
                "message": benefit["message"],
                "delivered_by": benefit["delivered_by"],
                "granted_by": benefit["granted_by"],
                "related_case_id": resolver.case_for(reference(benefit, municipality)),
                "related_case_external_id": benefit["related_case"] or "",
                "related_case_number": benefit["related_case_number"] or "",
            }

        # Benefits are matched by external id: a kept benefit keeps its row (its
        # payments point at it), a new one is inserted, a dropped one deleted.
        creates, updates, removed, kept, plans = [], [], [], [], []
        for decision in decisions:
            grant = decision.existing
            if decision.action == "update" and "benefits" not in decision.diff:
                continue
            current = {
                b.external_id: b.pk
                for b in (grant.loaded_benefits if decision.action == "update" else [])
            }
            for data in decision.delivery.data["benefits"]:
                row = benefit_values(data, decision.delivery.data["municipality"])
                pk = current.pop(data["external_id"], None)
                if pk is None:
                    row.update(grant_id=grant.pk, external_id=data["external_id"])
                    creates.append(row)
                else:
                    row["id"] = pk
                    updates.append(row)
                    kept.append(pk)
                if data["payment_plan"] is not None:
                    plans.append((row, data["payment_plan"]))
            removed.extend(current.values())
        bulk.rows_delete(PaymentPlan, "benefit_id", removed + kept)
        bulk.rows_delete(GrantedBenefit, "id", removed)
        bulk.rows_insert(GrantedBenefit, creates, with_ids=True)
        if updates:
            bulk.rows_update(GrantedBenefit, updates, [n for n in updates[0] if n != "id"])
        bulk.rows_insert(
            PaymentPlan,
            [
                {
                    "benefit_id": row["id"],
                    "frequency": plan["frequency"],
                    "timing": plan["timing"],
                    "payment_day": plan["payment_day"],
                    "amount": plan["amount"],
                    "start_on": plan["start_on"],
                    "end_on": plan["end_on"],
                }
                for row, plan in plans
            ],
        )
        # Payment.party_cpr is the grant's party, denormalised: keep it in step. This is
        # derived data, not a delivery, so the payments' versions do not change.
        for decision in decisions:
            grant = decision.existing
            if decision.action == "update" and party_before[grant.pk] != grant.party_cpr:
                Payment.objects.filter(benefit__grant=grant).update(party_cpr=grant.party_cpr)
        # Resolved above within this transaction; again after commit, in case a case
        # they name was committed meanwhile by a concurrent delivery (references.py).
        references.grants_written(d.existing.pk for d in decisions)


class _PaymentHandler(_Handler):
    kind = "payment"
    model = Payment

    def load_existing(self, source_system, external_ids):
        payments = list(self.locked(source_system, external_ids).select_related("benefit__grant"))
        return {
            p.external_id: (
                p,
                canonical.payment_from_instance(
                    p,
                    grant_external_id=p.benefit.grant.external_id,
                    benefit_external_id=p.benefit.external_id,
                ),
            )
            for p in payments
        }

    def write(self, batch, decisions, lookups):
        def fields_of(data):
            grant, benefits = lookups.grants[data["grant_external_id"]]
            return {
                "municipality_id": data["municipality"],
                "benefit_id": benefits[data["benefit_external_id"]].id,
                "party_cpr": grant.party_cpr,
                "disposal_date": data["disposal_date"],
                "period_start": data["period"]["start"],
                "period_end": data["period"]["end"],
                "gross_amount": data["gross_amount"],
                "amount_after_tax": data["amount_after_tax"],
                "amount_sent": data["amount_sent"],
                "amount_paid": data["amount_paid"],
                "paying_office": data["paying_office"],
            }

        batch.save_main(self, decisions, fields_of)


HANDLERS: dict[str, _Handler] = {
    "case": _CaseHandler(),
    "document": _DocumentHandler(),
    "grant": _GrantHandler(),
    "payment": _PaymentHandler(),
}
