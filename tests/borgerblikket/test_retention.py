"""Retention: exactly the due cases, documents and benefits leave the index, nothing else.

The rule is ``borgerblikket.selectors.retention``'s docstring; ``retention_world.due`` is
the same rule in plain Python, and the generated index is checked against it.
"""

import datetime as dt
import random

import pytest
from django.core.management import call_command

from borgerblikket.models import RetentionCount, RetentionRun, SheetChange
from borgerblikket.selectors.retention import cases_due, retention_due_counts, retention_preview
from borgerblikket.services.retention import retention_run
from borgerblikket.services.sheets import sheet_settings_update
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
    Municipality,
    Payment,
    PaymentPlan,
    ProgressStatus,
)
from indexes.services.references import references_resolve_all
from tests.borgerblikket import retention_world as w
from tests.indexes import factories as ix

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = w.TZ
TODAY = dt.date(2025, 6, 15)
NOON = dt.datetime(2025, 6, 15, 12, tzinfo=TZ)


def run_on(day: dt.date, **kwargs) -> RetentionRun:
    return retention_run(
        trigger=RetentionRun.Trigger.COMMAND,
        now=dt.datetime.combine(day, dt.time(3, 0), TZ),
        **kwargs,
    )


def set_municipal(code: str, days: int | None) -> None:
    sheet_settings_update(
        municipality=Municipality.objects.get(code=code),
        values={"retention_days": days},
        user=None,
    )


@pytest.fixture
def system():
    w.build(random.Random(0), today=TODAY, count=0)  # the KLE periods and the systems
    return ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=w.ODENSE))


# --- the boundary days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "gone"),
    [(-1, False), (0, True), (1, True)],
    ids=["the-day-before", "the-day-of", "the-day-after"],
)
@pytest.mark.parametrize(
    ("kle", "municipal", "days"),
    [
        ("32.18.02", None, 1800),  # KLE's period
        ("32.18.02", 30, 30),  # the municipality's shorter one
        ("15.17.26", 3000, 120),  # a longer municipal setting does not extend KLE's
        ("02.00.10", 45, 45),  # KLE gives none: the municipality's
    ],
    ids=["kle", "municipal-shorter", "municipal-longer", "municipal-only"],
)
def test_a_case_goes_on_the_day_its_period_has_run_from_closing(
    system, kle, municipal, days, offset, gone
):
    set_municipal(w.ODENSE, municipal)
    closed_at = dt.datetime(2018, 3, 1, 10, tzinfo=TZ)
    case = w.closed_case(system, closed_at=closed_at, kle=kle)
    day = closed_at.date() + dt.timedelta(days=days + offset)
    assert cases_due(today=day).filter(pk=case.pk).exists() is gone
    run_on(day)
    assert Case.objects.filter(pk=case.pk).exists() is not gone


@pytest.mark.parametrize("hour", [0, 1, 23])
def test_the_closing_day_is_the_day_in_copenhagen(system, hour):
    """Closed at 00:30 in Copenhagen is the previous day in UTC: the Danish day counts."""
    set_municipal(w.ODENSE, 10)
    closed_at = dt.datetime(2024, 3, 1, hour, 30, tzinfo=TZ)
    case = w.closed_case(system, closed_at=closed_at)
    assert not cases_due(today=dt.date(2024, 3, 10)).filter(pk=case.pk).exists()
    assert cases_due(today=dt.date(2024, 3, 11)).filter(pk=case.pk).exists()


def test_no_period_anywhere_keeps_a_case_for_ever(system):
    case = w.closed_case(system, closed_at=dt.datetime(1990, 1, 1, tzinfo=TZ), kle="02.00.10")
    run_on(TODAY)
    assert Case.objects.filter(pk=case.pk).exists()


# --- open cases -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "progress",
    [
        [("Opstaaet", 1)],
        [("Opstaaet", 1), ("Oplyst", 2), ("Afgjort", 3)],
        [("Opstaaet", 1), ("Afsluttet", 2), ("Oplyst", 3)],  # reopened
    ],
    ids=["opened", "decided", "reopened"],
)
def test_open_cases_never_go_however_old(system, progress):
    set_municipal(w.ODENSE, 1)
    periods = [(s, dt.datetime(2000 + year, 1, 1, tzinfo=TZ)) for s, year in progress]
    case = ix.CaseFactory(source_system=system, progress=periods, created_on=dt.date(2001, 1, 1))
    assert case.status != ProgressStatus.CLOSED
    run_on(TODAY)
    assert Case.objects.filter(pk=case.pk).exists()


# --- the generated index -----------------------------------------------------------------------


def _remaining(model, ids):
    return set(model.objects.filter(pk__in=ids).values_list("pk", flat=True))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_generated_index_loses_exactly_the_due_records(seed):
    rng = random.Random(seed)
    municipal = {w.ODENSE: rng.choice([None, 30]), w.FREDENSBORG: rng.choice([None, 30, 90])}
    specs = w.build(rng, today=TODAY, count=45)
    for code, days in municipal.items():
        set_municipal(code, days)
    # Records nobody's retention touches: a document of no case, a grant of no case.
    lone_document = ix.DocumentFactory(source_system=Case.objects.first().source_system)
    lone_grant = ix.GrantFactory(status="Inaktiv")
    due = {s.case_id for s in specs if w.due(s, today=TODAY, municipal=municipal)}
    kept = {s.case_id for s in specs} - due
    assert 0 < len(due) < len(specs), "the generated index must have both"
    documents_kept = {d for s in specs if s.case_id in kept for d in s.document_ids}
    documents_all = {d for s in specs for d in s.document_ids}

    assert set(cases_due(today=TODAY).values_list("pk", flat=True)) == due
    counts_before = retention_due_counts(today=TODAY)
    run = run_on(TODAY, batch_size=7)

    assert set(Case.objects.values_list("pk", flat=True)) == kept
    assert _remaining(Document, documents_all) == documents_kept
    assert Document.objects.filter(pk=lone_document.pk).exists()
    for spec in specs:
        going = spec.case_id in due
        for model, ids in (
            (Grant, spec.grant_ids),
            (GrantedBenefit, spec.benefit_ids),
            (Payment, spec.payment_ids),
        ):
            assert _remaining(model, ids) == (set() if going else set(ids)), (model, spec)
    assert Grant.objects.filter(pk=lone_grant.pk).exists()
    assert not CaseProgress.objects.filter(case_id__in=due).exists()
    assert not CaseDocument.objects.filter(case_id__in=due).exists()
    assert not CaseRelation.objects.filter(case_id__in=due).exists()
    assert not CaseRelation.objects.filter(related_id__in=due).exists()
    assert PaymentPlan.objects.count() == GrantedBenefit.objects.count()
    # History: only that of records still there.
    for kind, model in (
        ("case", Case),
        ("document", Document),
        ("grant", Grant),
        ("payment", Payment),
    ):
        ids = set(Change.objects.filter(record_type=kind).values_list("record_id", flat=True))
        assert ids <= set(model.objects.values_list("pk", flat=True)), kind
    # The preview said what the run did; a second run finds nothing.
    assert _audit(run) == counts_before
    assert retention_due_counts(today=TODAY) == {}
    assert _audit(run_on(TODAY)) == {}


def _audit(run: RetentionRun) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for count in run.counts.exclude(kind=RetentionCount.Kind.ACCESS_LOG):
        out.setdefault(count.municipality_id, {})[count.kind] = count.count
    return out


# --- what hangs on a case -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "kept"), [("Aktiv", True), ("Passiv", True), ("Inaktiv", False)]
)
def test_a_running_grant_keeps_its_case_an_ended_one_goes_with_it(system, status, kept):
    case = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    grant = ix.GrantFactory(source_system=system, related_case=case, status=status)
    benefit = ix.GrantedBenefitFactory(grant=grant, status="Inaktiv")
    plan = ix.PaymentPlanFactory(benefit=benefit)
    payment = ix.PaymentFactory(benefit=benefit)
    run_on(TODAY)
    for obj in (case, grant, benefit, plan, payment):
        assert type(obj).objects.filter(pk=obj.pk).exists() is kept, obj


def test_a_running_benefit_on_the_case_keeps_it(system):
    """A benefit naming the case itself (its grant names none) holds the case too."""
    case = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    grant = ix.GrantFactory(source_system=system, status="Inaktiv")
    benefit = ix.GrantedBenefitFactory(grant=grant, related_case=case, status="Aktiv")
    run_on(TODAY)
    assert Case.objects.filter(pk=case.pk).exists()
    GrantedBenefit.objects.filter(pk=benefit.pk).update(status="Inaktiv")
    run_on(TODAY)
    assert not Case.objects.filter(pk=case.pk).exists()
    assert not GrantedBenefit.objects.filter(pk=benefit.pk).exists()
    assert Grant.objects.filter(pk=grant.pk).exists()  # the grant is not the case's


def test_a_document_shared_with_a_case_that_stays_stays(system):
    old = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    recent = w.closed_case(system, closed_at=dt.datetime(2025, 1, 1, tzinfo=TZ))
    shared = ix.DocumentFactory(source_system=system, cases=[old, recent])
    only_old = ix.DocumentFactory(source_system=system, cases=[old])
    run_on(TODAY)
    assert Document.objects.filter(pk=shared.pk).exists()
    assert list(CaseDocument.objects.filter(document=shared).values_list("case_id", flat=True)) == [
        recent.pk
    ]
    assert not Document.objects.filter(pk=only_old.pk).exists()


# --- cross-system references -----------------------------------------------------------------


def test_a_relation_to_a_deleted_case_becomes_pending(system):
    old = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    open_case = ix.CaseFactory(source_system=system)
    relation = CaseRelation.objects.create(
        case=open_case, related=old, related_external_id=old.external_id
    )
    run_on(TODAY)
    relation.refresh_from_db()
    assert (relation.related_id, relation.related_external_id) == (None, old.external_id)


def test_a_grant_naming_a_shared_number_resolves_to_the_case_that_is_left(system):
    """Two systems hold case number S-1 (the grant's reference is ambiguous: nothing). When
    retention deletes one, the number names one case again, as after a retraction."""
    other = ix.SourceSystemFactory(municipality=system.municipality)
    payments = ix.SourceSystemFactory(municipality=system.municipality)
    old = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ), case_number="S-1")
    live = ix.CaseFactory(source_system=other, case_number="S-1")
    grant = ix.GrantFactory(source_system=payments, related_case_number="S-1", status="Aktiv")
    references_resolve_all()
    grant.refresh_from_db()
    assert grant.related_case_id is None  # ambiguous
    run_on(TODAY)
    assert not Case.objects.filter(pk=old.pk).exists()
    grant.refresh_from_db()
    assert grant.related_case_id == live.pk


def test_a_grant_resolved_by_number_from_another_system_goes_with_the_case(system):
    """KMD Ydelse's grant naming FASIT's case by number is that case's benefit."""
    payments = ix.SourceSystemFactory(municipality=system.municipality)
    old = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ), case_number="J-9")
    grant = ix.GrantFactory(source_system=payments, related_case_number="J-9", status="Inaktiv")
    references_resolve_all()
    grant.refresh_from_db()
    assert grant.related_case_id == old.pk
    run_on(TODAY)
    assert not Grant.objects.filter(pk=grant.pk).exists()


# --- the audit -------------------------------------------------------------------------------------


def test_the_audit_counts_per_municipality_and_kind_and_holds_no_ids(system):
    fredensborg = ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=w.FREDENSBORG))
    for s in (system, system, fredensborg):
        case = w.closed_case(s, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
        ix.DocumentFactory(source_system=s, cases=[case])
        w.history("case", case, s)
    run = run_on(TODAY)
    assert run.status == RetentionRun.Status.FINISHED and run.finished_at and run.batches == 1
    assert _audit(run) == {
        w.ODENSE: {"case": 2, "document": 2, "change": 2},
        w.FREDENSBORG: {"case": 1, "document": 1, "change": 1},
    }
    # The audit's columns: counts, kinds, municipalities, times — nothing of a record.
    assert {f.name for f in RetentionCount._meta.get_fields()} == {
        "id",
        "run",
        "municipality",
        "kind",
        "count",
    }


def test_a_failed_run_is_audited_with_what_it_committed(system, monkeypatch):
    for _ in range(3):
        w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    from borgerblikket.services import retention

    real = retention._delete_batch
    calls = []

    def fail_second(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full, case 2024-000001")
        return real(**kwargs)

    monkeypatch.setattr(retention, "_delete_batch", fail_second)
    with pytest.raises(RuntimeError):
        run_on(TODAY, batch_size=1)
    run = RetentionRun.objects.get()
    assert (run.status, run.error, run.batches) == ("failed", "RuntimeError", 1)
    assert _audit(run) == {w.ODENSE: {"case": 1}}
    assert Case.objects.count() == 2  # the failed batch rolled back whole


# --- the municipal setting ---------------------------------------------------------------------


def test_the_municipal_setting_is_in_the_sheets_history(system):
    set_municipal(w.ODENSE, 365)
    change = SheetChange.objects.get(target="settings")
    assert change.after["retention_days"] == 365
    set_municipal(w.ODENSE, None)
    latest = SheetChange.objects.order_by("-id").first()
    assert (latest.before["retention_days"], latest.after["retention_days"]) == (365, None)


def test_a_municipal_setting_of_zero_is_refused(system):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as caught:
        set_municipal(w.ODENSE, 0)
    assert "retention_days" in caught.value.message_dict


# --- the access log --------------------------------------------------------------------------


def test_the_access_log_older_than_its_retention_goes(system, settings):
    settings.OVERBLIK_ACCESS_LOG_RETENTION_DAYS = 100
    now = dt.datetime.combine(TODAY, dt.time(3, 0), TZ)
    cutoff = now - dt.timedelta(days=100)
    rows = {}
    for name, at in (
        ("older", cutoff - dt.timedelta(seconds=1)),
        ("at", cutoff),
        ("newer", cutoff + dt.timedelta(days=1)),
    ):
        rows[name] = DataAccess.objects.create(
            citizen_cpr=ix.CPR,
            actor_type=DataAccess.Actor.MUNICIPAL_ADMIN,
            municipality_id=w.ODENSE,
            accessed_at=at,
        )
    national = DataAccess.objects.create(
        citizen_cpr=ix.CPR,
        actor_type=DataAccess.Actor.SUPPORT,
        accessed_at=cutoff - dt.timedelta(days=9),
    )
    run = run_on(TODAY)
    assert set(DataAccess.objects.values_list("pk", flat=True)) == {rows["at"].pk, rows["newer"].pk}
    assert not DataAccess.objects.filter(pk=national.pk).exists()
    counts = {(c.municipality_id, c.kind): c.count for c in run.counts.all()}
    assert counts == {(w.ODENSE, "access_log"): 1, (None, "access_log"): 1}
    assert run.access_log_cutoff == cutoff


# --- the preview --------------------------------------------------------------------------------


def test_the_preview_groups_cases_by_municipality_area_and_month(system):
    set_municipal(w.ODENSE, 30)
    w.closed_case(system, closed_at=dt.datetime(2025, 1, 1, tzinfo=TZ))  # due 31 Jan: now
    w.closed_case(system, closed_at=dt.datetime(2025, 6, 1, tzinfo=TZ))  # 1 July
    w.closed_case(system, closed_at=dt.datetime(2025, 6, 5, tzinfo=TZ))  # 5 July
    w.closed_case(system, closed_at=dt.datetime(2025, 6, 5, tzinfo=TZ), kle="15.17.26")
    w.closed_case(system, closed_at=dt.datetime(2026, 9, 1, tzinfo=TZ))  # beyond 12 months
    rows = [(r.municipality, r.area, r.month, r.cases) for r in retention_preview(today=TODAY)]
    assert rows == [
        (w.ODENSE, "15", dt.date(2025, 7, 1), 1),
        (w.ODENSE, "32", None, 1),
        (w.ODENSE, "32", dt.date(2025, 7, 1), 2),
    ]
    assert retention_preview(today=TODAY, municipality_codes=[w.FREDENSBORG]) == []


# --- the command ---------------------------------------------------------------------------------


def test_the_command_dry_run_deletes_nothing_and_the_run_deletes(system, capsys):
    case = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=TZ))
    call_command("retention_run", "--dry-run")
    out = capsys.readouterr().out
    assert f"{w.ODENSE}: 1 case" in out and Case.objects.filter(pk=case.pk).exists()
    assert not RetentionRun.objects.exists()
    call_command("retention_run", "--batch-size", "5")
    out = capsys.readouterr().out
    assert f"{w.ODENSE}: 1 case" in out and not Case.objects.filter(pk=case.pk).exists()
    assert RetentionRun.objects.get().trigger == "command"
    assert case.party_cpr not in out and case.case_number not in out
