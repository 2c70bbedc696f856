"""A benefit naming a case of another source system follows every rule of that case (issue 11.1).

Reproduces the demo's leak: KMD Ydelse's grant for a revalidering quotes FASIT's case
number; the FASIT case is "Visning undtaget for borger", yet the benefit and its
payments were shown, because the reference was only resolved within one system.
Delivered through the ingestion services, read through the one door.
"""

import datetime as dt

import pytest
from django.urls import reverse

from borgerblikket import selectors
from borgerblikket.selectors import quality
from indexes.models import GrantedBenefit
from indexes.services.ingestion import record_apply, record_retract
from tests.borgerblikket import factories as f
from tests.indexes.factories import (
    benefit_payload,
    case_payload,
    grant_payload,
    kle_ensure,
    payment_payload,
)
from tests.overblik.data import KIM

pytestmark = [pytest.mark.django_db]

CPR = KIM.cpr
NUMBER = "2024-9000006"
CASE_KLE, BENEFIT_KLE = "32.24.08", "32.18.02"
T2 = "2024-06-01T10:00:00+02:00"


@pytest.fixture
def odense():
    kle_ensure(CASE_KLE, BENEFIT_KLE)
    fasit = f.SourceSystemFactory(name="FASIT", product="FASIT")
    kmd = f.SourceSystemFactory(name="KMD Ydelse", product="Andet")
    f.SheetRowFactory(kle_subject=f.kle_subject(BENEFIT_KLE), show_from=dt.date(2020, 1, 1))
    return fasit, kmd


def fasit_case(**over):
    return case_payload(
        external_id="fasit-6",
        case_number=NUMBER,
        kle_number=CASE_KLE,
        party={"cpr": CPR},
        **over,
    )


def deliver_grant(kmd, *, payments: int = 2):
    grant = grant_payload(
        external_id="kmd-g1",
        party={"cpr": CPR},
        related_case_number=NUMBER,
        benefits=[
            benefit_payload(
                external_id="kmd-b1", name="Revalideringsydelse", kle_number=BENEFIT_KLE
            )
        ],
    )
    record_apply(source_system=kmd, kind="grant", payload=grant)
    for _ in range(payments):
        record_apply(
            source_system=kmd,
            kind="payment",
            payload=payment_payload(grant_external_id="kmd-g1", benefit_external_id="kmd-b1"),
        )


def shown(cpr=CPR):
    return (
        [b.name for b in selectors.benefits_visible_to_citizen(cpr=cpr)],
        selectors.payments_visible_to_citizen(cpr=cpr).count(),
    )


def test_a_hidden_case_of_another_system_hides_the_benefit_and_its_payments(odense):
    fasit, kmd = odense
    f.SheetRowFactory(kle_subject=f.kle_subject(CASE_KLE), show_from=dt.date(2020, 1, 1))
    record_apply(source_system=fasit, kind="case", payload=fasit_case(hidden_from_citizen=True))
    deliver_grant(kmd)
    assert shown() == ([], 0)
    # The municipality lifts the exception: the benefit shows, linked to its case.
    record_apply(
        source_system=fasit,
        kind="case",
        payload=fasit_case(hidden_from_citizen=False, source_timestamp=T2),
    )
    assert shown() == (["Revalideringsydelse"], 2)
    (benefit,) = selectors.benefits_visible_to_citizen(cpr=CPR)
    case = selectors.cases_visible_to_citizen(cpr=CPR).get()
    assert benefit.visible_related_case_id == case.pk


@pytest.mark.parametrize(
    "rule",
    ["no sheet row", "before show-from", "other source system", "retracted", "another party"],
)
def test_every_case_rule_applies_to_the_benefit(odense, rule):
    fasit, kmd = odense
    row = {
        "no sheet row": None,
        "before show-from": {"show_from": dt.date(2025, 1, 1)},
        "other source system": {"source_system": kmd},
    }.get(rule, {})
    if row is not None:
        f.SheetRowFactory(kle_subject=f.kle_subject(CASE_KLE), **row)
    party = {"cpr": "0101709999"} if rule == "another party" else {"cpr": CPR}
    record_apply(source_system=fasit, kind="case", payload=fasit_case() | {"party": party})
    if rule == "retracted":
        record_retract(source_system=fasit, kind="case", external_id="fasit-6", source_timestamp=T2)
    deliver_grant(kmd)
    assert selectors.cases_visible_to_citizen(cpr=CPR).count() == 0
    assert shown() == ([], 0)


def test_a_benefit_whose_case_never_arrives_is_withheld_and_flagged(odense):
    fasit, kmd = odense
    f.SheetRowFactory(kle_subject=f.kle_subject(CASE_KLE), show_from=dt.date(2020, 1, 1))
    deliver_grant(kmd)
    assert shown() == ([], 0)
    flagged = quality.CHECKS["benefit_case_missing"].offending(municipality=fasit.municipality)
    assert list(flagged.values_list("external_id", flat=True)) == ["kmd-b1"]
    assert quality.check_counts(municipality=fasit.municipality, key="benefit_case_missing") == {
        kmd.pk: 1
    }
    record_apply(source_system=fasit, kind="case", payload=fasit_case())
    assert shown() == (["Revalideringsydelse"], 2)
    assert not flagged.exists()


def test_a_benefit_naming_no_case_is_not_flagged(odense):
    fasit, kmd = odense
    record_apply(
        source_system=kmd,
        kind="grant",
        payload=grant_payload(
            party={"cpr": CPR}, benefits=[benefit_payload(kle_number=BENEFIT_KLE)]
        ),
    )
    assert len(shown()[0]) == 1
    assert not quality.benefits_naming_a_missing_case(municipality=fasit.municipality).exists()
    assert GrantedBenefit.objects.get().related_case_id is None


def test_the_pages_link_the_benefit_and_its_case(citizen_client, odense):
    fasit, kmd = odense
    f.SheetRowFactory(kle_subject=f.kle_subject(CASE_KLE), show_from=dt.date(2020, 1, 1))
    record_apply(source_system=fasit, kind="case", payload=fasit_case())
    deliver_grant(kmd, payments=1)
    case = selectors.cases_visible_to_citizen(cpr=CPR).get()
    benefits = citizen_client.get(reverse("overblik:benefits")).content.decode()
    assert (
        f'href="{reverse("overblik:case", args=[case.pk])}" data-testid="related-case"' in benefits
    )
    page = citizen_client.get(reverse("overblik:case", args=[case.pk])).content.decode()
    benefit = GrantedBenefit.objects.get()
    assert f'data-testid="case-payments-{benefit.pk}"' in page
    assert "12.345,67" in page  # the payment's gross amount
    # Hidden again: the case page is gone and the benefits page holds nothing of it.
    record_apply(
        source_system=fasit,
        kind="case",
        payload=fasit_case(hidden_from_citizen=True, source_timestamp=T2),
    )
    assert citizen_client.get(reverse("overblik:case", args=[case.pk])).status_code == 404
    assert (
        "Revalideringsydelse"
        not in citizen_client.get(reverse("overblik:benefits")).content.decode()
    )
