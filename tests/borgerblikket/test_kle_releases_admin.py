"""KLE releases in the admin: each municipality's admins are told and see their own report
only; the move has a preview that saves nothing, and the move lands in the sheet's history."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from borgerblikket.models import KleImpactReport, Membership, SheetChange, SheetRow
from borgerblikket.services.kle_releases import kle_releases_build_pending
from borgerblikket.services.sheets import sheet_row_delete
from kle.services.importer import kle_import
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_kle_releases import FREDENSBORG, ODENSE, SYDDJURS, row
from tests.kle.release_server import NEWER_EMNEPLAN, OLDER_EMNEPLAN

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def released():
    """Odense and Fredensborg have rows on numbers the newer release expired or moved."""
    kle_import(source=str(OLDER_EMNEPLAN))
    row(ODENSE, "15.17.26", contact_department="Jobcenter Odense")
    row(ODENSE, "15.62.05")
    row(FREDENSBORG, "15.62.05")
    row(SYDDJURS, "15.17.06")
    kle_import(source=str(NEWER_EMNEPLAN))
    kle_releases_build_pending()
    return {
        code: KleImpactReport.objects.filter(municipality_id=code).first()
        for code in (ODENSE, FREDENSBORG)
    }


def admin_client(*codes: str) -> Client:
    client = Client()
    client.force_login(f.municipal_admin(*codes))
    return client


def notices(response) -> str:
    match = re.search(
        r'<ul class="messagelist" id="kle-release-notices">(.*?)</ul>',
        response.content.decode(),
        re.S,
    )
    return match.group(1) if match else ""


def test_each_municipalitys_admins_are_told_on_the_start_page_and_the_sheet_list(released):
    odense, fredensborg, syddjurs = (
        admin_client(ODENSE),
        admin_client(FREDENSBORG),
        admin_client(SYDDJURS),
    )
    for url in (reverse("admin:index"), reverse("admin:borgerblikket_sheetrow_changelist")):
        told = notices(odense.get(url))
        assert (
            "KLE udgivet 01-01-2016 har udgået eller flyttet 2 KLE-numre i Odense Kommunes" in told
        )
        assert (
            reverse("admin:borgerblikket_kleimpactreport_change", args=[released[ODENSE].pk])
            in told
        )
        assert "Fredensborg" not in told
        theirs = notices(fredensborg.get(url))
        assert "1 KLE-nummer i Fredensborg Kommunes" in theirs and "Odense" not in theirs
        assert notices(syddjurs.get(url)) == ""


def test_the_message_goes_when_every_row_is_handled(released):
    client = admin_client(ODENSE)
    for sheet_row in SheetRow.objects.filter(municipality_id=ODENSE):
        sheet_row_delete(row=sheet_row, user=None)
    assert notices(client.get(reverse("admin:index"))) == ""


def test_reports_are_scoped_to_the_own_municipality(released):
    client = admin_client(ODENSE)
    listing = client.get(reverse("admin:borgerblikket_kleimpactreport_changelist"))
    assert [r.pk for r in listing.context["cl"].result_list] == [released[ODENSE].pk]
    page = client.get(
        reverse("admin:borgerblikket_kleimpactreport_change", args=[released[ODENSE].pk])
    )
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="item-15.17.26"' in html and 'id="item-15.62.05"' in html
    move = reverse(
        "admin:borgerblikket_kleimpactreport_move",
        args=[released[ODENSE].pk, released[ODENSE].items.get(kle_number="15.17.26").pk],
    )
    assert move in html
    assert "Ingen afløser" in html  # 15.62.05 expired without successor
    sheet_link = re.search(r'href="([^"]*sheetrow/\?[^"]*)"', html).group(1).replace("&amp;", "&")
    sheet = client.get(sheet_link)
    assert sheet.status_code == 200
    assert {r.municipality_id for r in sheet.context["cl"].result_list} == {ODENSE}
    theirs = client.get(
        reverse("admin:borgerblikket_kleimpactreport_change", args=[released[FREDENSBORG].pk])
    )
    assert theirs.status_code == 404
    # Another municipality's admin (staff, no membership of Odense) gets nothing either.
    assert admin_client(SYDDJURS).get(page.wsgi_request.path).status_code == 404


def test_the_move_preview_saves_nothing_and_the_move_is_in_the_history(released):
    client = admin_client(ODENSE)
    report = released[ODENSE]
    item = report.items.get(kle_number="15.17.26")
    url = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, item.pk])
    changes = SheetChange.objects.count()

    preview = client.get(url)

    assert preview.status_code == 200
    states = dict(
        re.findall(r'<tr id="after-([0-9.]+)" data-state="(\w+)">', preview.content.decode())
    )
    # No case lies on 15.17.26: the old row is removed by default.
    assert states == {
        "15.17.26": "removed",
        "15.17.27": "added",
        "15.17.28": "added",
        "15.62.05": "unchanged",
    }
    keep = client.get(url, {"remove_old": "0"})
    assert 'data-state="kept"' in keep.content.decode()
    assert SheetChange.objects.count() == changes

    moved = client.post(url, {"remove_old": "1"}, follow=True)

    assert moved.redirect_chain[-1][0].endswith(
        reverse("admin:borgerblikket_kleimpactreport_change", args=[report.pk])
    )
    assert (
        "KLE-nummer 15.17.26 er flyttet til 15.17.27, 15.17.28 (3 ændringer"
        in moved.content.decode()
    )
    assert set(
        SheetRow.objects.filter(municipality_id=ODENSE).values_list(
            "kle_subject__number", flat=True
        )
    ) == {"15.17.27", "15.17.28", "15.62.05"}
    history = client.get(
        reverse("admin:borgerblikket_sheetchange_changelist"), {"via__exact": "kle_move"}
    )
    assert sorted((c.kle_number, c.action) for c in history.context["cl"].result_list) == [
        ("15.17.26", "deleted"),
        ("15.17.27", "created"),
        ("15.17.28", "created"),
    ]
    # Moving again is refused with a message, not an error page.
    again = client.post(url, follow=True)
    assert "allerede flyttet" in again.content.decode()
    assert SheetRow.objects.filter(municipality_id=ODENSE).count() == 3


@pytest.mark.parametrize(
    ("language", "expected", "absent"),
    [
        ("en", "KLE number 15.17.26 has already been moved", "allerede flyttet"),
        ("da", "KLE-nummer 15.17.26 er allerede flyttet", "already been moved"),
    ],
)
def test_a_refused_move_is_named_in_the_admins_language(released, language, expected, absent):
    """Issue 16: the refusal comes from the service, in the language the admin chose."""
    client = admin_client(ODENSE)
    client.post(reverse("overblik:set_language"), {"language": language, "next": "/admin/"})
    report = released[ODENSE]
    item = report.items.get(kle_number="15.17.26")
    url = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, item.pk])
    client.post(url, {"remove_old": "1"})

    for again in (client.post(url, follow=True), client.get(url, follow=True)):
        page = again.content.decode()
        assert expected in page and absent not in page


def test_an_operator_sees_every_report_and_the_releases(released, admin_user):
    operator = Client()
    operator.force_login(admin_user)
    listing = operator.get(reverse("admin:borgerblikket_kleimpactreport_changelist"))
    assert {r.municipality_id for r in listing.context["cl"].result_list} == {ODENSE, FREDENSBORG}
    releases = operator.get(reverse("admin:borgerblikket_klerelease_changelist"))
    assert [str(r) for r in releases.context["cl"].result_list] == [
        "KLE 01-01-2016",
        "KLE 01-08-2015",
    ]
    assert (
        admin_client(ODENSE).get(reverse("admin:borgerblikket_klerelease_changelist")).status_code
        == 403
    )
    assert dt.date(2016, 1, 1) == released[ODENSE].release.publication.published_on


def test_the_successor_check_is_on_the_quality_report_with_its_cases(released):
    from kle.models import Subject

    system = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT")
    f.CaseFactory(
        source_system=system,
        kle_subject=Subject.objects.get(number="15.17.27"),
        case_number="2021-000027",
    )
    client = admin_client(ODENSE)
    report = client.get(reverse("borgerblikket_admin:quality", args=[ODENSE]))
    row_html = re.search(r'<tr id="check-kle_successor">(.*?)</tr>', report.content.decode(), re.S)
    assert "afløsende KLE-nummer" in row_html.group(1)
    assert re.search(r'class="total"><a [^>]*>1</a>', row_html.group(1))
    drilldown = client.get(
        reverse("borgerblikket_admin:quality_check", args=[ODENSE, "kle_successor"])
    )
    assert drilldown.status_code == 200 and "2021-000027" in drilldown.content.decode()


def area_admin_client(code: str, *areas: str) -> Client:
    user = f.municipal_admin(code)
    membership = Membership.objects.get(user=user)
    membership.role = Membership.Role.AREA
    membership.save()
    membership.areas.set([f.kle_subject(a) for a in areas])
    client = Client()
    client.force_login(user)
    return client


def test_an_area_admin_sees_and_moves_the_rows_of_their_areas_only(released):
    """Odense's report has rows on 15.17.26 (successors 15.17.27/28) and 15.62.05: the
    admin of 15.17 sees and moves the first; the second is not theirs to see."""
    report = released[ODENSE]
    client = area_admin_client(ODENSE, "15.17")
    page = client.get(reverse("admin:borgerblikket_kleimpactreport_change", args=[report.pk]))
    assert page.status_code == 200
    assert [i.kle_number for i in page.context["items"]] == ["15.17.26"]
    other = report.items.get(kle_number="15.62.05")
    outside = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, other.pk])
    assert client.get(outside).status_code == 404
    assert client.post(outside).status_code == 404
    mine = report.items.get(kle_number="15.17.26")
    url = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, mine.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"remove_old": "1"})
    assert set(
        SheetRow.objects.filter(municipality_id=ODENSE).values_list(
            "kle_subject__number", flat=True
        )
    ) == {"15.17.27", "15.17.28", "15.62.05"}


def test_an_area_admin_may_not_move_a_row_to_successors_outside_their_areas(released):
    """The admin of 15.17.26 alone cannot add the successors 15.17.27/28: refused, nothing
    written."""
    report = released[ODENSE]
    client = area_admin_client(ODENSE, "15.17.26")
    mine = report.items.get(kle_number="15.17.26")
    url = reverse("admin:borgerblikket_kleimpactreport_move", args=[report.pk, mine.pk])
    changes = SheetChange.objects.count()
    assert client.get(url).status_code == 403
    assert client.post(url, {"remove_old": "1"}).status_code == 403
    assert SheetChange.objects.count() == changes


def test_an_area_admin_of_another_municipality_gets_nothing(released):
    client = area_admin_client(FREDENSBORG, "15")
    report = released[ODENSE]
    page = client.get(reverse("admin:borgerblikket_kleimpactreport_change", args=[report.pk]))
    assert page.status_code in (302, 404)


def _member(code: str, role: str, email: str, *areas: str):
    user = f.municipal_admin(code)
    user.email = email
    user.save(update_fields=["email"])
    membership = Membership.objects.get(user=user)
    membership.role = role
    membership.save()
    membership.areas.set([f.kle_subject(a) for a in areas])
    return user


def test_the_municipalitys_admins_are_told_by_e_mail_once_with_a_link_and_no_citizen(
    mailoutbox, django_capture_on_commit_callbacks
):
    """Lead and admin with an address, and an area admin with a row of their areas in the
    report, get one mail each (their own); an area admin of other areas, a member of
    another municipality and a member without an address get none."""
    Role = Membership.Role
    kle_import(source=str(OLDER_EMNEPLAN))
    row(ODENSE, "15.17.26")
    row(ODENSE, "15.62.05")
    row(FREDENSBORG, "15.62.05")
    _member(ODENSE, Role.LEAD, "lead@odense.dk")
    _member(ODENSE, Role.ADMIN, "")
    _member(ODENSE, Role.AREA, "jobcenter@odense.dk", "15.17")
    _member(ODENSE, Role.AREA, "aeldre@odense.dk", "27")
    _member(ODENSE, Role.MANAGER, "chef@odense.dk")
    _member(FREDENSBORG, Role.ADMIN, "admin@fredensborg.dk")
    _member(SYDDJURS, Role.ADMIN, "admin@syddjurs.dk")
    kle_import(source=str(NEWER_EMNEPLAN))

    with django_capture_on_commit_callbacks(execute=True):
        kle_releases_build_pending()

    assert sorted(address for mail in mailoutbox for address in mail.to) == [
        "admin@fredensborg.dk",
        "jobcenter@odense.dk",
        "lead@odense.dk",
    ]
    odense = KleImpactReport.objects.get(municipality_id=ODENSE)
    [to_lead] = [m for m in mailoutbox if m.to == ["lead@odense.dk"]]
    assert "Odense Kommunes konfigurationsark" in to_lead.subject
    assert "2 rækker" in to_lead.body
    assert reverse("admin:borgerblikket_kleimpactreport_change", args=[odense.pk]) in to_lead.body
    assert not re.search(r"\d{6}-?\d{4}", to_lead.body)
    # Built once: a second run sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        kle_releases_build_pending()
    assert len(mailoutbox) == 3
