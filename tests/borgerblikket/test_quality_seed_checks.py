"""Seed 002's own checks (issue 16), each found and each left alone: letters without a
sender or recipient, cases breaking the single-case principle (samlesager), and complaint
cases (handlingsfacet K)."""

import pytest
from django.urls import reverse

from borgerblikket.selectors import quality
from indexes.models import DocumentType
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CITIZEN = "0101701234"
OTHER = "0202802345"


def found(key: str, municipality) -> set[str]:
    return set(
        quality.check_offending(municipality=municipality, key=key).values_list(
            "external_id", flat=True
        )
    )


@pytest.fixture
def odense():
    return f.municipality("461")


@pytest.fixture
def case(odense):
    return f.CaseFactory(external_id="c", party_cpr=CITIZEN)


def test_letter_party_finds_letters_without_the_party_they_need(case, odense):
    f.document_on(case, external_id="in-none", type=DocumentType.INCOMING_LETTER)
    f.document_on(
        case,
        external_id="in-recipient-only",
        type=DocumentType.INCOMING_LETTER,
        recipient_cpr=CITIZEN,
    )
    f.document_on(case, external_id="out-none", type=DocumentType.OUTGOING_LETTER)
    f.document_on(
        case,
        external_id="out-sender-only",
        type=DocumentType.OUTGOING_LETTER,
        sender_cvr="29189846",
    )
    # Negative: each letter with its party, by CPR or CVR; notes need none; retracted gone.
    f.document_on(case, external_id="in-ok", type=DocumentType.INCOMING_LETTER, sender_cpr=CITIZEN)
    f.document_on(
        case, external_id="out-ok", type=DocumentType.OUTGOING_LETTER, recipient_cvr="29189846"
    )
    f.document_on(case, external_id="note", type=DocumentType.INTERNAL_NOTE)
    f.document_on(case, external_id="plan", type=DocumentType.PLAN)
    gone = f.document_on(case, external_id="gone", type=DocumentType.INCOMING_LETTER)
    gone.retracted_at = gone.received_at
    gone.save()
    assert found("letter_party", odense) == {
        "in-none",
        "in-recipient-only",
        "out-none",
        "out-sender-only",
    }
    counts = quality.check_counts(municipality=odense, key="letter_party")
    assert counts == {case.source_system_id: 4}


def test_letter_party_problem_names_what_is_missing(case):
    incoming = f.document_on(case, type=DocumentType.INCOMING_LETTER)
    outgoing = f.document_on(case, type=DocumentType.OUTGOING_LETTER, recipient_cpr=CITIZEN)
    note = f.document_on(case, type=DocumentType.INTERNAL_NOTE)
    assert quality.letter_party_problem(document=incoming) == "mangler afsender"
    assert quality.letter_party_problem(document=outgoing) == ""
    assert quality.letter_party_problem(document=note) == ""


@pytest.mark.parametrize(
    ("title", "collective"),
    [
        ("Samlesag vedr. åen", True),
        ("samlesag", True),
        ("Diverse henvendelser", True),
        ("Div. korrespondance", True),
        ("  Generelt om hjælpemidler", True),
        ("Forskelligt", True),
        ("Afslag på ansøgning om carport", False),
        ("Divisionens afgørelse", False),  # "Div" only as a whole word
        ("Generelle regler for tilskud", False),
        ("Afgørelse om diverse hjælpemidler", False),  # only as the first word
    ],
)
def test_collective_finds_titles_with_a_collecting_first_word(odense, title, collective):
    f.CaseFactory(external_id="t", title=title)
    assert found("collective", odense) == ({"t"} if collective else set())


def test_collective_finds_a_citizen_case_holding_another_citizens_letter(odense):
    mixed = f.CaseFactory(external_id="mixed", party_cpr=CITIZEN)
    f.document_on(mixed, type=DocumentType.INCOMING_LETTER, sender_cpr=OTHER)
    mixed_out = f.CaseFactory(external_id="mixed-out", party_cpr=CITIZEN)
    f.document_on(mixed_out, type=DocumentType.OUTGOING_LETTER, recipient_cpr=OTHER)
    # Negative: the citizen's own letters, a company's, no party, a retracted letter, and
    # a case with no CPR party (an emnesag of many citizens is no citizen's case).
    own = f.CaseFactory(external_id="own", party_cpr=CITIZEN)
    f.document_on(own, type=DocumentType.INCOMING_LETTER, sender_cpr=CITIZEN)
    f.document_on(own, type=DocumentType.OUTGOING_LETTER, recipient_cpr=CITIZEN)
    f.document_on(own, type=DocumentType.INCOMING_LETTER, sender_cvr="29189846")
    f.document_on(own, type=DocumentType.INTERNAL_NOTE)
    retracted = f.document_on(own, type=DocumentType.INCOMING_LETTER, sender_cpr=OTHER)
    retracted.retracted_at = retracted.received_at
    retracted.save()
    topic = f.CaseFactory(external_id="topic", party_cpr=None)
    f.document_on(topic, type=DocumentType.INCOMING_LETTER, sender_cpr=OTHER)
    assert found("collective", odense) == {"mixed", "mixed-out"}


def test_complaint_finds_cases_on_a_k_facet(odense):
    f.CaseFactory(external_id="k08", facet=f.facet("K08"))
    f.CaseFactory(external_id="k01", facet=f.facet("K01"))
    f.CaseFactory(external_id="g01", facet=f.facet("G01"))
    f.CaseFactory(external_id="a01", facet=f.facet("A01"))
    assert found("complaint", odense) == {"k08", "k01"}


def test_the_checks_leave_other_municipalities_and_sandboxes_out(odense):
    aarhus = f.SourceSystemFactory(municipality=f.municipality("751"))
    sandbox = f.SourceSystemFactory(municipality=odense, sandbox=True)
    for system, suffix in ((aarhus, "aarhus"), (sandbox, "sandbox")):
        case = f.CaseFactory(
            source_system=system, external_id=f"c-{suffix}", title="Samlesag", facet=f.facet("K08")
        )
        f.document_on(case, external_id=f"d-{suffix}", type=DocumentType.INCOMING_LETTER)
    for key in ("letter_party", "collective", "complaint"):
        assert found(key, odense) == set(), key


def test_the_report_lists_the_new_checks_and_the_drilldown_names_the_missing_party(
    client, case, odense
):
    f.document_on(case, external_id="in-none", type=DocumentType.INCOMING_LETTER)
    client.force_login(f.municipal_admin("461"))
    response = client.get(reverse("borgerblikket_admin:quality", args=["461"]))
    rows = {row["key"]: row for row in response.context["check_rows"]}
    assert rows["letter_party"]["total"] == 1
    assert {"collective", "complaint"} <= rows.keys()
    page = client.get(reverse("borgerblikket_admin:quality_check", args=["461", "letter_party"]))
    assert page.status_code == 200
    assert "mangler afsender" in page.content.decode()
