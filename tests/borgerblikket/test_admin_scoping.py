"""Two municipalities' admins: neither sees nor changes the other's sheets, systems, records
or reports by any admin path (lists, ids in URLs, autocomplete, filters, import, export,
actions). Driven through the real admin URLs with the Django test client."""

import datetime as dt
import json

import pytest
from django.urls import reverse

from borgerblikket.models import SheetChange, SheetImport, SheetRow
from borgerblikket.services.sheet_io import HEADERS, sheet_import_start
from borgerblikket.services.sheets import sheet_row_save
from indexes.models import DataAccess, SourceSystem
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG = "461", "210"


@pytest.fixture
def world():
    """Each municipality: a source system, a sheet row (with history), a case, a grant, a payment."""
    out = {}
    subject = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    for code, name in ((ODENSE, "FASIT Odense"), (FREDENSBORG, "SBSYS Fredensborg")):
        municipality = f.municipality(code)
        system = f.SourceSystemFactory(municipality=municipality, name=name)
        row, change = sheet_row_save(
            municipality=municipality,
            kle_subject=subject,
            values={"show_from": dt.date(2020, 1, 1), "contact_department": f"Afdeling {code}"},
            user=None,
        )
        case = f.CaseFactory(
            source_system=system, party_cpr=f"01017{code}99"[:10], title=f"Sag i {code}"
        )
        document = f.document_on(case, title=f"Dokument i {code}")
        grant = f.GrantFactory(source_system=system, party_cpr=case.party_cpr)
        payment = f.PaymentFactory(benefit=f.GrantedBenefitFactory(grant=grant))
        f.sheet(code)
        out[code] = {
            "municipality": municipality,
            "system": system,
            "row": row,
            "change": change,
            "case": case,
            "document": document,
            "grant": grant,
            "payment": payment,
        }
    return out


@pytest.fixture
def odense_client(client, world):
    client.force_login(f.municipal_admin(ODENSE, username="odense-admin"))
    return client


@pytest.fixture(
    params=[(ODENSE, FREDENSBORG), (FREDENSBORG, ODENSE)], ids=["odense", "fredensborg"]
)
def side(request, client, world):
    """Each municipality's admin in turn: (logged-in client, own code, the other code)."""
    me, other = request.param
    client.force_login(f.municipal_admin(me, username=f"admin-{me}"))
    return client, me, other


SCOPED = [
    # (admin url name prefix, world key)
    ("borgerblikket_sheetrow", "row"),
    ("borgerblikket_sheetchange", "change"),
    ("indexes_sourcesystem", "system"),
    ("indexes_case", "case"),
    ("indexes_document", "document"),
    ("indexes_grant", "grant"),
    ("indexes_payment", "payment"),
]


@pytest.mark.parametrize(("prefix", "key"), SCOPED)
def test_lists_show_only_the_own_municipality(side, world, prefix, key):
    client, me, _other = side
    response = client.get(reverse(f"admin:{prefix}_changelist"))
    assert response.status_code == 200
    shown = {obj.pk for obj in response.context["cl"].result_list}
    assert shown == {world[me][key].pk}


@pytest.mark.parametrize(("prefix", "key"), SCOPED)
@pytest.mark.parametrize("view", ["change", "delete", "history"])
def test_another_municipalitys_object_by_id_is_404(side, world, prefix, key, view):
    client, me, other = side
    response = client.get(reverse(f"admin:{prefix}_{view}", args=[world[other][key].pk]))
    assert response.status_code == 404
    own = client.get(reverse(f"admin:{prefix}_{view}", args=[world[me][key].pk]))
    # Own objects open (delete is refused with 403 where municipal admins may not delete).
    assert own.status_code in (200, 403)


def test_posting_a_change_to_another_municipalitys_row_is_404(side, world):
    client, _me, other = side
    row = world[other]["row"]
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_change", args=[row.pk]),
        {"contact_department": "Overtaget", "show_from": "01-01-2020"},
    )
    assert response.status_code == 404
    assert SheetRow.objects.get(pk=row.pk).contact_department == f"Afdeling {other}"


def test_municipality_list_and_filters_offer_only_own(client, world):
    # A member of two municipalities (Frederiksberg has no data), so the filters have choices.
    client.force_login(f.municipal_admin(ODENSE, "147"))
    odense_client = client
    frederiksberg_system = f.SourceSystemFactory(municipality=f.municipality("147"))
    response = odense_client.get(reverse("admin:indexes_municipality_changelist"))
    assert [m.pk for m in response.context["cl"].result_list] == ["147", ODENSE]
    response = odense_client.get(reverse("admin:borgerblikket_sheetrow_changelist"))
    choices = {
        spec.field_path: [pk for pk, _ in spec.lookup_choices]
        for spec in response.context["cl"].filter_specs
        if hasattr(spec, "lookup_choices")
    }
    assert sorted(choices["municipality"]) == ["147", ODENSE]
    assert sorted(choices["source_system"]) == sorted(
        [world[ODENSE]["system"].pk, frederiksberg_system.pk]
    )
    # Filtering by hand for the other municipality shows nothing of it.
    response = odense_client.get(
        reverse("admin:borgerblikket_sheetrow_changelist")
        + f"?municipality__code__exact={FREDENSBORG}"
    )
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(
    ("app_label", "model_name", "field_name", "expected"),
    [
        ("borgerblikket", "sheetrow", "source_system", "system"),
        ("indexes", "sourcesystem", "municipality", "municipality"),
    ],
)
def test_autocomplete_offers_only_own(
    odense_client, world, app_label, model_name, field_name, expected
):
    response = odense_client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": ""},
    )
    assert response.status_code == 200
    ids = {item["id"] for item in json.loads(response.content)["results"]}
    assert ids == {str(world[ODENSE][expected].pk)}


def test_add_form_refuses_another_municipality_and_its_system(odense_client, world):
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    url = reverse("admin:borgerblikket_sheetrow_add")
    base = {"kle_number": "15.17.06", "show_from": "01-02-2020", "contact_phone": "66 13 13 72"}
    response = odense_client.post(url, {**base, "municipality": FREDENSBORG})
    assert (
        response.status_code == 200 and "municipality" in response.context["adminform"].form.errors
    )
    response = odense_client.post(
        url, {**base, "municipality": ODENSE, "source_system": world[FREDENSBORG]["system"].pk}
    )
    assert "source_system" in response.context["adminform"].form.errors
    assert not SheetRow.objects.filter(kle_subject__number="15.17.06").exists()
    response = odense_client.post(url, {**base, "municipality": ODENSE})
    assert response.status_code == 302
    row = SheetRow.objects.get(kle_subject__number="15.17.06")
    assert row.contact_phone == "66131372" and row.municipality_id == ODENSE
    change = SheetChange.objects.get(kle_number="15.17.06")
    assert change.user.username == "odense-admin" and change.action == "created"


def test_add_form_names_bad_fields(odense_client, world):
    f.kle_subject("27.12.02", "Udgået", expired_on=dt.date(2015, 1, 1))
    response = odense_client.post(
        reverse("admin:borgerblikket_sheetrow_add"),
        {
            "municipality": ODENSE,
            "kle_number": "27.12.02",
            "show_from": "31-02-2020",
            "contact_phone": "123",
            "info_url": "www.odense.dk",
        },
    )
    errors = response.context["adminform"].form.errors
    assert "udgået" in errors["kle_number"][0]
    assert {"show_from", "contact_phone", "info_url"} <= set(errors)


def test_actions_never_reach_another_municipality(side, world):
    client, _me, other = side
    other_row = world[other]["row"]
    client.post(
        reverse("admin:borgerblikket_sheetrow_changelist"),
        {"action": "delete_selected", "_selected_action": [other_row.pk], "post": "yes"},
    )
    assert SheetRow.objects.filter(pk=other_row.pk).exists()
    other_change = world[other]["change"]
    client.post(
        reverse("admin:borgerblikket_sheetchange_changelist"),
        {"action": "revert_selected", "_selected_action": [other_change.pk]},
    )
    assert SheetRow.objects.filter(pk=other_row.pk).exists()
    response = client.post(
        reverse("admin:borgerblikket_sheetchange_revert", args=[other_change.pk])
    )
    assert response.status_code == 404
    assert SheetRow.objects.filter(pk=other_row.pk).exists()
    assert not SheetChange.objects.filter(via="revert").exists()


def test_own_delete_action_is_logged_and_revertable(odense_client, world):
    own_row = world[ODENSE]["row"]
    odense_client.post(
        reverse("admin:borgerblikket_sheetrow_changelist"),
        {"action": "delete_selected", "_selected_action": [own_row.pk], "post": "yes"},
    )
    assert not SheetRow.objects.filter(pk=own_row.pk).exists()
    deletion = SheetChange.objects.get(municipality_id=ODENSE, action="deleted")
    response = odense_client.post(
        reverse("admin:borgerblikket_sheetchange_revert", args=[deletion.pk])
    )
    assert response.status_code == 302
    assert SheetRow.objects.get(municipality_id=ODENSE).contact_department == f"Afdeling {ODENSE}"


def test_export_only_own_sheet(side, world):
    client, me, other = side
    url = reverse("admin:borgerblikket_sheetrow_export")
    response = client.get(url, {"municipality": me, "file_format": "tsv"})
    assert response.status_code == 200
    text = response.content.decode()
    assert f"Afdeling {me}" in text and f"Afdeling {other}" not in text
    assert tuple(text.splitlines()[0].split("\t")) == HEADERS
    response = client.get(url, {"municipality": other, "file_format": "tsv"})
    assert response.status_code == 404


def _tsv(*lines):
    return ("\t".join(HEADERS) + "\n" + "\n".join(lines) + "\n").encode()


def test_import_previews_then_applies_only_own(odense_client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    content = _tsv(
        "KLE\t32.24.04\t\t\t01-01-2020\tNy afdeling\t66131372\t\t\t\t",
        "KLE\t15.17.06\t\t\t02-01-2020\t\t\t\t\t\t",
        "KLE\t99.99.99\t\t\t02-01-2020\t\t\t\t\t\t",
    )
    url = reverse("admin:borgerblikket_sheetrow_import")
    response = odense_client.post(
        url, {"municipality": FREDENSBORG, "file": SimpleUploadedFile("ark.tsv", content)}
    )
    assert response.status_code == 200 and "municipality" in response.context["form"].errors
    assert not SheetImport.objects.exists()

    response = odense_client.post(
        url, {"municipality": ODENSE, "file": SimpleUploadedFile("ark.tsv", content)}
    )
    assert response.status_code == 200
    plan = response.context["plan"]
    assert [line.kle_number for line in plan.added] == ["15.17.06"]
    assert [line.kle_number for line in plan.changed] == ["32.24.04"]
    assert [(line.line, line.kle_number) for line in plan.rejected] == [(4, "99.99.99")]
    body = response.content.decode()
    assert "findes ikke i KLE" in body and "Ny afdeling" in body
    # Nothing saved by the preview.
    assert SheetRow.objects.filter(municipality_id=ODENSE).count() == 1

    sheet_import = response.context["sheet_import"]
    response = odense_client.post(
        reverse("admin:borgerblikket_sheetrow_import_confirm", args=[sheet_import.pk])
    )
    assert response.status_code == 302
    assert SheetRow.objects.filter(municipality_id=ODENSE).count() == 2
    assert (
        SheetRow.objects.get(pk=world[FREDENSBORG]["row"].pk).contact_department == "Afdeling 210"
    )


def test_confirming_another_municipalitys_import_is_404(odense_client, world):
    other_admin = f.municipal_admin(FREDENSBORG)
    upload, _ = sheet_import_start(
        municipality=world[FREDENSBORG]["municipality"],
        user=other_admin,
        file_name="x.tsv",
        content=_tsv("KLE\t32.24.04\t\t\t01-01-2020\tFremmed\t\t\t\t\t"),
        file_format="tsv",
    )
    response = odense_client.post(
        reverse("admin:borgerblikket_sheetrow_import_confirm", args=[upload.pk])
    )
    assert response.status_code == 404
    assert (
        SheetRow.objects.get(pk=world[FREDENSBORG]["row"].pk).contact_department == "Afdeling 210"
    )


def test_reports_of_another_municipality_are_404(side, world):
    client, me, other = side
    for url in (
        reverse("borgerblikket_admin:quality", args=[other]),
        reverse("borgerblikket_admin:quality_check", args=[other, "no_caseworker"]),
        reverse("borgerblikket_admin:quality_check", args=[other, "no_caseworker"]) + "?format=csv",
        reverse("borgerblikket_admin:quality_invisible", args=[other, "visible"]),
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("borgerblikket_admin:quality", args=[me])).status_code == 200
    # Only one municipality: the index goes straight to it.
    response = client.get(reverse("borgerblikket_admin:quality_index"))
    assert response.status_code == 302 and response["Location"].endswith(f"/quality/{me}/")
    # Roll-out: the own municipality's position only.
    rollout = client.get(reverse("borgerblikket_admin:rollout"))
    assert rollout.status_code == 200
    assert {m.code for g in rollout.context["groups"] for m in g["municipalities"]} == {me}


def test_operator_only_models_are_hidden_from_municipal_admins(odense_client, world):
    for name in ("membership", "mandatoryklenumber", "titleabbreviation"):
        assert (
            odense_client.get(reverse(f"admin:borgerblikket_{name}_changelist")).status_code == 403
        )


def test_staff_without_membership_sees_nothing(client, world):
    client.force_login(f.UserFactory(is_staff=True))
    assert client.get(reverse("admin:borgerblikket_sheetrow_changelist")).status_code == 403
    assert client.get(reverse("admin:indexes_case_changelist")).status_code == 403
    assert client.get(reverse("borgerblikket_admin:preview")).status_code == 403


def test_superuser_sees_all(client, world):
    client.force_login(f.UserFactory(is_superuser=True))
    response = client.get(reverse("admin:borgerblikket_sheetrow_changelist"))
    assert {obj.pk for obj in response.context["cl"].result_list} == {
        world[ODENSE]["row"].pk,
        world[FREDENSBORG]["row"].pk,
    }


def test_opening_a_case_logs_access_as_municipal_admin_with_masked_cpr(odense_client, world):
    case = world[ODENSE]["case"]
    response = odense_client.get(reverse("admin:indexes_case_change", args=[case.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert case.party_cpr not in body and f"{case.party_cpr[:6]}-****" in body
    access = DataAccess.objects.get(citizen_cpr=case.party_cpr)
    assert access.actor_type == "municipal_admin" and access.municipality_id == ODENSE
    assert (access.channel, access.record_kind) == ("admin_record", "case")


def test_source_system_change_stays_within_own(odense_client, world):
    own = world[ODENSE]["system"]
    response = odense_client.post(
        reverse("admin:indexes_sourcesystem_change", args=[own.pk]),
        {
            "municipality": FREDENSBORG,
            "product": own.product,
            "name": own.name,
            "is_active": "on",
            "created_at_0": "2024-01-01",
            "created_at_1": "12:00:00",
            "credentials-TOTAL_FORMS": "0",
            "credentials-INITIAL_FORMS": "0",
        },
    )
    assert SourceSystem.objects.get(pk=own.pk).municipality_id == ODENSE
    assert response.status_code == 200


def test_access_log_shows_masked_cpr_and_only_own_municipality(odense_client, world):
    own_case, other_case = world[ODENSE]["case"], world[FREDENSBORG]["case"]
    odense_client.get(reverse("admin:indexes_case_change", args=[own_case.pk]))
    other = DataAccess.objects.create(
        citizen_cpr=other_case.party_cpr,
        actor_type="municipal_admin",
        channel="other",
        municipality=world[FREDENSBORG]["municipality"],
    )
    response = odense_client.get(reverse("admin:indexes_dataaccess_changelist"))
    assert [a.citizen_cpr for a in response.context["cl"].result_list] == [own_case.party_cpr]
    assert own_case.party_cpr not in response.content.decode()
    own = DataAccess.objects.get(citizen_cpr=own_case.party_cpr)
    detail = odense_client.get(reverse("admin:indexes_dataaccess_change", args=[own.pk]))
    assert own_case.party_cpr not in detail.content.decode()
    assert f"{own_case.party_cpr[:6]}-****" in detail.content.decode()
    assert (
        odense_client.get(reverse("admin:indexes_dataaccess_change", args=[other.pk])).status_code
        == 404
    )


def test_unregistered_index_models_are_read_only_even_for_superusers(client, world):
    client.force_login(f.UserFactory(is_superuser=True))
    benefit = world[ODENSE]["payment"].benefit
    assert (
        client.get(reverse("admin:indexes_grantedbenefit_change", args=[benefit.pk])).status_code
        == 200
    )
    assert client.get(reverse("admin:indexes_grantedbenefit_add")).status_code == 403


def test_editing_an_own_row_is_logged_with_before_and_after(odense_client, world):
    row = world[ODENSE]["row"]
    # The row's KLE emne has expired since; the row's other columns stay editable.
    row.kle_subject.expired_on = dt.date(2025, 1, 1)
    row.kle_subject.save()
    response = odense_client.post(
        reverse("admin:borgerblikket_sheetrow_change", args=[row.pk]),
        {
            "display_name": "",
            "show_from": "2020-01-01",
            "contact_department": "Borgerservice",
            "contact_phone": "70 11 22 33",
            "info_url": "https://www.odense.dk/x",
            "digital_post_url": "https://post.borger.dk/?logon.aspx?x=1",
            "self_service_name": "",
            "self_service_url": "",
        },
        follow=True,
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert (row.contact_department, row.contact_phone) == ("Borgerservice", "70112233")
    change = SheetChange.objects.filter(municipality_id=ODENSE, action="updated").get()
    assert change.before["contact_department"] == f"Afdeling {ODENSE}"
    assert change.after["contact_department"] == "Borgerservice"
    assert change.user.username == "odense-admin"
    # The link warning is shown, not swallowed.
    assert "flere gange" in response.content.decode()
    detail = odense_client.get(reverse("admin:borgerblikket_sheetchange_change", args=[change.pk]))
    assert (
        "Borgerservice" in detail.content.decode()
        and "Fortryd denne ændring" in detail.content.decode()
    )
