"""Validation of delivered records: the shape (wire format) and the domain rules.

``shape_check`` runs the serializers of ``indexes.payloads``, compiled once into
plain functions, and returns the converted data plus every problem found. It
keeps whatever parsed, so the domain rules can still report their problems in
the same answer. Domain rules need the database (KLE, municipalities, the
system's own records); they read it through a ``Lookups`` object that the
caller fills with one query per kind of reference for a whole batch.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.fields import empty

from indexes.models import BenefitKind, ProgressStatus
from indexes.payloads import SERIALIZERS, FieldProblem, WireField
from indexes.services.errors import Problem, pointer_join

Checker = Callable[[Any, str, list[Problem]], Any]


class _Invalid:
    """A leaf value that did not parse (it is left out of the data)."""


INVALID = _Invalid()

PROGRESS_ORDER = {status: rank for rank, status in enumerate(ProgressStatus.values)}


# --- Shape: the compiled serializers ---------------------------------------------------


def _compile_leaf(field: WireField) -> Checker:
    check = field.check

    def run(value: Any, pointer: str, problems: list[Problem]) -> Any:
        try:
            return check(value)
        except FieldProblem as problem:
            problems.append(Problem(pointer, problem.code, problem.message))
            return INVALID

    return run


def _compile_list(field, child: Checker, child_field) -> Checker:
    allow_empty = getattr(field, "allow_empty", True)
    max_length = getattr(field, "max_length", None)
    child_nullable = child_field.allow_null
    child_null = getattr(child_field, "null_value", None)

    def item(value: Any, pointer: str, problems: list[Problem]) -> Any:
        if value is None:
            if child_nullable:
                return child_null
            problems.append(Problem(pointer, "null", "May not be null."))
            return INVALID
        return child(value, pointer, problems)

    def run(value: Any, pointer: str, problems: list[Problem]) -> Any:
        if not isinstance(value, list):
            problems.append(Problem(pointer, "invalid_type", "Must be a list."))
            return INVALID
        if not value and not allow_empty:
            problems.append(Problem(pointer, "required", "Must have at least one item."))
        if max_length is not None and len(value) > max_length:
            problems.append(Problem(pointer, "too_many", f"At most {max_length} items."))
            return INVALID
        return [item(each, f"{pointer}/{index}", problems) for index, each in enumerate(value)]

    return run


def _compile_field(field) -> Checker:
    if isinstance(field, serializers.ListSerializer):
        return _compile_list(field, _compile_object(field.child), field.child)
    if isinstance(field, serializers.ListField):
        return _compile_list(field, _compile_field(field.child), field.child)
    if isinstance(field, serializers.Serializer):
        return _compile_object(field)
    if isinstance(field, WireField):
        return _compile_leaf(field)
    raise TypeError(f"{type(field).__name__} is not a wire field; see indexes.payloads")


def _compile_object(serializer: serializers.Serializer) -> Checker:
    plan = []
    for name, field in serializer.fields.items():
        default = field.default
        plan.append(
            (
                name,
                field.required,
                field.allow_null,
                getattr(field, "null_value", None),
                default,
                _compile_field(field),
            )
        )
    known = {name for name, *_ in plan}

    def run(value: Any, pointer: str, problems: list[Problem]) -> Any:
        if not isinstance(value, dict):
            problems.append(Problem(pointer, "invalid_type", "Must be an object."))
            return INVALID
        # Unknown fields are refused: a misspelt "hidden_from_citizen" must not pass silently.
        for key in value:
            if key not in known:
                problems.append(
                    Problem(
                        pointer_join(pointer, key), "unknown_field", "Not a field of this record."
                    )
                )
        data: dict[str, Any] = {}
        for name, required, allow_null, null_value, default, check in plan:
            here = f"{pointer}/{name}"
            if name not in value:
                if required:
                    problems.append(Problem(here, "required", "This field is required."))
                elif default is not empty:
                    data[name] = default() if callable(default) else default
                continue
            item = value[name]
            if item is None:
                if allow_null:
                    data[name] = null_value
                else:
                    problems.append(Problem(here, "null", "May not be null."))
                continue
            result = check(item, here, problems)
            if result is not INVALID:
                data[name] = result
        return data

    return run


_CHECKERS: dict[str, Checker] = {}


def _checker(kind: str) -> Checker:
    checker = _CHECKERS.get(kind)
    if checker is None:
        checker = _CHECKERS[kind] = _compile_object(SERIALIZERS[kind]())
    return checker


def shape_check(*, kind: str, payload: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Check a record against the wire format; returns (data that parsed, problems)."""
    problems: list[Problem] = []
    data = _checker(kind)(payload, "", problems)
    if data is INVALID:
        data = {}
    return data, problems


# --- Domain rules ---------------------------------------------------------------------


@dataclass
class Lookups:
    """What the domain rules need from the database, loaded once per batch.

    ``subjects``/``facets`` map a KLE number/facet code to the model instance;
    ``cases`` maps an external id of the system's live cases to the case id;
    ``grants`` maps a grant's external id to ``(grant, {benefit external id: benefit})``;
    ``case_numbers`` maps a case number to the external id of the source system's own
    live case holding it (other systems' cases are never looked at: issue 12.4).
    """

    source_system: Any
    municipality_codes: Callable[[], set[str]]
    subjects: dict[str, Any] = dataclasses.field(default_factory=dict)
    facets: dict[str, Any] = dataclasses.field(default_factory=dict)
    cases: dict[str, int] = dataclasses.field(default_factory=dict)
    grants: dict[str, tuple[Any, dict[str, Any]]] = dataclasses.field(default_factory=dict)
    case_numbers: dict[str, str] = dataclasses.field(default_factory=dict)
    # For grants being updated: benefit external ids that have payments.
    benefits_with_payments: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    successors: Callable[[Any], list[str]] = lambda subject: []


def _check_municipality(data: dict, lookups: Lookups, problems: list[Problem]) -> None:
    code = data.get("municipality")
    if code is None or code == lookups.source_system.municipality_id:
        return
    if code not in lookups.municipality_codes():
        problems.append(
            Problem("/municipality", "unknown_municipality", "No municipality has this code.")
        )
    else:
        # Say only what the system may do, nothing about the other municipality's records.
        problems.append(
            Problem(
                "/municipality",
                "foreign_municipality",
                "A source system may only deliver records of its own municipality "
                f"({lookups.source_system.municipality_id}).",
            )
        )


def _check_kle(
    number: str | None,
    on: datetime.date | None,
    pointer: str,
    lookups: Lookups,
    problems: list[Problem],
) -> None:
    """The KLE emne must exist, be an emne and not have expired or moved before ``on``.

    KLE never deletes: an expired emne keeps its node with Historisk/UdgaaetDato and a
    moved one Historisk/Flyttet/FlyttetDato (KLE-Emneplan-version-2-0.xsd). A record
    dated before that day keeps its classification.
    """
    if number is None:
        return
    subject = lookups.subjects.get(number)
    if subject is None:
        problems.append(Problem(pointer, "unknown_kle", f"KLE number {number} does not exist."))
        return
    if subject.level != "emne":
        problems.append(
            Problem(
                pointer,
                "kle_not_topic",
                f"KLE number {number} is a {subject.level}; an emne (xx.xx.xx) is required.",
            )
        )
        return
    if on is None:
        return
    if subject.moved_on is not None and subject.moved_on <= on:
        successors = ", ".join(lookups.successors(subject)) or "see KLE"
        problems.append(
            Problem(
                pointer,
                "kle_moved",
                f"KLE number {number} was moved on {subject.moved_on.isoformat()} "
                f"(replaced by {successors}), before the record's date {on.isoformat()}.",
            )
        )
    elif subject.expired_on is not None and subject.expired_on <= on:
        problems.append(
            Problem(
                pointer,
                "kle_expired",
                f"KLE number {number} expired on {subject.expired_on.isoformat()}, "
                f"before the record's date {on.isoformat()}.",
            )
        )


def _check_facet(code: str | None, on: datetime.date | None, lookups, problems) -> None:
    if code is None:
        return
    facet = lookups.facets.get(code)
    if facet is None:
        problems.append(Problem("/facet", "unknown_facet", f"Action facet {code} does not exist."))
        return
    ended = facet.moved_on or facet.expired_on
    if on is not None and ended is not None and ended <= on:
        problems.append(
            Problem(
                "/facet",
                "facet_expired",
                f"Action facet {code} expired on {ended.isoformat()}, "
                f"before the record's date {on.isoformat()}.",
            )
        )


def _check_period(
    start: Any, end: Any, end_pointer: str, problems: list[Problem], *, inclusive: bool = True
) -> None:
    """An end before the start (or, for [from, to) periods, equal to it) is refused."""
    if start is None or end is None:
        return
    if end < start or (not inclusive and end == start):
        problems.append(
            Problem(end_pointer, "period_reversed", "The period ends before it starts.")
        )


def _check_party(party: Any, pointer: str, problems: list[Problem]) -> None:
    if not isinstance(party, dict):
        return
    given = [key for key in ("cpr", "cvr") if key in party]
    if len(given) > 1:
        problems.append(Problem(pointer, "party_ambiguous", "Give either cpr or cvr, not both."))
    elif not given and not any(p.pointer.startswith(f"{pointer}/") for p in problems):
        problems.append(Problem(pointer, "required", "Give cpr or cvr, or null for no party."))


def progress_problems(progress: list[dict]) -> list[Problem]:
    """SF1470 §Tilstand: Opstaaet → Oplyst → Afgjort → Afsluttet, no overlaps.

    The history starts with Opstaaet (an indexed case "må ikke mangle Opstaaet");
    statuses may be skipped but never repeated or reversed; periods are [from, to),
    listed oldest first, and only the last may be open.
    """
    problems: list[Problem] = []
    previous = None
    for index, period in enumerate(progress):
        if not isinstance(period, dict):
            continue
        here = f"/progress/{index}"
        status, start, end = period.get("status"), period.get("from"), period.get("to")
        _check_period(start, end, f"{here}/to", problems, inclusive=False)
        if index == 0 and status is not None and status != ProgressStatus.OPENED:
            problems.append(
                Problem(
                    f"{here}/status",
                    "progress_order",
                    "The history must start with Opstaaet.",
                )
            )
        if previous is not None:
            p_status, p_start, p_end = previous
            if start is not None and p_start is not None and start <= p_start:
                problems.append(
                    Problem(
                        f"{here}/from", "progress_order", "Periods must be listed oldest first."
                    )
                )
            elif start is not None and (p_end is None or start < p_end):
                problems.append(
                    Problem(
                        f"{here}/from",
                        "progress_overlap",
                        "The period overlaps the one before it (only the last may be open).",
                    )
                )
            if (
                status is not None
                and p_status is not None
                and PROGRESS_ORDER[status] <= PROGRESS_ORDER[p_status]
            ):
                problems.append(
                    Problem(
                        f"{here}/status",
                        "progress_order",
                        f"{status} cannot follow {p_status}: the order is "
                        "Opstaaet → Oplyst → Afgjort → Afsluttet.",
                    )
                )
        previous = (status, start, end)
    return problems


def _duplicates(values: Iterable[Any]) -> list[int]:
    seen: set[Any] = set()
    repeated = []
    for index, value in enumerate(values):
        if value is None:
            continue
        if value in seen:
            repeated.append(index)
        seen.add(value)
    return repeated


def _check_awaiting_party(data: dict, problems: list[Problem]) -> None:
    """A case that waits for its party is open and waited on no earlier than it began;
    what it waits for and by when belong to a wait, due no earlier than the wait began."""
    since = data.get("awaiting_party_since")
    due = data.get("awaiting_party_due")
    if since is None:
        # Absent, null or unparsable (reported already): a due date or a reason alone
        # would tell the citizen of a wait the source system does not say exists.
        if "awaiting_party_since" in data and since is None:
            if due is not None:
                problems.append(
                    Problem(
                        "/awaiting_party_due",
                        "due_without_wait",
                        "Only a case waiting for its party has a due date; "
                        "send awaiting_party_since too, or null.",
                    )
                )
            if data.get("awaiting_party_reason"):
                problems.append(
                    Problem(
                        "/awaiting_party_reason",
                        "reason_without_wait",
                        "Only a case waiting for its party says what it waits for; "
                        "send awaiting_party_since too, or leave it empty.",
                    )
                )
        return
    if isinstance(due, datetime.date) and due < timezone.localtime(since).date():
        problems.append(
            Problem(
                "/awaiting_party_due",
                "due_before_wait",
                "Must not be before the day the wait began (awaiting_party_since).",
            )
        )
    progress = [p for p in data.get("progress") or [] if isinstance(p, dict)]
    if any(p.get("status") == ProgressStatus.CLOSED for p in progress):
        problems.append(
            Problem(
                "/awaiting_party_since",
                "awaiting_closed_case",
                "A case with an Afsluttet period cannot be waiting for its party; send null.",
            )
        )
    created_on = data.get("created_on")
    if isinstance(created_on, datetime.date) and timezone.localtime(since).date() < created_on:
        problems.append(
            Problem(
                "/awaiting_party_since",
                "awaiting_before_created",
                "Must not be before the case's created_on.",
            )
        )


def case_problems(data: dict, lookups: Lookups, problems: list[Problem]) -> None:
    created_on = data.get("created_on")
    _check_municipality(data, lookups, problems)
    _check_kle(data.get("kle_number"), created_on, "/kle_number", lookups, problems)
    _check_facet(data.get("facet"), created_on, lookups, problems)
    if "party" in data:
        _check_party(data["party"], "/party", problems)
    for index, party in enumerate(data.get("secondary_parties") or []):
        _check_party(party, f"/secondary_parties/{index}", problems)
    if data.get("benefit_recipient") is not None:
        _check_party(data["benefit_recipient"], "/benefit_recipient", problems)
    residence = data.get("residence_municipality")
    if residence is not None and residence not in lookups.municipality_codes():
        problems.append(
            Problem(
                "/residence_municipality",
                "unknown_municipality",
                "No municipality has this code.",
            )
        )
    problems.extend(progress_problems(data.get("progress") or []))
    _check_awaiting_party(data, problems)
    external_id = data.get("external_id")
    for index, related in enumerate(data.get("related_cases") or []):
        if external_id is not None and related == external_id:
            problems.append(
                Problem(
                    f"/related_cases/{index}", "related_self", "A case cannot relate to itself."
                )
            )
    number = data.get("case_number")
    if number is not None and external_id is not None and number in lookups.case_numbers:
        holder = lookups.case_numbers[number]
        if holder != external_id:
            # Unique per source system among live cases (issue 12.4): only the system's own
            # cases are looked at, so no answer tells anything about another system's.
            problems.append(
                Problem(
                    "/case_number",
                    "case_number_taken",
                    "Another live case of this source system already has this case number.",
                )
            )


def document_problems(data: dict, lookups: Lookups, problems: list[Problem]) -> None:
    _check_municipality(data, lookups, problems)
    for party in ("sender", "recipient"):
        if data.get(party) is not None:
            _check_party(data[party], f"/{party}", problems)
    timestamp = data.get("source_timestamp")
    on = data.get("letter_date") or (timestamp.date() if timestamp else None)
    _check_kle(data.get("kle_number"), on, "/kle_number", lookups, problems)
    links = [link if isinstance(link, dict) else {} for link in data.get("cases") or []]
    for index in _duplicates(link.get("case_external_id") for link in links):
        problems.append(
            Problem(
                f"/cases/{index}/case_external_id",
                "duplicate",
                "The document is linked to this case more than once.",
            )
        )
    for index, link in enumerate(links):
        case_id = link.get("case_external_id")
        if case_id is not None and case_id not in lookups.cases:
            problems.append(
                Problem(
                    f"/cases/{index}/case_external_id",
                    "unknown_case",
                    "This source system has no case with this external id.",
                )
            )


def grant_problems(data: dict, lookups: Lookups, problems: list[Problem]) -> None:
    _check_municipality(data, lookups, problems)
    if data.get("recipient") is not None:
        _check_party(data["recipient"], "/recipient", problems)
    _check_period(data.get("start_on"), data.get("end_on"), "/end_on", problems)
    benefits = [b if isinstance(b, dict) else {} for b in data.get("benefits") or []]
    for index in _duplicates(b.get("external_id") for b in benefits):
        problems.append(
            Problem(
                f"/benefits/{index}/external_id",
                "duplicate",
                "Another benefit of this grant has the same external id.",
            )
        )
    for index, benefit in enumerate(benefits):
        here = f"/benefits/{index}"
        _check_kle(
            benefit.get("kle_number"),
            benefit.get("start_on"),
            f"{here}/kle_number",
            lookups,
            problems,
        )
        _check_period(benefit.get("start_on"), benefit.get("end_on"), f"{here}/end_on", problems)
        plan = benefit.get("payment_plan")
        if isinstance(plan, dict):
            if benefit.get("kind") == BenefitKind.SERVICE:
                problems.append(
                    Problem(
                        f"{here}/payment_plan",
                        "payment_plan_not_economic",
                        "Only an economic benefit (oekonomisk) has a payment plan.",
                    )
                )
            _check_period(
                plan.get("start_on"), plan.get("end_on"), f"{here}/payment_plan/end_on", problems
            )
    external_id = data.get("external_id")
    paid = lookups.benefits_with_payments.get(external_id, set()) if external_id else set()
    delivered = {b.get("external_id") for b in benefits}
    if "benefits" in data and paid - delivered:
        problems.append(
            Problem(
                "/benefits",
                "benefit_has_payments",
                "A benefit that has payments cannot be removed; retract its payments first.",
            )
        )


def payment_problems(data: dict, lookups: Lookups, problems: list[Problem]) -> None:
    _check_municipality(data, lookups, problems)
    period = data.get("period")
    if isinstance(period, dict):
        _check_period(period.get("start"), period.get("end"), "/period/end", problems)
    grant_id = data.get("grant_external_id")
    if grant_id is None:
        return
    found = lookups.grants.get(grant_id)
    if found is None:
        problems.append(
            Problem(
                "/grant_external_id",
                "unknown_grant",
                "This source system has no grant with this external id.",
            )
        )
        return
    benefit_id = data.get("benefit_external_id")
    if benefit_id is None:
        return
    benefit = found[1].get(benefit_id)
    if benefit is None:
        problems.append(
            Problem(
                "/benefit_external_id",
                "unknown_benefit",
                "The grant has no benefit with this external id.",
            )
        )
    elif benefit.kind != BenefitKind.ECONOMIC:
        problems.append(
            Problem(
                "/benefit_external_id",
                "benefit_not_economic",
                "Payments belong to economic benefits (oekonomisk) only.",
            )
        )
