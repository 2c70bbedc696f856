"""CPR numbers in texts a citizen sees: flagged in data quality, masked in the admin.

Ingestion accepts a record with a CPR-shaped number in a title (refusing it would
drop the citizen's case from the index; docs/borgerblikket.md); the portal masks
it and the data-quality report flags the record so the municipality can have the
source system fix it. Issue 12.3.
"""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from borgerblikket.selectors import quality
from config.cpr_shape import cpr_shape_in
from indexes.models import Case, Change, Document, GrantedBenefit, PaymentPlan
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db]

ODENSE, FREDENSBORG = "461", "210"
THIRD_PERSON = "010170-1234"


@pytest.fixture
def world():
    odense = f.municipality(ODENSE)
    fasit = f.SourceSystemFactory(municipality=odense, name="FASIT")
    sbsys = f.SourceSystemFactory(municipality=odense, name="SBSYS")
    other = f.SourceSystemFactory(municipality=f.municipality(FREDENSBORG), name="Acadre")
    cases = {
        "title": f.CaseFactory(
            source_system=fasit, title=f"Afgørelse om tilskud vedr. barn {THIRD_PERSON}"
        ),
        "number": f.CaseFactory(source_system=sbsys, case_number="010170 1234"),
        "clean": f.CaseFactory(source_system=fasit, case_number="2024-9000006"),
        "no date": f.CaseFactory(source_system=fasit, title="Sag 310270-1234"),
        "other municipality": f.CaseFactory(source_system=other, title=f"Barn {THIRD_PERSON}"),
        "retracted": f.CaseFactory(
            source_system=fasit, title=f"Barn {THIRD_PERSON}", retracted_at=timezone.now()
        ),
    }
    f.document_on(cases["clean"], title=f"Brev om barn {THIRD_PERSON}")
    f.document_on(cases["clean"], title="Afgørelse om hjælp")
    grant = f.GrantFactory(source_system=sbsys)
    f.GrantedBenefitFactory(grant=grant, message=f"Gælder barn {THIRD_PERSON}")
    f.PaymentFactory(
        benefit=f.GrantedBenefitFactory(grant=grant), paying_office=f"Kontor {THIRD_PERSON}"
    )
    planned = f.GrantedBenefitFactory(grant=grant)
    PaymentPlan.objects.create(
        benefit=planned,
        frequency="Månedlig",
        timing="Bagud",
        payment_day=f"Barn {THIRD_PERSON}",
        amount=Decimal(1),
    )
    f.GrantedBenefitFactory(grant=grant, name="Kontanthjælp")
    return {"odense": odense, "fasit": fasit, "sbsys": sbsys, "cases": cases}


def _flagged_in_python(model, texts, municipality_code) -> set[int]:
    """An independent reading: the records whose texts the Python detector flags."""
    if model is GrantedBenefit:
        records = GrantedBenefit.objects.filter(
            grant__municipality=municipality_code, grant__retracted_at__isnull=True
        )
    else:
        records = model.objects.filter(municipality=municipality_code, retracted_at__isnull=True)
    flagged = set()
    for record in records:
        if quality.texts_with_cpr(obj=record, texts=texts):
            flagged.add(record.pk)
        if model is GrantedBenefit and any(
            cpr_shape_in(p.paying_office) for p in record.payments.all()
        ):
            flagged.add(record.pk)
    return flagged


@pytest.mark.parametrize(
    ("key", "model", "texts"),
    [
        ("case_cpr_text", Case, quality.CASE_CPR_TEXTS),
        ("document_cpr_text", Document, quality.DOCUMENT_CPR_TEXTS),
        ("benefit_cpr_text", GrantedBenefit, quality.BENEFIT_CPR_TEXTS),
    ],
)
def test_the_check_finds_what_the_python_detector_finds(world, key, model, texts):
    offending = quality.CHECKS[key].offending(municipality=world["odense"])
    assert set(offending.values_list("pk", flat=True)) == _flagged_in_python(model, texts, ODENSE)


def test_counts_per_source_system(world):
    counts = {
        key: quality.check_counts(municipality=world["odense"], key=key)
        for key in (
            "case_cpr_text",
            "document_cpr_text",
            "benefit_cpr_text",
        )
    }
    fasit, sbsys = world["fasit"].pk, world["sbsys"].pk
    assert counts["case_cpr_text"] == {fasit: 1, sbsys: 1}  # not "2024-9000006", not 31 Feb
    assert counts["document_cpr_text"] == {fasit: 1}
    assert counts["benefit_cpr_text"] == {sbsys: 3}  # message, paying office, payment plan


@pytest.fixture
def odense_admin(client):
    client.force_login(f.municipal_admin(ODENSE, username="odense-quality"))
    return client


@pytest.mark.parametrize("key", ["case_cpr_text", "document_cpr_text", "benefit_cpr_text"])
def test_the_drilldown_and_its_csv_show_the_number_masked(odense_admin, world, key):
    url = reverse("borgerblikket_admin:quality_check", args=[ODENSE, key])
    page = odense_admin.get(url)
    assert page.status_code == 200
    body = page.content.decode()
    assert ("010170-****" in body and "CPR-nummer i" in body) or "010170-****" in body
    assert THIRD_PERSON not in body and "0101701234" not in body and "010170 1234" not in body
    download = b"".join(odense_admin.get(url, {"format": "csv"}).streaming_content).decode()
    rows = list(csv.reader(io.StringIO(download.lstrip("\ufeff"))))
    assert len(rows) > 1
    assert THIRD_PERSON not in download and "010170 1234" not in download


def test_the_report_lists_the_checks(odense_admin, world):
    body = odense_admin.get(reverse("borgerblikket_admin:quality", args=[ODENSE])).content
    text = body.decode()
    assert "Sager med et CPR-nummer i titel, sagsnummer eller hvad kommunen venter på" in text
    assert 'id="check-benefit_cpr_text"' in text


def test_the_admin_shows_titles_masked_everywhere(odense_admin, world):
    """Lists, detail pages (also their <title>), inlines and the change history."""
    case = world["cases"]["title"]
    document = f.document_on(case, title=f"Partshøring vedr. barn {THIRD_PERSON}")
    change = Change.objects.create(
        record_type="case",
        record_id=case.pk,
        version=1,
        action="created",
        source_system=case.source_system,
        received_at=case.received_at,
        diff={"title": [None, case.title]},
    )
    benefit = GrantedBenefit.objects.get(message__contains=THIRD_PERSON)
    pages = [
        reverse("admin:indexes_case_changelist"),
        reverse("admin:indexes_case_change", args=[case.pk]),
        reverse("admin:indexes_document_changelist"),
        reverse("admin:indexes_document_change", args=[document.pk]),
        reverse("admin:indexes_change_change", args=[change.pk]),
        reverse("admin:indexes_grantedbenefit_change", args=[benefit.pk]),
        reverse("admin:indexes_grant_change", args=[benefit.grant_id]),
    ]
    for url in pages:
        response = odense_admin.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert THIRD_PERSON not in body and "0101701234" not in body, url
        assert "010170-****" in body, url
