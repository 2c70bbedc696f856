"""Upserts, ordering by source time, replays, retraction, change history and derived data."""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction

from indexes.models import (
    Case,
    CaseDocument,
    CaseProgress,
    CaseRelation,
    Change,
    Document,
    Grant,
    GrantedBenefit,
    Payment,
    PaymentPlan,
)
from indexes.selectors import record_changes, record_get, record_to_payload, records_list
from indexes.services.errors import RecordNotFound, RecordRejected
from indexes.services.ingestion import Outcome, record_apply, record_retract, records_apply_many
from tests.indexes.factories import (
    CPR,
    OTHER_CPR,
    CaseFactory,
    SourceSystemFactory,
    benefit_payload,
    case_payload,
    document_payload,
    grant_payload,
    kle_ensure,
    payment_payload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

T1 = "2024-05-01T10:00:00+02:00"
T2 = "2024-05-02T10:00:00+02:00"
T3 = "2024-05-03T10:00:00+02:00"
T4 = "2024-05-04T10:00:00+02:00"


@pytest.fixture
def system():
    kle_ensure()
    return SourceSystemFactory()


def apply(system, kind, payload) -> Outcome:
    return record_apply(source_system=system, kind=kind, payload=payload)


def changes_of(outcome: Outcome) -> list[Change]:
    return list(record_changes(kind=outcome.kind, instance=outcome.instance))


# --- create, replay, update, stale -------------------------------------------------------------


def test_a_new_case_is_created_with_version_1_and_a_change_row(system):
    record = case_payload(source_timestamp=T1)
    outcome = apply(system, "case", record)
    assert (outcome.kind, outcome.external_id, outcome.outcome, outcome.version) == (
        "case",
        record["external_id"],
        "created",
        1,
    )
    [change] = changes_of(outcome)
    assert (change.action, change.version, change.source_system) == ("created", 1, system)
    assert change.diff["title"] == [None, record["title"]]
    assert change.source_timestamp == datetime.datetime.fromisoformat(T1)
    assert change.received_at == outcome.instance.received_at


def test_replaying_the_same_record_is_unchanged_and_writes_nothing(system):
    record = case_payload(source_timestamp=T1)
    first = apply(system, "case", record)
    for _ in range(3):
        again = apply(system, "case", record)
        assert (again.outcome, again.version, again.instance.pk) == (
            "unchanged",
            1,
            first.instance.pk,
        )
    assert Change.objects.count() == 1
    assert CaseProgress.objects.filter(case=first.instance).count() == 2


def test_a_newer_update_bumps_the_version_and_records_only_changed_fields(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    outcome = apply(
        system, "case", record | {"source_timestamp": T2, "title": "Afslag på kontanthjælp"}
    )
    assert (outcome.outcome, outcome.version) == ("updated", 2)
    change = changes_of(outcome)[-1]
    assert (change.action, change.version) == ("updated", 2)
    assert change.diff == {"title": ["Ansøgning om kontanthjælp", "Afslag på kontanthjælp"]}
    assert Case.objects.get().title == "Afslag på kontanthjælp"


def test_an_older_update_is_stale_and_writes_nothing(system):
    record = case_payload(source_timestamp=T2)
    apply(system, "case", record)
    outcome = apply(system, "case", record | {"source_timestamp": T1, "title": "Gammel titel"})
    assert (outcome.outcome, outcome.version) == ("stale", 1)
    case = Case.objects.get()
    assert (case.title, case.version) == (record["title"], 1)
    assert case.source_timestamp == datetime.datetime.fromisoformat(T2)
    assert Change.objects.count() == 1


def test_a_newer_identical_record_moves_the_timestamp_so_a_late_older_one_is_stale(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    newer = apply(system, "case", record | {"source_timestamp": T3})
    assert (newer.outcome, newer.version) == ("unchanged", 1)
    assert Case.objects.get().source_timestamp == datetime.datetime.fromisoformat(T3)
    late = apply(system, "case", record | {"source_timestamp": T2, "title": "Mellemversion"})
    assert late.outcome == "stale"
    assert Case.objects.get().title == record["title"]


def test_other_content_with_the_same_timestamp_is_rejected(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    with pytest.raises(RecordRejected) as rejected:
        apply(system, "case", record | {"title": "Samme tid, anden titel"})
    [problem] = rejected.value.problems
    assert (problem.pointer, problem.code) == ("/source_timestamp", "timestamp_conflict")
    assert "title" in problem.message


def test_a_reordered_list_is_not_a_change(system):
    for external_id in ("r1", "r2"):
        apply(system, "case", case_payload(external_id=external_id))
    record = case_payload(source_timestamp=T1, related_cases=["r1", "r2"])
    apply(system, "case", record)
    outcome = apply(
        system, "case", record | {"source_timestamp": T2, "related_cases": ["r2", "r1"]}
    )
    assert (outcome.outcome, outcome.version) == ("unchanged", 1)


# --- read back ------------------------------------------------------------------------------------


def _delivered_records(system):
    case = case_payload(
        source_timestamp=T1,
        description="Første linje\r\nAnden linje",
        party={"cpr": "010170-1234"},
        hidden_from_citizen=True,
        sensitivity="FOELSOMME_PERSONOPLYSNINGER",
    )
    document = document_payload(case_external_ids=[case["external_id"]], kle_number="32.18.02")
    grant = grant_payload(
        related_case=case["external_id"],
        benefits=[benefit_payload(), benefit_payload(kind="service", payment_plan=None)],
    )
    payment = payment_payload(
        grant_external_id=grant["external_id"],
        benefit_external_id=grant["benefits"][0]["external_id"],
        amount_sent=1000,
        amount_paid="999.5",
        paying_office="Ydelseskontoret",
    )
    return [("case", case), ("document", document), ("grant", grant), ("payment", payment)]


def test_a_record_read_back_and_delivered_again_is_unchanged(system):
    for kind, record in _delivered_records(system):
        outcome = apply(system, kind, record)
        instance = record_get(source_system=system, kind=kind, external_id=record["external_id"])
        payload = record_to_payload(kind=kind, instance=instance)
        assert set(payload) == set(record) | set(payload)  # every delivered field is read back
        again = apply(system, kind, payload)
        assert (again.outcome, again.version) == ("unchanged", outcome.version), kind


def test_read_back_normalises_cpr_amounts_and_times(system):
    records = dict(_delivered_records(system))
    for kind, record in records.items():
        apply(system, kind, record)
    case = record_get(source_system=system, kind="case", external_id=records["case"]["external_id"])
    payload = record_to_payload(kind="case", instance=case)
    assert payload["party"] == {"cpr": "0101701234"}
    assert payload["progress"][1] == {
        "status": "Oplyst",
        "from": "2024-04-20T09:00:00+02:00",
        "to": None,
    }
    payment = record_get(
        source_system=system, kind="payment", external_id=records["payment"]["external_id"]
    )
    payload = record_to_payload(kind="payment", instance=payment)
    assert (payload["amount_sent"], payload["amount_paid"]) == ("1000.00", "999.50")


def test_records_list_holds_only_the_systems_own_live_records_oldest_first(system):
    other = SourceSystemFactory()
    CaseFactory(source_system=other)
    first = apply(system, "case", case_payload())
    second = apply(system, "case", case_payload())
    gone = apply(system, "case", case_payload(source_timestamp=T1))
    record_retract(
        source_system=system, kind="case", external_id=gone.external_id, source_timestamp=T2
    )
    assert list(records_list(source_system=system, kind="case")) == [
        first.instance,
        second.instance,
    ]
    assert len(records_list(source_system=system, kind="case", include_retracted=True)) == 3


def test_another_systems_record_is_not_found(system):
    theirs = CaseFactory(source_system=SourceSystemFactory())
    with pytest.raises(RecordNotFound):
        record_get(source_system=system, kind="case", external_id=theirs.external_id)
    with pytest.raises(RecordNotFound):
        record_retract(
            source_system=system, kind="case", external_id=theirs.external_id, source_timestamp=T4
        )
    assert Case.objects.get(pk=theirs.pk).retracted_at is None


# --- progress and the derived status ---------------------------------------------------------


def test_status_and_last_change_come_from_the_progress_history(system):
    progress = [
        {
            "status": "Opstaaet",
            "from": "2024-04-02T09:00:00+02:00",
            "to": "2024-04-10T09:00:00+02:00",
        },
        {"status": "Afgjort", "from": "2024-04-10T09:00:00+02:00"},
    ]
    outcome = apply(system, "case", case_payload(progress=progress))
    case = Case.objects.get(pk=outcome.instance.pk)
    assert case.status == "Afgjort"
    assert case.last_changed_at == datetime.datetime.fromisoformat("2024-04-10T09:00:00+02:00")


def test_a_period_that_has_not_begun_is_not_yet_the_status(system):
    progress = [
        {
            "status": "Opstaaet",
            "from": "2024-04-02T09:00:00+02:00",
            "to": "2099-01-01T00:00:00+01:00",
        },
        {"status": "Afsluttet", "from": "2099-01-01T00:00:00+01:00"},
    ]
    outcome = apply(system, "case", case_payload(progress=progress))
    assert Case.objects.get(pk=outcome.instance.pk).status == "Opstaaet"


def test_the_progress_history_is_replaced_as_a_whole(system):
    record = case_payload(source_timestamp=T1)
    outcome = apply(system, "case", record)
    closed = [
        {
            "status": "Opstaaet",
            "from": "2024-04-02T09:00:00+02:00",
            "to": "2024-04-05T09:00:00+02:00",
        },
        {"status": "Afsluttet", "from": "2024-04-05T09:00:00+02:00"},
    ]
    updated = apply(system, "case", record | {"source_timestamp": T2, "progress": closed})
    rows = CaseProgress.objects.filter(case=outcome.instance).order_by("valid_from")
    assert [(p.status, p.valid_to is None) for p in rows] == [
        ("Opstaaet", False),
        ("Afsluttet", True),
    ]
    case = Case.objects.get(pk=outcome.instance.pk)
    assert (case.status, case.version) == ("Afsluttet", 2)
    assert set(changes_of(updated)[-1].diff) == {"progress"}


# --- retraction ----------------------------------------------------------------------------------


def test_retraction_keeps_a_tombstone_that_a_late_older_update_cannot_resurrect(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    retracted = record_retract(
        source_system=system, kind="case", external_id=record["external_id"], source_timestamp=T3
    )
    assert (retracted.outcome, retracted.version) == ("retracted", 2)
    assert changes_of(retracted)[-1].action == "retracted"
    with pytest.raises(RecordNotFound):
        record_get(source_system=system, kind="case", external_id=record["external_id"])
    for timestamp in (T2, T3):  # older, and equal: the retraction wins ties
        late = apply(system, "case", record | {"source_timestamp": timestamp, "title": "Sen"})
        assert late.outcome == "stale"
    case = Case.objects.get()
    assert case.retracted_at is not None and case.title == record["title"]


def test_retracting_again_is_unchanged_and_an_older_retraction_is_stale(system):
    record = case_payload(source_timestamp=T2)
    apply(system, "case", record)
    assert (
        record_retract(
            source_system=system,
            kind="case",
            external_id=record["external_id"],
            source_timestamp=T1,
        ).outcome
        == "stale"
    )
    record_retract(
        source_system=system, kind="case", external_id=record["external_id"], source_timestamp=T3
    )
    again = record_retract(
        source_system=system, kind="case", external_id=record["external_id"], source_timestamp=T3
    )
    assert (again.outcome, again.version) == ("unchanged", 2)
    assert Change.objects.filter(action="retracted").count() == 1


def test_a_newer_delivery_after_a_retraction_brings_the_record_back(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    record_retract(
        source_system=system, kind="case", external_id=record["external_id"], source_timestamp=T2
    )
    back = apply(system, "case", record | {"source_timestamp": T3})
    assert (back.outcome, back.version) == ("updated", 3)
    assert Case.objects.get().retracted_at is None
    assert "retracted_at" in changes_of(back)[-1].diff


def test_retracting_an_unknown_record_is_not_found_and_a_naive_time_is_rejected(system):
    with pytest.raises(RecordNotFound):
        record_retract(source_system=system, kind="case", external_id="nope", source_timestamp=T1)
    with pytest.raises(RecordRejected):
        record_retract(
            source_system=system,
            kind="case",
            external_id="nope",
            source_timestamp="2024-05-01T10:00",
        )


def test_a_retracted_case_cannot_receive_documents(system):
    record = case_payload(source_timestamp=T1)
    apply(system, "case", record)
    record_retract(
        source_system=system, kind="case", external_id=record["external_id"], source_timestamp=T2
    )
    with pytest.raises(RecordRejected) as rejected:
        apply(system, "document", document_payload(case_external_ids=[record["external_id"]]))
    assert rejected.value.problems[0].code == "unknown_case"


# --- references ----------------------------------------------------------------------------------


def test_a_related_case_delivered_later_is_resolved_when_it_arrives(system):
    first = apply(system, "case", case_payload(related_cases=["later-1"]))
    relation = CaseRelation.objects.get(case=first.instance)
    assert (relation.related_id, relation.related_external_id) == (None, "later-1")
    later = apply(system, "case", case_payload(external_id="later-1"))
    relation.refresh_from_db()
    assert relation.related_id == later.instance.pk


def test_a_related_case_id_of_another_system_is_not_resolved(system):
    CaseFactory(source_system=SourceSystemFactory(), external_id="theirs-1")
    outcome = apply(system, "case", case_payload(related_cases=["theirs-1"]))
    assert CaseRelation.objects.get(case=outcome.instance).related_id is None


def test_grant_and_benefit_related_cases_resolve_now_or_when_the_case_arrives(system):
    apply(system, "case", case_payload(external_id="known-case"))
    grant = grant_payload(
        related_case="known-case", benefits=[benefit_payload(related_case="future-case")]
    )
    apply(system, "grant", grant)
    stored = Grant.objects.get()
    benefit = GrantedBenefit.objects.get()
    assert stored.related_case.external_id == "known-case"
    assert (benefit.related_case_id, benefit.related_case_external_id) == (None, "future-case")
    apply(system, "case", case_payload(external_id="future-case"))
    benefit.refresh_from_db()
    assert benefit.related_case.external_id == "future-case"


def test_a_document_can_belong_to_several_cases_and_its_links_are_replaced(system):
    cases = [case_payload()["external_id"] for _ in range(3)]
    for external_id in cases:
        apply(system, "case", case_payload(external_id=external_id))
    record = document_payload(case_external_ids=cases[:2], source_timestamp=T1)
    outcome = apply(system, "document", record)
    assert CaseDocument.objects.filter(document=outcome.instance).count() == 2
    links = [
        {"case_external_id": cases[1], "role": "Journalnotat"},
        {"case_external_id": cases[2], "role": "Vedlagt"},
    ]
    updated = apply(system, "document", record | {"source_timestamp": T2, "cases": links})
    assert updated.outcome == "updated"
    assert sorted(
        CaseDocument.objects.filter(document=outcome.instance).values_list(
            "case__external_id", "role"
        )
    ) == [(cases[1], "Journalnotat"), (cases[2], "Vedlagt")]


# --- the benefit index -------------------------------------------------------------------------


def test_a_payment_takes_its_grants_party_and_follows_a_change_of_it(system):
    grant = grant_payload(source_timestamp=T1)
    apply(system, "grant", grant)
    payment = payment_payload(
        grant_external_id=grant["external_id"],
        benefit_external_id=grant["benefits"][0]["external_id"],
    )
    paid = apply(system, "payment", payment)
    assert Payment.objects.get(pk=paid.instance.pk).party_cpr == CPR
    apply(system, "grant", grant | {"source_timestamp": T2, "party": {"cpr": OTHER_CPR}})
    stored = Payment.objects.get(pk=paid.instance.pk)
    assert (stored.party_cpr, stored.version) == (OTHER_CPR, 1)
    apply(system, "grant", grant | {"source_timestamp": T3, "party": None})
    assert Payment.objects.get(pk=paid.instance.pk).party_cpr is None


def test_benefits_are_updated_in_place_added_and_removed(system):
    kept, dropped = benefit_payload(), benefit_payload()
    grant = grant_payload(source_timestamp=T1, benefits=[kept, dropped])
    apply(system, "grant", grant)
    kept_id = GrantedBenefit.objects.get(external_id=kept["external_id"]).pk
    changed = kept | {"name": "Uddannelseshjælp", "payment_plan": None}
    added = benefit_payload(kind="service", payment_plan=None)
    outcome = apply(system, "grant", grant | {"source_timestamp": T2, "benefits": [changed, added]})
    assert outcome.outcome == "updated"
    benefits = {b.external_id: b for b in GrantedBenefit.objects.all()}
    assert set(benefits) == {kept["external_id"], added["external_id"]}
    assert benefits[kept["external_id"]].pk == kept_id  # same row: payments keep pointing at it
    assert benefits[kept["external_id"]].name == "Uddannelseshjælp"
    assert not PaymentPlan.objects.filter(benefit_id=kept_id).exists()


def test_a_payment_of_a_retracted_grant_is_rejected(system):
    grant = grant_payload(source_timestamp=T1)
    apply(system, "grant", grant)
    record_retract(
        source_system=system, kind="grant", external_id=grant["external_id"], source_timestamp=T2
    )
    with pytest.raises(RecordRejected) as rejected:
        apply(
            system,
            "payment",
            payment_payload(
                grant_external_id=grant["external_id"],
                benefit_external_id=grant["benefits"][0]["external_id"],
            ),
        )
    assert rejected.value.problems[0].code == "unknown_grant"


# --- the bulk path ---------------------------------------------------------------------------------


def test_a_batch_gives_each_record_its_own_outcome_and_a_rejected_one_writes_nothing(system):
    good, bad = case_payload(), case_payload(title="")
    results = records_apply_many(source_system=system, items=[("case", good), ("case", bad)])
    assert isinstance(results[0], Outcome) and results[0].outcome == "created"
    assert isinstance(results[1], RecordRejected)
    assert ("/title", "blank") in {(p.pointer, p.code) for p in results[1].problems}
    assert list(Case.objects.values_list("external_id", flat=True)) == [good["external_id"]]


def test_deliveries_of_one_record_in_a_batch_apply_in_their_order(system):
    record = case_payload(source_timestamp=T2)
    results = records_apply_many(
        source_system=system,
        items=[
            ("case", record),
            ("case", record | {"source_timestamp": T1, "title": "Ældre"}),
            ("case", record),
            ("case", record | {"source_timestamp": T3, "title": "Nyere"}),
        ],
    )
    assert [r.outcome for r in results] == ["created", "stale", "unchanged", "updated"]
    assert (Case.objects.get().title, Case.objects.get().version) == ("Nyere", 2)


def test_a_batch_applies_cases_before_the_documents_and_payments_that_name_them(system):
    case = case_payload()
    grant = grant_payload()
    payment = payment_payload(
        grant_external_id=grant["external_id"],
        benefit_external_id=grant["benefits"][0]["external_id"],
    )
    document = document_payload(case_external_ids=[case["external_id"]])
    results = records_apply_many(
        source_system=system,
        items=[("payment", payment), ("document", document), ("grant", grant), ("case", case)],
    )
    assert [r.outcome for r in results] == ["created"] * 4
    assert Document.objects.get().cases.get().external_id == case["external_id"]


def test_two_new_cases_with_one_case_number_in_a_batch_first_come_first_served(system):
    first, second = case_payload(case_number="N-1"), case_payload(case_number="N-1")
    results = records_apply_many(source_system=system, items=[("case", first), ("case", second)])
    assert results[0].outcome == "created"
    assert results[1].problems[0].code == "case_number_taken"


def test_the_batch_path_and_the_single_path_store_the_same(system):
    records = [case_payload(related_cases=["x-9"]) for _ in range(3)]
    records_apply_many(source_system=system, items=[("case", r) for r in records])
    other = SourceSystemFactory(municipality__code="101")
    for record in records:
        single = record | {"municipality": "101", "case_number": record["case_number"] + "b"}
        apply(other, "case", single)
    for record in records:
        a, b = (
            record_to_payload(
                kind="case",
                instance=record_get(
                    source_system=s, kind="case", external_id=record["external_id"]
                ),
            )
            for s in (system, other)
        )
        assert a | {"municipality": "", "case_number": ""} == b | {
            "municipality": "",
            "case_number": "",
        }


def test_an_unknown_kind_in_a_batch_is_rejected_alone(system):
    results = records_apply_many(
        source_system=system, items=[("sag", {}), ("case", case_payload())]
    )
    assert results[0].problems[0].code == "unknown_kind"
    assert results[1].outcome == "created"


# --- concurrency -------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_a_new_record_create_it_once():
    """The second writer waits on the first's insert, fails on the unique key, and retries."""
    kle_ensure()
    system = SourceSystemFactory()
    record = case_payload()
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = record_apply(source_system=system, kind="case", payload=record)
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def second():
        try:
            results["second"] = record_apply(source_system=system, kind="case", payload=record)
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inserted.wait(10)
    two = threading.Thread(target=second)
    two.start()
    time.sleep(0.5)  # let the second block on the first's uncommitted row
    release.set()
    one.join(10)
    two.join(10)
    assert results["first"].outcome == "created"
    assert results["second"].outcome == "unchanged"
    assert Case.objects.filter(external_id=record["external_id"]).count() == 1
    assert Change.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_batch_refused_by_a_concurrent_insert_is_applied_record_by_record(caplog):
    """The batch's COPY fails on the unique key; each record then gets its own outcome."""
    caplog.set_level("INFO", logger="indexes.services.ingestion")
    kle_ensure()
    system = SourceSystemFactory()
    contested, other = case_payload(), case_payload()
    inserted, release = threading.Event(), threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                record_apply(source_system=system, kind="case", payload=contested)
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def batch():
        try:
            results["batch"] = records_apply_many(
                source_system=system, items=[("case", contested), ("case", other)]
            )
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inserted.wait(10)
    two = threading.Thread(target=batch)
    two.start()
    time.sleep(0.5)
    release.set()
    one.join(10)
    two.join(10)
    assert [r.outcome for r in results["batch"]] == ["unchanged", "created"]
    assert Case.objects.count() == 2
    assert "applying it in parts" in caplog.text


# --- the ORM fallback of the bulk writer (SQLite for ``make run``) -----------------------------


@pytest.fixture
def without_copy(monkeypatch):
    from indexes.services import bulk

    monkeypatch.setattr(bulk, "USE_COPY", False)


@pytest.mark.usefixtures("without_copy")
def test_the_orm_fallback_writes_the_same_records(system):
    records = dict(_delivered_records(system))
    for kind, record in records.items():
        assert apply(system, kind, record).outcome == "created"
    case = records["case"]
    updated = apply(
        system,
        "case",
        case | {"source_timestamp": T2, "title": "Ny titel", "related_cases": ["later-2"]},
    )
    assert (updated.outcome, updated.version) == ("updated", 2)
    apply(system, "case", case_payload(external_id="later-2"))
    assert CaseRelation.objects.get(case=updated.instance).related.external_id == "later-2"
    grant = records["grant"]
    changed = apply(
        system,
        "grant",
        grant | {"source_timestamp": T2, "benefits": [grant["benefits"][0], benefit_payload()]},
    )
    assert changed.outcome == "updated"
    assert GrantedBenefit.objects.filter(grant=changed.instance).count() == 2
    for kind, record in records.items():
        instance = record_get(source_system=system, kind=kind, external_id=record["external_id"])
        again = apply(system, kind, record_to_payload(kind=kind, instance=instance))
        assert again.outcome == "unchanged", kind
