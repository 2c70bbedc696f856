"""Grants and granted benefits naming their case: keeping ``related_case`` resolved.

A grant (and each of its benefits) may name its related case in two ways, both
kept as delivered:

- ``related_case_external_id``: a case of the *same* source system, by its external id;
- ``related_case_number``: a case by its case number (BrugervendtNoegle) — of the same
  source system or of *another* source system of the grant's municipality, as a payment
  system's grant quotes the jobcentre's case (KMD Ydelse → FASIT, issue 11.1).

``related_case`` is the case they resolve to (``case_for``):

1. an external id names the system's case with that id (a retracted one too: the
   citizen is then shown nothing of the benefit); when a case number is given as
   well, that case must carry it, else the reference resolves to nothing;
2. a case number alone names the system's own live case with that number; if it has
   none, the live case with that number of another source system of the municipality
   — when exactly one other system has one (case numbers are unique per source system
   among live cases, issue 12.4); two or more: ambiguous, nothing;
3. naming nothing leaves the reference empty.

A reference that names a case but resolves to nothing makes the visibility rule
withhold the grant's benefits and the data-quality report flag them
(docs/borgerblikket.md).

Either side may arrive first, so the reference is resolved from both: when a grant is
written (``Resolver``, in the ingestion's transaction) and when a case is created,
changes its number or municipality, is retracted or comes back (``cases_changed``).
Two deliveries in concurrent transactions cannot see each other's uncommitted rows, so
each also resolves again *after its commit* (``transaction.on_commit``) in a short
transaction of its own, under PostgreSQL advisory locks on the names involved: of two
concurrent deliveries, the one that commits last resolves after both are visible, and
the locks keep two such resolutions of one name from overwriting each other with an
older reading.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Q

from indexes.models import Case, Grant, GrantedBenefit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reference:
    """What a grant or benefit names: its grant's system and municipality, and the names."""

    source_system_id: int
    municipality_id: str
    external_id: str
    case_number: str

    @property
    def names_a_case(self) -> bool:
        return bool(self.external_id or self.case_number)

    def lock_keys(self) -> set[str]:
        keys = set()
        if self.external_id:
            keys.add(f"e:{self.source_system_id}:{self.external_id}")
        if self.case_number:
            keys.add(f"n:{self.municipality_id}:{self.case_number}")
        return keys


class Resolver:
    """The cases a set of references may name, loaded with two queries; ``case_for``."""

    def __init__(self, references: Iterable[Reference]):
        references = [r for r in references if r.names_a_case]
        self._by_external_id: dict[tuple[int, str], tuple[int, str]] = {}
        self._by_number: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        by_system: dict[int, set[str]] = defaultdict(set)
        for ref in references:
            if ref.external_id:
                by_system[ref.source_system_id].add(ref.external_id)
        if by_system:
            q = Q()
            for system_id, external_ids in by_system.items():
                q |= Q(source_system_id=system_id, external_id__in=external_ids)
            for pk, system_id, external_id, number in Case.objects.filter(q).values_list(
                "pk", "source_system_id", "external_id", "case_number"
            ):
                self._by_external_id[(system_id, external_id)] = (pk, number)
        numbers: dict[str, set[str]] = defaultdict(set)
        for ref in references:
            if ref.case_number:
                numbers[ref.municipality_id].add(ref.case_number)
        if numbers:
            q = Q()
            for municipality_id, wanted in numbers.items():
                q |= Q(municipality_id=municipality_id, case_number__in=wanted)
            rows = (
                Case.objects.filter(q, retracted_at__isnull=True)
                .order_by("pk")
                .values_list("pk", "source_system_id", "municipality_id", "case_number")
            )
            for pk, system_id, municipality_id, number in rows:
                self._by_number[(municipality_id, number)].append((system_id, pk))

    def case_for(self, ref: Reference) -> int | None:
        """The case ``ref`` resolves to (the module's rule), or ``None``."""
        if ref.external_id:
            found = self._by_external_id.get((ref.source_system_id, ref.external_id))
            if found is None:
                return None
            pk, number = found
            return pk if not ref.case_number or number == ref.case_number else None
        if not ref.case_number:
            return None
        holders = self._by_number.get((ref.municipality_id, ref.case_number), [])
        own = [pk for system_id, pk in holders if system_id == ref.source_system_id]
        if own:
            return own[0]
        others = {system_id for system_id, _ in holders}
        if len(others) == 1:
            return holders[0][1]
        return None  # missing, or held by several other systems: ambiguous


# --- re-resolving stored references ----------------------------------------------------


def _grant_rows(q: Q):
    return Grant.objects.filter(q).values_list(
        "pk",
        "source_system_id",
        "municipality_id",
        "related_case_external_id",
        "related_case_number",
        "related_case_id",
    )


def _benefit_rows(q: Q):
    return GrantedBenefit.objects.filter(q).values_list(
        "pk",
        "grant__source_system_id",
        "grant__municipality_id",
        "related_case_external_id",
        "related_case_number",
        "related_case_id",
    )


def _naming(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}related_case_external_id": ""}) | ~Q(
        **{f"{prefix}related_case_number": ""}
    )


def _resolve_rows(grants: list, benefits: list) -> int:
    """Point each row's ``related_case`` where its names resolve; the number changed."""
    refs = {}
    for kind, rows in (("grant", grants), ("benefit", benefits)):
        for pk, system_id, municipality_id, external_id, number, _current in rows:
            refs[(kind, pk)] = Reference(system_id, municipality_id, external_id, number)
    resolver = Resolver(refs.values())
    changed = 0
    for kind, rows, model in (("grant", grants, Grant), ("benefit", benefits, GrantedBenefit)):
        moves: dict[int | None, list[int]] = defaultdict(list)
        for pk, *_names, current in rows:
            target = resolver.case_for(refs[(kind, pk)])
            if target != current:
                moves[target].append(pk)
        for target, pks in moves.items():
            changed += model.objects.filter(pk__in=pks).update(related_case_id=target)
    return changed


def _lock(keys: Iterable[str]) -> None:
    """Transaction-scoped advisory locks on ``keys``, in one order (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return
    numbers = sorted(
        {
            int.from_bytes(hashlib.blake2b(k.encode(), digest_size=8).digest(), "big", signed=True)
            for k in keys
        }
    )
    if not numbers:
        return
    with connection.cursor() as cursor:
        for number in numbers:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _cases_q(cases: Iterable[tuple[int, int, str, str, str]], prefix: str = "") -> Q | None:
    """References that may name one of ``cases`` ((id, system, municipality, external id,
    number)): those pointing at one already, those waiting for one's external id, those
    naming one's number. Each part repeats a partial index's condition so the planner can
    use it (a delivery of cases must not scan every grant)."""
    ids: set[int] = set()
    by_system: dict[int, set[str]] = defaultdict(set)
    by_municipality: dict[str, set[str]] = defaultdict(set)
    for pk, system_id, municipality_id, external_id, number in cases:
        ids.add(pk)
        if external_id:
            by_system[system_id].add(external_id)
        if number:
            by_municipality[municipality_id].add(number)
    grant = "grant__" if prefix else ""
    q = Q(related_case_id__in=ids) if ids else Q()
    for system_id, external_ids in by_system.items():
        q |= Q(
            **{f"{grant}source_system_id": system_id, "related_case_external_id__in": external_ids},
            related_case__isnull=True,
        ) & ~Q(related_case_external_id="")
    for municipality_id, numbers in by_municipality.items():
        q |= Q(
            **{f"{grant}municipality_id": municipality_id, "related_case_number__in": numbers}
        ) & ~Q(related_case_number="")
    return q or None


def _resolve_for_cases(cases: list[tuple[int, int, str, str, str]], *, lock: bool) -> int:
    grant_q, benefit_q = _cases_q(cases), _cases_q(cases, prefix="benefit")
    if grant_q is None:
        return 0
    grants, benefits = list(_grant_rows(grant_q)), list(_benefit_rows(benefit_q))
    if not grants and not benefits:
        return 0
    if lock:
        keys = set()
        for _pk, system_id, municipality_id, external_id, number, _ in grants + benefits:
            keys |= Reference(system_id, municipality_id, external_id, number).lock_keys()
        _lock(keys)
        grants, benefits = list(_grant_rows(grant_q)), list(_benefit_rows(benefit_q))
    return _resolve_rows(grants, benefits)


def _resolve_for_grants(grant_ids: list[int], *, lock: bool) -> int:
    grant_q = Q(pk__in=grant_ids) & _naming()
    benefit_q = Q(grant_id__in=grant_ids) & _naming()
    grants, benefits = list(_grant_rows(grant_q)), list(_benefit_rows(benefit_q))
    if not grants and not benefits:
        return 0
    if lock:
        keys = set()
        for _pk, system_id, municipality_id, external_id, number, _ in grants + benefits:
            keys |= Reference(system_id, municipality_id, external_id, number).lock_keys()
        _lock(keys)
        grants, benefits = list(_grant_rows(grant_q)), list(_benefit_rows(benefit_q))
    return _resolve_rows(grants, benefits)


def _after_commit(function, *args) -> None:
    def run():
        try:
            with transaction.atomic():
                function(*args, lock=True)
        except Exception:  # the delivery is committed; the next change resolves again
            logger.exception("resolving case references after commit failed")

    transaction.on_commit(run)


# --- entry points for ingestion --------------------------------------------------------


def grants_written(grant_ids: Iterable[int]) -> None:
    """Grants were written with ``Resolver``'s answers: resolve them again after commit."""
    grant_ids = sorted(set(grant_ids))
    if grant_ids:
        _after_commit(_resolve_for_grants, grant_ids)


def cases_changed(cases: Iterable[tuple[int, int, str, str, str]]) -> int:
    """Cases were created, renumbered, moved, retracted or brought back: re-resolve what
    names them, now and again after commit. ``cases`` holds (case id, source system id,
    municipality code, external id, case number) — for a renumbered case both numbers.

    Returns how many references changed now.
    """
    cases = sorted(set(cases))
    if not cases:
        return 0
    changed = _resolve_for_cases(cases, lock=False)
    _after_commit(_resolve_for_cases, cases)
    return changed


def references_resolve_all() -> int:
    """Resolve every stored reference again (a repair; ``manage.py`` shell)."""
    with transaction.atomic():
        return _resolve_rows(list(_grant_rows(_naming())), list(_benefit_rows(_naming())))
