"""Preview as citizen (logged, CPR only posted and masked) and the national roll-out page."""

import pytest
from django.urls import reverse
from django.utils import timezone

from borgerblikket.models import MandatoryKleNumber
from borgerblikket.selectors import rollout
from indexes.models import DataAccess, Municipality
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

CPR = "0101701111"


@pytest.fixture
def two_municipalities():
    odense_system = f.SourceSystemFactory(municipality=f.municipality("461"), name="FASIT")
    fredensborg_system = f.SourceSystemFactory(municipality=f.municipality("210"), name="SBSYS")
    for code in ("461", "210"):
        f.SheetRowFactory(municipality=f.municipality(code))
        f.sheet(code, show_document_titles=True)
    odense_case = f.CaseFactory(source_system=odense_system, party_cpr=CPR, case_number="ODENSE-1")
    f.document_on(odense_case, title="Afgørelse om kontanthjælp")
    f.CaseFactory(source_system=fredensborg_system, party_cpr=CPR, case_number="FREDENSBORG-1")
    f.CaseFactory(
        source_system=odense_system, party_cpr=CPR, case_number="SKJULT-1", hidden_from_citizen=True
    )
    grant = f.GrantFactory(source_system=odense_system, party_cpr=CPR)
    f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant, name="Kontanthjælp"))
    return odense_case


def test_preview_shows_what_the_citizen_sees_from_the_own_municipality(client, two_municipalities):
    admin = f.municipal_admin("461", username="odense-admin")
    client.force_login(admin)
    url = reverse("borgerblikket_admin:preview")
    assert client.get(url).status_code == 200
    response = client.post(url, {"municipality": "461", "cpr": "010170-1111"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "ODENSE-1" in body and "Afgørelse om kontanthjælp" in body and "Kontanthjælp" in body
    assert "FREDENSBORG-1" not in body and "SKJULT-1" not in body
    assert CPR not in body and "010170-1111" not in body and "010170-****" in body
    assert "Sagsbehandler Hemmelig" not in body
    assert CPR not in response.request["PATH_INFO"] and not response.request.get("QUERY_STRING")
    access = DataAccess.objects.get(citizen_cpr=CPR)
    assert access.actor_type == "municipal_admin"
    assert access.user == admin and access.municipality_id == "461"
    assert (access.channel, access.record_kind) == ("preview", "all")


def test_preview_refuses_another_municipality_and_bad_cpr_without_logging(
    client, two_municipalities
):
    client.force_login(f.municipal_admin("461"))
    url = reverse("borgerblikket_admin:preview")
    response = client.post(url, {"municipality": "210", "cpr": CPR})
    assert "municipality" in response.context["form"].errors
    response = client.post(url, {"municipality": "461", "cpr": "3102701234"})
    assert "cpr" in response.context["form"].errors
    assert "3102701234" not in response.content.decode()
    assert not DataAccess.objects.exists()


def test_rollout_places_every_municipality_in_one_of_four_categories(client):
    system = f.SourceSystemFactory(municipality=f.municipality("461"))
    # Odense: data and every mandatory number exposed.
    for number in MandatoryKleNumber.objects.values_list("kle_number", flat=True):
        f.SheetRowFactory(municipality=f.municipality("461"), kle_subject=f.kle_subject(number))
    f.CaseFactory(source_system=system)
    # Fredensborg: data, one mandatory number exposed.
    fredensborg = f.SourceSystemFactory(municipality=f.municipality("210"))
    f.GrantFactory(source_system=fredensborg)
    f.SheetRowFactory(municipality=f.municipality("210"), kle_subject=f.kle_subject("32.24.04"))
    # Aarhus: data, nothing exposed. København: only a retracted case (no data).
    f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("751")))
    f.CaseFactory(
        source_system=f.SourceSystemFactory(municipality=f.municipality("101")),
        retracted_at=timezone.now(),
    )
    # Roskilde: a sheet but no data.
    f.SheetRowFactory(municipality=f.municipality("265"))

    status = {s.code: s for s in rollout.rollout_status()}
    assert len(status) == Municipality.objects.count() == 98
    assert status["461"].category == rollout.ALL_MANDATORY
    assert status["210"].category == rollout.SOME_EXPOSED
    assert status["751"].category == rollout.NOT_EXPOSED
    assert status["101"].category == rollout.NO_DATA
    assert status["265"].category == rollout.NO_DATA
    summary = rollout.rollout_summary(status=list(status.values()))
    assert summary == {"no_data": 95, "not_exposed": 1, "some_exposed": 1, "all_mandatory": 1}

    # The list is data: removing a mandatory number Fredensborg lacks changes nothing for it,
    # keeping only the one it has makes it complete.
    MandatoryKleNumber.objects.exclude(kle_number="32.24.04").delete()
    assert {s.code: s for s in rollout.rollout_status()}["210"].category == rollout.ALL_MANDATORY

    client.force_login(f.UserFactory(is_superuser=True))
    response = client.get(reverse("borgerblikket_admin:rollout"))
    assert response.status_code == 200
    groups = {g["key"]: g for g in response.context["groups"]}
    assert groups["no_data"]["count"] == 95
    assert "Alle obligatoriske KLE-numre udstillet" in response.content.decode()


def test_mandatory_numbers_are_seeded_and_editable_by_operators(client):
    assert set(MandatoryKleNumber.objects.values_list("area", flat=True)) == {
        "Sygedagpenge",
        "Kontanthjælp",
        "Uddannelseshjælp",
        "Revalidering",
        "Ressourceforløbsydelse",
        "Ledighedsydelse",
        "Fleksløntilskud",
    }
    client.force_login(f.UserFactory(is_superuser=True))
    response = client.post(
        reverse("admin:borgerblikket_mandatoryklenumber_add"),
        {"kle_number": "32.26.12", "area": "Udvalgte enkeltydelser", "note": ""},
    )
    assert response.status_code == 302
    assert MandatoryKleNumber.objects.filter(kle_number="32.26.12").exists()
    response = client.post(
        reverse("admin:borgerblikket_mandatoryklenumber_add"),
        {"kle_number": "32.26", "area": "Ikke et emne", "note": ""},
    )
    assert response.status_code == 200  # the constraint refuses a group number
    assert not MandatoryKleNumber.objects.filter(kle_number="32.26").exists()
