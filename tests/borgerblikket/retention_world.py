"""A generated index with known closing dates, and the retention rule written out in Python.

``build(rng, ...)`` writes cases (open, closed, reopened) of two municipalities on KLE emner
with and without a deletion period, each with a document, some documents shared by two
cases, grants with benefits and payments (some still running), relations between cases
and history rows, and returns ``Spec``s: what each case is. ``due(spec, today=…,
municipal=…)`` is the rule of ``borgerblikket.selectors.retention`` as plain Python — the
oracle the SQL is checked against.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from indexes.models import Case, CaseDocument, CaseRelation, Change, ProgressStatus
from kle.models import Subject
from tests.indexes import factories as ix

TZ = ix.TZ
ODENSE, FREDENSBORG = "461", "210"
# KLE emner of the generated index and their deletion periods (None: KLE gives none).
KLE_PERIODS: dict[str, int | None] = {"32.18.02": 1800, "15.17.26": 120, "02.00.10": None}


@dataclass
class Spec:
    case_id: int
    municipality: str
    kle: str
    closed_on: dt.date | None  # None: not closed (open, decided or reopened)
    running_benefit: bool = False
    document_ids: list[int] = field(default_factory=list)
    grant_ids: list[int] = field(default_factory=list)
    benefit_ids: list[int] = field(default_factory=list)
    payment_ids: list[int] = field(default_factory=list)


def period_days(spec: Spec, *, municipal: dict[str, int | None]) -> int | None:
    periods = [p for p in (KLE_PERIODS[spec.kle], municipal.get(spec.municipality)) if p]
    return min(periods) if periods else None


def due(spec: Spec, *, today: dt.date, municipal: dict[str, int | None]) -> bool:
    """The retention rule, written out: closed, a period applies and has run, nothing runs."""
    days = period_days(spec, municipal=municipal)
    if spec.closed_on is None or days is None or spec.running_benefit:
        return False
    return spec.closed_on + dt.timedelta(days=days) <= today


def history(kind: str, record, system) -> None:
    Change.objects.create(
        record_type=kind,
        record_id=record.pk,
        action=Change.Action.CREATED,
        version=1,
        source_system=system,
        received_at=record.received_at,
        diff={"external_id": [None, record.external_id]},
    )


def closed_case(system, *, closed_at: dt.datetime, kle: str = "32.18.02", **kwargs):
    """A case opened a year before ``closed_at`` and closed then."""
    opened = closed_at - dt.timedelta(days=365)
    return ix.CaseFactory(
        source_system=system,
        kle_subject=ix.SubjectFactory(number=kle),
        created_on=opened.date(),
        progress=[(ProgressStatus.OPENED, opened), (ProgressStatus.CLOSED, closed_at)],
        **kwargs,
    )


def build(rng: random.Random, *, today: dt.date, count: int = 40) -> list[Spec]:
    """``count`` cases with closing days spread around ``today`` minus each period."""
    ix.kle_ensure(*KLE_PERIODS)
    for number, days in KLE_PERIODS.items():
        Subject.objects.filter(number=number).update(
            deletion_period=dt.timedelta(days=days) if days else None
        )
    by_code = {
        code: ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=code))
        for code in (ODENSE, FREDENSBORG)
    }
    specs: list[Spec] = []
    for _ in range(count):
        code = rng.choice((ODENSE, FREDENSBORG))
        system = by_code[code]
        kle = rng.choice(list(KLE_PERIODS))
        shape = rng.choices(("closed", "open", "reopened", "decided"), weights=(6, 1, 1, 1))[0]
        # Around the interesting days: either period (KLE or a municipal 30) ± 2 days.
        base = rng.choice([KLE_PERIODS[kle] or 400, 30, 3000])
        closed_on = today - dt.timedelta(days=base + rng.randint(-2, 2))
        # Any hour, so the Copenhagen day and the UTC day differ for some cases.
        closed_at = dt.datetime.combine(closed_on, dt.time(rng.choice((0, 1, 12, 23)), 30), TZ)
        opened = closed_at - dt.timedelta(days=rng.randint(10, 900))
        if shape == "closed":
            progress = [(ProgressStatus.OPENED, opened), (ProgressStatus.CLOSED, closed_at)]
        elif shape == "reopened":
            progress = [
                (ProgressStatus.OPENED, opened),
                (ProgressStatus.CLOSED, closed_at - dt.timedelta(days=5)),
                (ProgressStatus.INFORMED, closed_at),
            ]
        elif shape == "decided":
            progress = [(ProgressStatus.OPENED, opened), (ProgressStatus.DECIDED, closed_at)]
        else:
            progress = [(ProgressStatus.OPENED, opened)]
        case = ix.CaseFactory(
            source_system=system,
            kle_subject=Subject.objects.get(number=kle),
            created_on=opened.date(),
            progress=progress,
        )
        history("case", case, system)
        spec = Spec(case.pk, code, kle, closed_on if shape == "closed" else None)
        document = ix.DocumentFactory(source_system=system, cases=[case])
        history("document", document, system)
        spec.document_ids.append(document.pk)
        if specs and rng.random() < 0.25:  # a document shared with an earlier case
            other = rng.choice([s for s in specs if s.municipality == code] or [spec])
            if other is not spec:
                shared = ix.DocumentFactory(source_system=system)
                for case_id in (case.pk, other.case_id):
                    CaseDocument.objects.create(case_id=case_id, document=shared, role="Vedlagt")
                spec.document_ids.append(shared.pk)
                other.document_ids.append(shared.pk)
        if rng.random() < 0.5:
            status = rng.choices(("Inaktiv", "Aktiv", "Passiv"), weights=(4, 1, 1))[0]
            grant = ix.GrantFactory(
                source_system=system, related_case=case, party_cpr=case.party_cpr, status=status
            )
            history("grant", grant, system)
            benefit = ix.GrantedBenefitFactory(grant=grant, status="Inaktiv")
            ix.PaymentPlanFactory(benefit=benefit)
            payment = ix.PaymentFactory(benefit=benefit)
            history("payment", payment, system)
            spec.grant_ids.append(grant.pk)
            spec.benefit_ids.append(benefit.pk)
            spec.payment_ids.append(payment.pk)
            spec.running_benefit = status != "Inaktiv"
        if specs and rng.random() < 0.2:  # a relation to an earlier case of the system
            other = rng.choice([s for s in specs if s.municipality == code] or [spec])
            if other is not spec:
                CaseRelation.objects.create(
                    case_id=case.pk,
                    related_id=other.case_id,
                    related_external_id=Case.objects.get(pk=other.case_id).external_id,
                )
        specs.append(spec)
    return specs
