"""Every validation rule of the ingestion services: pointer, code, no CPR in messages, nothing written."""

import datetime
import re

import pytest

from indexes.models import Case, Change, Document, Grant, Payment
from indexes.services.errors import RecordRejected
from indexes.services.ingestion import record_apply, record_validate, records_validate_many
from tests.indexes.factories import (
    CPR,
    CVR,
    CaseFactory,
    PaymentFactory,
    SourceSystemFactory,
    SubjectFactory,
    benefit_payload,
    case_payload,
    document_payload,
    grant_payload,
    kle_ensure,
    payment_payload,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def system():
    kle_ensure()
    return SourceSystemFactory()  # Odense, 461


def problems_of(system, kind, payload):
    """The problems of a rejected record, after checking nothing was written."""
    counts = [m.objects.count() for m in (Case, Document, Grant, Payment, Change)]
    with pytest.raises(RecordRejected) as rejected:
        record_apply(source_system=system, kind=kind, payload=payload)
    assert [m.objects.count() for m in (Case, Document, Grant, Payment, Change)] == counts
    for problem in rejected.value.problems:
        # A CPR number (or its birth-date half) never appears in a message.
        assert not re.search(r"\d{6}-?\d{4}", problem.message), problem
        assert "010170" not in problem.message
    return {(p.pointer, p.code) for p in rejected.value.problems}


def without(record: dict, key: str) -> dict:
    return {k: v for k, v in record.items() if k != key}


# --- the shape: types, required fields, lengths, values lists --------------------------


@pytest.mark.parametrize(
    ("change", "pointer", "code"),
    [
        ({"party": {"cpr": "3201701234"}}, "/party/cpr", "invalid_cpr"),  # 32 January
        ({"party": {"cpr": "0101304000"}}, "/party/cpr", "invalid_cpr"),  # born 2030
        ({"party": {"cpr": "01017012345"}}, "/party/cpr", "invalid_cpr"),
        ({"party": {"cpr": "010170 1234"}}, "/party/cpr", "invalid_cpr"),
        ({"party": {"cpr": 101701234}}, "/party/cpr", "invalid_type"),
        ({"party": {"cvr": "12345678"}}, "/party/cvr", "invalid_cvr"),
        ({"party": {"cpr": CPR, "cvr": CVR}}, "/party", "party_ambiguous"),
        ({"party": {}}, "/party", "required"),
        ({"sensitivity": "HEMMELIG"}, "/sensitivity", "invalid_choice"),
        ({"hidden_from_citizen": "false"}, "/hidden_from_citizen", "invalid_type"),
        ({"hidden_from_citzen": True}, "/hidden_from_citzen", "unknown_field"),
        ({"title": "x" * 256}, "/title", "too_long"),
        ({"title": "Første linje\nanden linje"}, "/title", "not_single_line"),
        ({"title": "Nul\x00tegn"}, "/title", "invalid_character"),
        ({"title": "   "}, "/title", "blank"),
        ({"title": None}, "/title", "null"),
        ({"case_number": "9" * 51}, "/case_number", "too_long"),
        ({"description": "x" * 4097}, "/description", "too_long"),
        ({"municipality": "46"}, "/municipality", "invalid_format"),
        ({"kle_number": "32-18-02"}, "/kle_number", "invalid_format"),
        ({"facet": "X01"}, "/facet", "invalid_format"),
        ({"created_on": "01-04-2024"}, "/created_on", "invalid_date"),
        ({"created_on": "2024-02-30"}, "/created_on", "invalid_date"),
        ({"source_timestamp": "2024-05-01T10:00:00"}, "/source_timestamp", "timezone_required"),
        ({"source_timestamp": "2024-05-01"}, "/source_timestamp", "invalid_datetime"),
        ({"progress": []}, "/progress", "required"),
        ({"progress": [{"status": "Lukket", "from": "2024-04-02T09:00:00+02:00"}]},
         "/progress/0/status", "invalid_choice"),
        ({"progress": [{"status": "Opstaaet"}]}, "/progress/0/from", "required"),
        ({"related_cases": "case-9"}, "/related_cases", "invalid_type"),
        ({"related_cases": ["x" * 101]}, "/related_cases/0", "too_long"),
    ],
)  # fmt: skip
def test_a_case_with_a_wrong_field_is_rejected_naming_the_field(system, change, pointer, code):
    assert (pointer, code) in problems_of(system, "case", case_payload() | change)


@pytest.mark.parametrize(
    "field",
    ["external_id", "source_timestamp", "municipality", "case_number", "title", "kle_number",
     "facet", "party", "created_on", "progress"],
)  # fmt: skip
def test_a_case_missing_a_required_field_is_rejected(system, field):
    assert (f"/{field}", "required") in problems_of(system, "case", without(case_payload(), field))


def test_a_record_that_is_not_an_object_is_rejected(system):
    assert problems_of(system, "case", ["not", "a", "record"]) == {("", "invalid_type")}


def test_all_problems_of_a_record_are_reported_at_once(system):
    # (The builder would create a KLE number it is given, so set it afterwards.)
    record = case_payload(title="", party={"cpr": "3201701234"}) | {"kle_number": "99.99.99"}
    assert problems_of(system, "case", record) >= {
        ("/title", "blank"),
        ("/kle_number", "unknown_kle"),
        ("/party/cpr", "invalid_cpr"),
    }


def test_a_cpr_with_a_dash_is_accepted_and_stored_as_ten_digits(system):
    outcome = record_apply(
        source_system=system, kind="case", payload=case_payload(party={"cpr": "010170-1234"})
    )
    assert Case.objects.get(pk=outcome.instance.pk).party_cpr == "0101701234"


def test_a_cpr_without_modulus_11_is_accepted(system):
    # 0101701235 fails the old modulus-11 check; such numbers are issued since 2007.
    assert (
        sum(w * int(d) for w, d in zip((4, 3, 2, 7, 6, 5, 4, 3, 2, 1), "0101701235", strict=True))
        % 11
    )
    outcome = record_apply(
        source_system=system, kind="case", payload=case_payload(party={"cpr": "0101701235"})
    )
    assert outcome.outcome == "created"


def test_a_cvr_party_is_accepted(system):
    outcome = record_apply(
        source_system=system, kind="case", payload=case_payload(party={"cvr": CVR})
    )
    case = Case.objects.get(pk=outcome.instance.pk)
    assert (case.party_cpr, case.party_cvr) == (None, CVR)


# --- KLE ------------------------------------------------------------------------------------


def test_an_unknown_kle_number_is_rejected(system):
    assert ("/kle_number", "unknown_kle") in problems_of(
        system, "case", case_payload() | {"kle_number": "99.99.99"}
    )


def test_a_kle_number_above_emne_level_is_rejected(system):
    SubjectFactory(number="32.18.02")  # creates 32 and 32.18 too
    for number in ("32", "32.18"):
        assert ("/kle_number", "kle_not_topic") in problems_of(
            system, "case", case_payload() | {"kle_number": number}
        )


def test_kle_expired_before_the_case_was_created_is_rejected_but_not_after(system):
    SubjectFactory(number="32.18.05", expired_on=datetime.date(2020, 1, 1))
    late = case_payload(kle_number="32.18.05", created_on="2020-01-01")
    assert ("/kle_number", "kle_expired") in problems_of(system, "case", late)
    early = case_payload(
        kle_number="32.18.05",
        created_on="2019-12-31",
        progress=[{"status": "Opstaaet", "from": "2019-12-31T09:00:00+01:00"}],
    )
    assert record_apply(source_system=system, kind="case", payload=early).outcome == "created"


def test_kle_moved_before_the_case_was_created_is_rejected_naming_the_successor(system):
    SubjectFactory(
        number="32.18.06", moved_on=datetime.date(2021, 6, 1), successor_numbers=["32.18.07"]
    )
    with pytest.raises(RecordRejected) as rejected:
        record_apply(
            source_system=system,
            kind="case",
            payload=case_payload(kle_number="32.18.06", created_on="2022-01-01"),
        )
    [problem] = rejected.value.problems
    assert (problem.pointer, problem.code) == ("/kle_number", "kle_moved")
    assert "32.18.07" in problem.message


def test_an_unknown_facet_is_rejected(system):
    assert ("/facet", "unknown_facet") in problems_of(
        system, "case", case_payload() | {"facet": "G99"}
    )


# --- periods and progress -------------------------------------------------------------------


P = "+02:00"


def _progress(*periods):
    return [
        {"status": s, "from": f"2024-04-{a:02d}T09:00:00{P}"}
        | ({"to": f"2024-04-{b:02d}T09:00:00{P}"} if b else {})
        for s, a, b in periods
    ]


@pytest.mark.parametrize(
    ("progress", "pointer", "code"),
    [
        (_progress(("Opstaaet", 10, 5)), "/progress/0/to", "period_reversed"),
        (_progress(("Opstaaet", 10, 10)), "/progress/0/to", "period_reversed"),
        (_progress(("Opstaaet", 2, 10), ("Oplyst", 5, None)), "/progress/1/from", "progress_overlap"),
        (_progress(("Opstaaet", 2, None), ("Oplyst", 5, None)), "/progress/1/from", "progress_overlap"),
        (_progress(("Oplyst", 2, None)), "/progress/0/status", "progress_order"),
        (_progress(("Opstaaet", 2, 4), ("Afgjort", 4, 6), ("Oplyst", 6, None)),
         "/progress/2/status", "progress_order"),
        (_progress(("Opstaaet", 2, 4), ("Opstaaet", 4, None)), "/progress/1/status", "progress_order"),
        (_progress(("Opstaaet", 6, 8), ("Oplyst", 2, None)), "/progress/1/from", "progress_order"),
    ],
)  # fmt: skip
def test_a_wrong_progress_history_is_rejected(system, progress, pointer, code):
    assert (pointer, code) in problems_of(system, "case", case_payload(progress=progress))


def test_statuses_may_be_skipped_and_gaps_are_allowed(system):
    # SF1470: a closed case imported for the first time carries Opstaaet and Afsluttet.
    progress = _progress(("Opstaaet", 2, 4), ("Afsluttet", 6, None))
    outcome = record_apply(
        source_system=system, kind="case", payload=case_payload(progress=progress)
    )
    assert outcome.instance.status == "Afsluttet"


def test_a_grant_benefit_plan_or_payment_period_ending_before_it_starts_is_rejected(system):
    grant = grant_payload(
        start_on="2024-04-01",
        end_on="2024-03-31",
        benefits=[
            benefit_payload(
                start_on="2024-04-01",
                end_on="2024-03-01",
                payment_plan={
                    "frequency": "Månedlig",
                    "timing": "Forud",
                    "payment_day": "1. bankdag",
                    "amount": "100.00",
                    "start_on": "2024-05-01",
                    "end_on": "2024-04-01",
                },
            )
        ],
    )
    assert problems_of(system, "grant", grant) >= {
        ("/end_on", "period_reversed"),
        ("/benefits/0/end_on", "period_reversed"),
        ("/benefits/0/payment_plan/end_on", "period_reversed"),
    }
    valid = grant_payload()
    record_apply(source_system=system, kind="grant", payload=valid)
    payment = payment_payload(
        grant_external_id=valid["external_id"],
        benefit_external_id=valid["benefits"][0]["external_id"],
        period={"start": "2024-05-31", "end": "2024-05-01"},
    )
    assert ("/period/end", "period_reversed") in problems_of(system, "payment", payment)


# --- amounts ----------------------------------------------------------------------------------


@pytest.fixture
def grant(system):
    record = grant_payload()
    record_apply(source_system=system, kind="grant", payload=record)
    return record


def _payment(grant, **changes):
    return (
        payment_payload(
            grant_external_id=grant["external_id"],
            benefit_external_id=grant["benefits"][0]["external_id"],
        )
        | changes
    )


@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("-1.00", "negative_amount"),
        (-1, "negative_amount"),
        ("1.005", "too_many_decimals"),
        (0.1 + 0.2, "too_many_decimals"),
        ("12,50", "invalid_amount"),
        ("NaN", "invalid_amount"),
        (True, "invalid_amount"),
        ("1e20", "invalid_amount"),
        ("1_000", "invalid_amount"),
        (1e20, "amount_too_large"),
        ("1000000000000.00", "amount_too_large"),
    ],
)
def test_a_negative_or_over_precise_amount_is_rejected(system, grant, amount, code):
    assert ("/gross_amount", code) in problems_of(
        system, "payment", _payment(grant, gross_amount=amount)
    )


@pytest.mark.parametrize(("amount", "stored"), [("1234.5", "1234.50"), (1234, "1234.00"),
                                                 (99.95, "99.95"), ("10.000", "10.00"), ("-0", "0.00")])  # fmt: skip
def test_amounts_as_strings_or_numbers_are_stored_with_ore(system, grant, amount, stored):
    outcome = record_apply(
        source_system=system, kind="payment", payload=_payment(grant, amount_paid=amount)
    )
    assert str(Payment.objects.get(pk=outcome.instance.pk).amount_paid) == stored


def test_a_negative_payment_plan_amount_is_rejected(system):
    benefit = benefit_payload()
    benefit["payment_plan"]["amount"] = "-5"
    assert ("/benefits/0/payment_plan/amount", "negative_amount") in problems_of(
        system, "grant", grant_payload(benefits=[benefit])
    )


# --- municipality -------------------------------------------------------------------------------


def test_an_unknown_municipality_is_rejected(system):
    assert ("/municipality", "unknown_municipality") in problems_of(
        system, "case", case_payload(municipality="999")
    )


@pytest.mark.parametrize("kind", ["case", "document", "grant", "payment"])
def test_a_record_of_another_municipality_is_rejected_without_saying_more(system, kind):
    other = SourceSystemFactory(municipality__code="101")
    # Even an identical record held by København's own system changes nothing here.
    CaseFactory(source_system=other, external_id="shared-1")
    own_case = case_payload()
    record_apply(source_system=system, kind="case", payload=own_case)
    own_grant = grant_payload()
    record_apply(source_system=system, kind="grant", payload=own_grant)
    record = {
        "case": case_payload(municipality="101"),
        "document": document_payload(
            case_external_ids=[own_case["external_id"]], municipality="101"
        ),
        "grant": grant_payload(municipality="101"),
        "payment": _payment(own_grant, municipality="101"),
    }[kind]
    with pytest.raises(RecordRejected) as rejected:
        record_apply(source_system=system, kind=kind, payload=record)
    [problem] = rejected.value.problems
    assert (problem.pointer, problem.code) == ("/municipality", "foreign_municipality")
    assert "461" in problem.message  # the system's own municipality, nothing about 101's records
    assert "shared-1" not in problem.message and "København" not in problem.message


# --- references ----------------------------------------------------------------------------------


def test_a_document_linked_to_an_unknown_case_is_rejected(system):
    assert ("/cases/0/case_external_id", "unknown_case") in problems_of(
        system, "document", document_payload(case_external_ids=["no-such-case"])
    )


def test_a_document_linked_to_another_systems_case_is_rejected_as_unknown(system):
    other = SourceSystemFactory()  # same municipality, another product
    CaseFactory(source_system=other, external_id="theirs")
    assert ("/cases/0/case_external_id", "unknown_case") in problems_of(
        system, "document", document_payload(case_external_ids=["theirs"])
    )


def test_a_document_linked_twice_to_the_same_case_is_rejected(system):
    case = case_payload()
    record_apply(source_system=system, kind="case", payload=case)
    document = document_payload(case_external_ids=[case["external_id"]] * 2)
    assert ("/cases/1/case_external_id", "duplicate") in problems_of(system, "document", document)


def test_a_document_with_an_unknown_type_or_status_is_rejected(system):
    case = case_payload()
    record_apply(source_system=system, kind="case", payload=case)
    document = document_payload(
        case_external_ids=[case["external_id"]], type="Brev", status="Kladde"
    )
    assert problems_of(system, "document", document) >= {
        ("/type", "invalid_choice"),
        ("/status", "invalid_choice"),
    }


def test_a_payment_for_an_unknown_grant_or_benefit_is_rejected(system, grant):
    unknown_grant = payment_payload(grant_external_id="nope", benefit_external_id="x")
    assert ("/grant_external_id", "unknown_grant") in problems_of(system, "payment", unknown_grant)
    unknown_benefit = _payment(grant, benefit_external_id="nope")
    assert ("/benefit_external_id", "unknown_benefit") in problems_of(
        system, "payment", unknown_benefit
    )


def test_a_payment_for_a_service_benefit_is_rejected(system):
    record = grant_payload(benefits=[benefit_payload(kind="service", payment_plan=None)])
    record_apply(source_system=system, kind="grant", payload=record)
    assert ("/benefit_external_id", "benefit_not_economic") in problems_of(
        system, "payment", _payment(record)
    )


def test_a_service_benefit_with_a_payment_plan_is_rejected(system):
    record = grant_payload(benefits=[benefit_payload(kind="service")])
    assert ("/benefits/0/payment_plan", "payment_plan_not_economic") in problems_of(
        system, "grant", record
    )


def test_two_benefits_with_the_same_id_are_rejected(system):
    record = grant_payload(
        benefits=[benefit_payload(external_id="b1"), benefit_payload(external_id="b1")]
    )
    assert ("/benefits/1/external_id", "duplicate") in problems_of(system, "grant", record)


def test_a_benefit_with_an_unknown_kle_number_is_rejected(system):
    record = grant_payload(benefits=[benefit_payload() | {"kle_number": "99.99.98"}])
    assert ("/benefits/0/kle_number", "unknown_kle") in problems_of(system, "grant", record)


def test_a_case_cannot_relate_to_itself(system):
    record = case_payload()
    record["related_cases"] = [record["external_id"]]
    assert ("/related_cases/0", "related_self") in problems_of(system, "case", record)


def test_a_case_number_used_by_another_live_case_of_the_system_is_rejected(system):
    # Unique per source system (issue 12.4); another system's numbers: test_case_numbers.py.
    CaseFactory(source_system=system, case_number="2024-777")
    assert ("/case_number", "case_number_taken") in problems_of(
        system, "case", case_payload(case_number="2024-777")
    )


def test_a_benefit_with_payments_cannot_be_removed(system, grant):
    record_apply(source_system=system, kind="payment", payload=_payment(grant))
    newer = grant | {"source_timestamp": "2024-06-01T10:00:00+02:00", "benefits": []}
    assert ("/benefits", "benefit_has_payments") in problems_of(system, "grant", newer)
    assert PaymentFactory._meta.model.objects.count() == 1


# --- validating without writing ---------------------------------------------------------------


def test_record_validate_returns_the_converted_data_and_writes_nothing(system):
    data = record_validate(
        source_system=system, kind="case", payload=case_payload(party={"cpr": "010170-1234"})
    )
    assert data["party"] == {"cpr": "0101701234"}
    assert isinstance(data["created_on"], datetime.date)
    assert not Case.objects.exists()


def test_records_validate_many_knows_cases_earlier_in_the_batch(system):
    case = case_payload()
    results = records_validate_many(
        source_system=system,
        items=[
            ("document", document_payload(case_external_ids=[case["external_id"]])),
            ("case", case),
            ("case", case_payload(title="")),
        ],
    )
    assert isinstance(results[0], dict) and isinstance(results[1], dict)
    assert isinstance(results[2], RecordRejected)
    assert not Case.objects.exists() and not Document.objects.exists()
