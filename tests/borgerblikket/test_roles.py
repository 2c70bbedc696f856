"""Roles (docs/roles.md): the groups exist with their permissions; a lead admin manages the
memberships of their own municipality only; an area admin sees, edits, imports and exports
only the rows of their KLE areas; a manager reads; a national operator is no superuser and
reads no citizen's record."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from borgerblikket.models import Membership, SheetRow
from borgerblikket.roles import OPERATOR_GROUP, ROLE_GROUPS, ROLE_PERMISSIONS
from borgerblikket.services.roles import roles_sync
from borgerblikket.services.sheet_io import HEADERS
from borgerblikket.services.sheets import sheet_row_save
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ODENSE, FREDENSBORG = "461", "210"


def _member(code, role, username, areas=()):
    user = f.municipal_admin(code, username=username)
    membership = Membership.objects.get(user=user)
    membership.role = role
    membership.save()
    membership.areas.set([f.kle_subject(a) for a in areas])
    client = Client()
    client.force_login(user)
    return user, client


def _row(code, number):
    row, _change = sheet_row_save(
        municipality=f.municipality(code),
        kle_subject=f.kle_subject(number),
        values={"show_from": dt.date(2020, 1, 1), "contact_department": f"Afd {number}"},
        user=None,
    )
    return row


def test_migrate_leaves_each_role_group_with_exactly_its_permissions():
    for name, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=name)
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        assert held == perms, name
    # A group changed by hand is set back by the next sync (migrate runs it).
    Group.objects.get(name=ROLE_GROUPS["manager"]).permissions.clear()
    roles_sync()
    assert Group.objects.get(name=ROLE_GROUPS["manager"]).permissions.count() == len(
        ROLE_PERMISSIONS[ROLE_GROUPS["manager"]]
    )


def test_an_area_admin_sees_edits_imports_and_exports_only_their_areas():
    inside, sub, outside = (
        _row(ODENSE, "32.24.04"),
        _row(ODENSE, "15.17.06"),
        _row(ODENSE, "02.00.10"),
    )
    _row(FREDENSBORG, "32.24.04")
    _user, client = _member(ODENSE, "area", "area-32", areas=["32", "15.17"])
    listing = client.get(reverse("admin:borgerblikket_sheetrow_changelist"))
    assert {r.pk for r in listing.context["cl"].result_list} == {inside.pk, sub.pk}
    assert (
        client.get(reverse("admin:borgerblikket_sheetrow_change", args=[outside.pk])).status_code
        == 404
    )
    # Adding a row outside the areas: a form error naming the field.
    f.kle_subject("02.00.05")
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_add"),
        {"municipality": ODENSE, "kle_number": "02.00.05", "show_from": "01-01-2021"},
    )
    assert response.status_code == 200
    assert "uden for dine områder" in str(response.context["adminform"].form.errors["kle_number"])
    # The import rejects the lines outside, and changes only those inside.
    tsv = "\t".join(HEADERS) + "\n"
    for number in ("32.24.04", "02.00.10"):
        tsv += "KLE\t" + number + "\t\t\t01-01-2020\tNy afdeling\n"
    upload = {"municipality": ODENSE, "file": _file(tsv)}
    preview = client.post(reverse("admin:borgerblikket_sheetrow_import"), upload)
    plan = preview.context["plan"]
    assert [line.kle_number for line in plan.rejected] == ["02.00.10"]
    assert "uden for dine områder" in plan.rejected[0].errors[-1]
    url = reverse(
        "admin:borgerblikket_sheetrow_import_confirm", args=[preview.context["sheet_import"].pk]
    )
    client.post(url)
    assert SheetRow.objects.get(pk=inside.pk).contact_department == "Ny afdeling"
    assert SheetRow.objects.get(pk=outside.pk).contact_department == "Afd 02.00.10"
    # The export holds the areas' rows only.
    export = client.get(
        reverse("admin:borgerblikket_sheetrow_export"),
        {"municipality": ODENSE, "file_format": "csv"},
    )
    text = export.content.decode("utf-8")
    assert "32.24.04" in text and "15.17.06" in text and "02.00.10" not in text
    # History: the areas' changes only; the municipality's switches are not theirs.
    history = client.get(reverse("admin:borgerblikket_sheetchange_changelist"))
    assert {c.kle_number for c in history.context["cl"].result_list} == {"32.24.04", "15.17.06"}
    assert client.get(reverse("admin:borgerblikket_sheet_changelist")).status_code == 403


def _file(text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("ark.tsv", text.encode(), content_type="text/tab-separated-values")


def test_a_lead_admin_manages_memberships_of_their_own_municipality_only():
    _lead, client = _member(ODENSE, "lead", "lead-odense")
    theirs, _ = _member(FREDENSBORG, "admin", "fredensborg-admin")
    colleague, _ = _member(ODENSE, "admin", "odense-colleague")
    newcomer = f.UserFactory(username="newcomer")
    listing = client.get(reverse("admin:borgerblikket_membership_changelist"))
    assert {m.user.username for m in listing.context["cl"].result_list} == {
        "lead-odense",
        "odense-colleague",
    }
    add = client.get(reverse("admin:borgerblikket_membership_add"))
    form = add.context["adminform"].form
    offered = {u.username for u in form.fields["user"].queryset}
    assert "newcomer" in offered and "odense-colleague" in offered
    assert "fredensborg-admin" not in offered and "admin" not in offered
    assert {m.pk for m in form.fields["municipality"].queryset} == {ODENSE}
    # Fredensborg cannot be chosen, nor Fredensborg's admin.
    response = client.post(
        reverse("admin:borgerblikket_membership_add"),
        {"user": newcomer.pk, "municipality": FREDENSBORG, "role": "admin"},
    )
    assert (
        response.status_code == 200 and "municipality" in response.context["adminform"].form.errors
    )
    response = client.post(
        reverse("admin:borgerblikket_membership_add"),
        {"user": theirs.pk, "municipality": ODENSE, "role": "admin"},
    )
    assert response.status_code == 200 and "user" in response.context["adminform"].form.errors
    # An area admin needs an area; then it is made.
    response = client.post(
        reverse("admin:borgerblikket_membership_add"),
        {"user": newcomer.pk, "municipality": ODENSE, "role": "area"},
    )
    assert "areas" in response.context["adminform"].form.errors
    area = f.kle_subject("32")
    response = client.post(
        reverse("admin:borgerblikket_membership_add"),
        {"user": newcomer.pk, "municipality": ODENSE, "role": "area", "areas": [area.pk]},
    )
    assert response.status_code == 302
    made = Membership.objects.get(user=newcomer)
    assert made.role == "area" and [s.number for s in made.areas.all()] == ["32"]
    # Another municipality's membership: the same 404 as none.
    other = Membership.objects.get(user=theirs)
    assert (
        client.get(reverse("admin:borgerblikket_membership_change", args=[other.pk])).status_code
        == 404
    )
    assert Membership.objects.filter(user=colleague).exists()


def test_a_plain_municipal_admin_or_manager_cannot_manage_memberships():
    for role in ("admin", "manager", "area"):
        _user, client = _member(
            ODENSE, role, f"odense-{role}", areas=["32"] if role == "area" else ()
        )
        response = client.get(reverse("admin:borgerblikket_membership_changelist"))
        assert response.status_code == 403 and b'id="refused"' in response.content, role


def test_a_manager_sees_quality_counts_but_no_citizens_record():
    system = f.SourceSystemFactory(municipality=f.municipality(ODENSE))
    case = f.CaseFactory(source_system=system, primary_caseworker="")
    _user, client = _member(ODENSE, "manager", "odense-manager")
    report = client.get(reverse("borgerblikket_admin:quality", args=[ODENSE]))
    assert report.status_code == 200 and report.context["records"] is False
    assert reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"]) not in (
        report.content.decode()
    )
    for url in (
        reverse("borgerblikket_admin:quality_check", args=[ODENSE, "no_caseworker"]),
        reverse("admin:indexes_case_change", args=[case.pk]),
        reverse("borgerblikket_admin:preview"),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        body = response.content.decode()
        assert "Leder (kun læseadgang)" in body and case.title not in body
    row = _row(ODENSE, "32.24.04")
    assert (
        client.get(reverse("admin:borgerblikket_sheetrow_change", args=[row.pk])).status_code == 200
    )
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_change", args=[row.pk]),
        {"show_from": "01-01-2021", "contact_department": "Ændret"},
    )
    assert response.status_code == 403
    assert SheetRow.objects.get(pk=row.pk).contact_department == "Afd 32.24.04"


def test_a_national_operator_is_no_superuser_and_reads_no_citizens_record():
    system = f.SourceSystemFactory(municipality=f.municipality(ODENSE))
    case = f.CaseFactory(source_system=system)
    user = f.UserFactory(username="kombit-operator")
    user.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    assert not user.is_superuser
    client = Client()
    client.force_login(user)
    rollout = client.get(reverse("borgerblikket_admin:rollout"))
    assert rollout.status_code == 200 and rollout.context["total"] == 98
    assert client.get(reverse("borgerblikket_admin:quality", args=[FREDENSBORG])).status_code == 200
    assert client.get(reverse("admin:borgerblikket_mandatoryklenumber_add")).status_code == 200
    for url in (
        reverse("admin:indexes_case_change", args=[case.pk]),
        reverse("admin:indexes_case_changelist"),
        reverse("admin:auth_user_changelist"),
        reverse("borgerblikket_admin:preview"),
    ):
        response = client.get(url)
        assert response.status_code == 403 and b'id="refused"' in response.content, url
