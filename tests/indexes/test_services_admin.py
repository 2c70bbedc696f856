"""The index admin: CPR masked in lists, detail pages and change history; reads are logged."""

import pytest
from django.contrib import admin as django_admin
from django.urls import reverse

from indexes.admin import CaseAdmin, cpr_mask, cpr_mask_in
from indexes.models import ApiCredential, Case, Change, DataAccess, Municipality
from indexes.services.ingestion import record_apply
from tests.indexes.factories import (
    CPR,
    OTHER_CPR,
    CaseFactory,
    GrantFactory,
    PaymentFactory,
    SourceSystemFactory,
    case_payload,
    kle_ensure,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MASKED = "010170-****"


def test_cpr_mask_shows_only_the_birth_date():
    assert cpr_mask(CPR) == MASKED
    assert cpr_mask(None) == ""
    diff = {"party": [{"cpr": CPR}, {"cpr": OTHER_CPR}], "title": ["a", "b"]}
    assert cpr_mask_in(diff) == {
        "party": [{"cpr": MASKED}, {"cpr": "020280-****"}],
        "title": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("factory", "name"),
    [(CaseFactory, "case"), (GrantFactory, "grant"), (PaymentFactory, "payment")],
)
def test_lists_and_detail_pages_show_the_cpr_masked(admin_client, factory, name):
    record = factory(party_cpr=CPR) if name != "payment" else factory(benefit__grant__party_cpr=CPR)
    listing = admin_client.get(reverse(f"admin:indexes_{name}_changelist"))
    detail = admin_client.get(reverse(f"admin:indexes_{name}_change", args=[record.pk]))
    for response in (listing, detail):
        assert response.status_code == 200
        body = response.content.decode()
        assert MASKED in body
        assert CPR not in body and "010170-1234" not in body


def test_opening_a_citizens_case_in_the_admin_is_logged_for_the_citizen(admin_client, admin_user):
    case = CaseFactory(party_cpr=CPR, case_number="2024-42")
    admin_client.get(reverse("admin:indexes_case_change", args=[case.pk]))
    entry = DataAccess.objects.get()
    assert (entry.citizen_cpr, entry.user, entry.actor_type) == (CPR, admin_user, "operator")
    assert "2024-42" in entry.detail
    assert CPR not in entry.detail


def test_cases_are_found_by_case_number_or_external_id_not_by_cpr(admin_client):
    case = CaseFactory(party_cpr=CPR, case_number="2024-4711", external_id="sbsys-abc")
    url = reverse("admin:indexes_case_changelist")
    for query in ("2024-4711", "sbsys-abc"):
        assert case.title in admin_client.get(url, {"q": query}).content.decode()
    assert case.title not in admin_client.get(url, {"q": CPR}).content.decode()


def test_the_index_admin_is_read_only(admin_client):
    case = CaseFactory()
    assert admin_client.get(reverse("admin:indexes_case_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:indexes_case_change", args=[case.pk]), {"title": "Ændret i admin"}
    )
    assert response.status_code == 403
    case.refresh_from_db()
    assert case.title != "Ændret i admin"


def test_the_change_history_shows_the_diff_with_cpr_masked(admin_client):
    kle_ensure()
    system = SourceSystemFactory()
    outcome = record_apply(source_system=system, kind="case", payload=case_payload())
    change = Change.objects.get(record_id=outcome.instance.pk)
    body = admin_client.get(
        reverse("admin:indexes_change_change", args=[change.pk])
    ).content.decode()
    assert "Ansøgning om kontanthjælp" in body
    assert MASKED in body and CPR not in body


def test_a_source_systems_page_lists_its_keys_but_no_secret(admin_client):
    system = SourceSystemFactory()
    ApiCredential.objects.create(
        source_system=system, label="prod", key_id="key123", secret_sha256="f" * 64
    )
    body = admin_client.get(
        reverse("admin:indexes_sourcesystem_change", args=[system.pk])
    ).content.decode()
    assert "key123" in body and "prod" in body
    assert "f" * 64 not in body


def test_an_admin_narrowed_to_a_municipality_lists_only_its_records(rf, admin_user):
    CaseFactory()  # Odense
    copenhagen = CaseFactory(source_system=SourceSystemFactory(municipality__code="101"))

    class CopenhagenCaseAdmin(CaseAdmin):
        def admin_municipality(self, request):
            return Municipality.objects.get(code="101")

    request = rf.get("/")
    request.user = admin_user
    queryset = CopenhagenCaseAdmin(Case, django_admin.site).get_queryset(request)
    assert list(queryset) == [copenhagen]
    assert CaseAdmin(Case, django_admin.site).get_queryset(request).count() == 2
