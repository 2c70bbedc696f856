"""The configuration sheet: validation, import with preview, export round trip, history, revert."""

import datetime as dt

import pytest

from borgerblikket import validators
from borgerblikket.models import Sheet, SheetChange, SheetImport, SheetRow
from borgerblikket.services.sheet_io import (
    HEADERS,
    SheetFileError,
    sheet_export,
    sheet_import_apply,
    sheet_import_plan,
    sheet_import_start,
)
from borgerblikket.services.sheets import (
    SheetError,
    sheet_change_revert,
    sheet_row_delete,
    sheet_row_save,
    sheet_settings_update,
)
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


# --- cells ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01-01-2020", dt.date(2020, 1, 1)),
        ("1-2-2020", dt.date(2020, 2, 1)),
        ("2020-02-01", dt.date(2020, 2, 1)),
        (dt.datetime(2020, 2, 1, 0, 0), dt.date(2020, 2, 1)),
    ],
)
def test_dates_in_danish_and_iso_form(text, expected):
    assert validators.date_parse(text) == expected


@pytest.mark.parametrize("text", ["2020-13-01", "31-02-2020", "01/2020", "", "i morgen"])
def test_bad_dates_name_the_problem(text):
    with pytest.raises(ValueError, match="dato"):
        validators.date_parse(text)


def test_phone_is_eight_digits_spaces_allowed():
    assert validators.phone_parse("66 13 13 72") == "66131372"
    assert validators.phone_parse(66131372) == "66131372"
    assert validators.phone_parse("") == ""
    for bad in ("6613137", "+45 66131372", "6613-1372"):
        with pytest.raises(ValueError, match="8 cifre"):
            validators.phone_parse(bad)


def test_links_must_be_http_urls():
    assert validators.link_parse("https://www.odense.dk/x") == "https://www.odense.dk/x"
    for bad in ("ftp://odense.dk", "www.odense.dk", "javascript:alert(1)", "https://"):
        with pytest.raises(ValueError, match="http"):
            validators.link_parse(bad)
    assert validators.link_warnings("https://post.borger.dk/?logon.aspx?portalid=1") != []
    assert validators.link_warnings("https://post.borger.dk/logon.aspx?portalid=1") == []


# --- Odense's real sheet ------------------------------------------------------------------


@pytest.mark.realdata
def test_odense_sheet_imports_as_far_as_it_validly_can(real_kle, odense_sheet):
    odense = f.municipality("461")
    f.SourceSystemFactory(municipality=odense, name="FASIT", product="FASIT")
    user = f.UserFactory()
    upload, plan = sheet_import_start(
        municipality=odense,
        user=user,
        file_name="odense.tsv",
        content=odense_sheet,
        file_format="tsv",
    )
    # The preview writes nothing.
    assert SheetRow.objects.filter(municipality=odense).count() == 0
    rejected = {line.kle_number: line for line in plan.rejected}
    # KLE numbers newer than the 2015 KLE are rejected, with their line number and reason.
    assert set(rejected) == {"15.62.05", "15.62.10", "15.62.15", "15.27.26"}
    assert rejected["15.62.05"].line == 2
    assert "findes ikke i KLE" in rejected["15.62.05"].errors[0]
    added = {line.kle_number: line for line in plan.added}
    assert {"15.17.06", "15.17.12", "15.17.22", "15.20.24"} <= set(added)
    # The title that differs from KLE's is reported (and kept: it is what the citizen sees).
    assert any("afviger fra KLE's titel" in str(w) for w in added["15.17.06"].warnings)
    # Every Digital Post link has "?logon.aspx?": each row knows, the preview says it once.
    for line in plan.lines:
        assert any("'?' flere gange" in str(w) for w in line.warnings), line.line
    post = [g for g in plan.warning_groups if "'?' flere gange" in g.problem]
    assert len(post) == 1 and len(post[0].lines) == len(plan.lines)

    sheet_import_apply(sheet_import=upload, user=user)
    rows = SheetRow.objects.filter(municipality=odense).select_related("kle_subject")
    assert {r.kle_subject.number for r in rows} == set(added)
    sygedagpenge = rows.get(kle_subject__number="15.17.06")
    assert sygedagpenge.display_name == "Sygedagpenge opfølgning"
    assert sygedagpenge.show_from == dt.date(2020, 1, 4)
    assert sygedagpenge.source_system.name == "FASIT"
    assert sygedagpenge.contact_phone == "66131372"
    assert SheetChange.objects.filter(municipality=odense, via="import").count() == len(added)
    assert SheetImport.objects.get(pk=upload.pk).applied_at is not None
    with pytest.raises(SheetError, match="allerede"):
        sheet_import_apply(sheet_import=upload, user=user)


@pytest.mark.parametrize("file_format", ["xlsx", "csv", "tsv"])
def test_export_then_import_changes_nothing(file_format):
    odense = f.municipality("461")
    fasit = f.SourceSystemFactory(municipality=odense, name="FASIT", product="FASIT")
    f.SheetRowFactory(
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        source_system=fasit,
        show_from=dt.date(2020, 1, 2),
        info_url="https://www.odense.dk/kontanthjaelp",
    )
    f.SheetRowFactory(
        kle_subject=f.kle_subject("15.17.06", "Sygedagpengeopfølgning"),
        display_name="Sygedagpenge",
        contact_phone="",
        self_service_name="Ansøg",
        self_service_url="https://www.borger.dk/x",
    )
    data = sheet_export(municipality=odense, file_format=file_format)
    plan = sheet_import_plan(municipality=odense, content=data, file_format=file_format)
    assert [line.action for line in plan.lines] == ["unchanged", "unchanged"], [
        (line.errors, line.changes) for line in plan.lines
    ]
    before = list(SheetRow.objects.values())
    user = f.UserFactory()
    upload, _ = sheet_import_start(
        municipality=odense, user=user, file_name="x", content=data, file_format=file_format
    )
    sheet_import_apply(sheet_import=upload, user=user)
    assert list(SheetRow.objects.values()) == before
    assert SheetChange.objects.count() == 0


def test_export_has_exactly_the_sheets_columns():
    f.SheetRowFactory()
    text = sheet_export(municipality=f.municipality("461"), file_format="tsv").decode()
    header, first = text.splitlines()[:2]
    assert tuple(header.split("\t")) == HEADERS
    assert first.split("\t")[:3] == ["KLE", "32.24.04", "Hjælp til forsørgelse"]
    assert first.split("\t")[4] == "01-01-2020"


def test_import_plan_changes_and_line_numbers():
    odense = f.municipality("461")
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.kle_subject("27.12.02", "Gammelt emne", expired_on=dt.date(2015, 1, 1))
    f.SheetRowFactory(contact_department="Jobcenter")
    content = "\n".join(
        [
            "\t".join(HEADERS),
            "KLE\t32.24.04\t\t\t01-01-2020\tKontaktcenter\t66131372\t\t\t\t",
            "",
            "KLE\t15.17.06\t\t\t2020-05-01\t\t66 13 13 7\tftp://x\t\t\t",
            "KLE\t27.12.02\t\t\t01-01-2020\t\t\t\t\t\t",
            "KLE\t15.17.06\t\t\t01-01-2020\t\t\t\t\t\t",
            "KLE\t32.30.04\t\tSBSYS\t31-02-2020\t\t\t\t\t\t",
            "XYZ\t32.24.04\t\t\t01-01-2020\t\t\t\t\t\t",
        ]
    ).encode()
    plan = sheet_import_plan(municipality=odense, content=content, file_format="tsv")
    by_line = {line.line: line for line in plan.lines}
    assert by_line[2].action == "change"
    assert by_line[2].changes == [("Kontaktafdeling", "Jobcenter", "Kontaktcenter")]
    assert by_line[4].action == "reject"
    assert any("Kontakttelefon" in e for e in by_line[4].errors)
    assert any("Link til yderligere information" in e for e in by_line[4].errors)
    assert any("udgået" in e for e in by_line[5].errors)
    assert by_line[6].action == "reject"  # duplicate of line 4's KLE number
    assert any("linje 4" in e for e in by_line[6].errors)
    errors7 = " ".join(by_line[7].errors)
    assert "findes ikke i KLE" in errors7 and "SBSYS" in errors7 and "gyldig dato" in errors7
    assert any("'KLE'" in e for e in by_line[8].errors)


def _digital_post(mailbox: int) -> str:
    return (
        "https://post.borger.dk/?logon.aspx?portalid=1049&logon=borger&function=inbox"
        f"&template=borger&mailboxid={mailbox}"
    )


def _warned_sheet() -> bytes:
    """Odense's pattern: every Digital Post link has the page name in its query (each a
    different mailbox), and two names differ from KLE's titles."""
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.kle_subject("15.17.12", "Revalidering")
    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    lines = [
        f"KLE\t15.17.06\tSygedagpenge opfølgning\t\t01-01-2020\t\t\t\t{_digital_post(19330)}\t\t",
        f"KLE\t15.17.12\t\t\t01-01-2020\t\t\t\t{_digital_post(19808)}\t\t",
        f"KLE\t32.24.04\tKontanthjælp\t\t01-01-2020\t\t\t\t{_digital_post(5185)}\t\t",
        "KLE\t99.99.99\t\t\t01-01-2020\t\t\t\t\t\t",
    ]
    return ("\t".join(HEADERS) + "\n" + "\n".join(lines) + "\n").encode()


def test_a_warning_repeated_on_many_lines_is_one_group_naming_them():
    """Issue 11.14: the same Digital Post warning was repeated on every line of the preview."""
    plan = sheet_import_plan(
        municipality=f.municipality("461"), content=_warned_sheet(), file_format="tsv"
    )
    groups = {group.problem: group for group in plan.warning_groups}
    post = [g for problem, g in groups.items() if "'?' flere gange" in problem]
    assert len(post) == 1, list(groups)
    assert post[0].column == "Digitalpost kontaktpunkt (postkasse)"
    assert [(line.line, value) for line, value in post[0].lines] == [
        (2, _digital_post(19330)),
        (3, _digital_post(19808)),
        (4, _digital_post(5185)),
    ]
    names = [g for problem, g in groups.items() if "afviger fra KLE's titel" in problem]
    assert len(names) == 1
    assert [line.kle_number for line, _value in names[0].lines] == ["15.17.06", "32.24.04"]
    assert "Sygedagpenge opfølgning" in names[0].lines[0][1]
    # Each line still knows its own warnings (the import and its tests read them).
    assert [len(line.warnings) for line in plan.lines] == [2, 1, 2, 0]


def test_the_preview_says_a_repeated_warning_once_with_its_lines(client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse
    from lxml import html

    client.force_login(f.municipal_admin("461", username="odense-admin"))
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_import"),
        {"municipality": "461", "file": SimpleUploadedFile("ark.tsv", _warned_sheet())},
    )
    page = response.content.decode()
    assert page.count("flere gange") == 1
    assert page.count("afviger fra KLE") == 1
    rows = html.fromstring(response.content).xpath('//table[@id="warnings"]/tbody/tr')
    texts = [" ".join(row.text_content().split()) for row in rows]
    post = next(text for text in texts if "flere gange" in text)
    for line, mailbox in ((2, 19330), (3, 19808), (4, 5185)):
        assert f"{line} " in post and f"mailboxid={mailbox}" in post


def test_a_file_without_the_sheets_headings_is_refused():
    with pytest.raises(SheetFileError, match=r"KLE-nr\."):
        sheet_import_plan(
            municipality=f.municipality("461"), content=b"a\tb\n1\t2\n", file_format="tsv"
        )
    with pytest.raises(SheetFileError, match="XLSX"):
        sheet_import_plan(
            municipality=f.municipality("461"), content=b"not a zip", file_format="xlsx"
        )


# --- history and revert -------------------------------------------------------------------


def test_every_change_is_kept_and_can_be_reverted():
    odense = f.municipality("461")
    subject = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    user = f.UserFactory()
    row, created = sheet_row_save(
        municipality=odense,
        kle_subject=subject,
        values={"show_from": dt.date(2020, 1, 1), "contact_phone": "66131372"},
        user=user,
    )
    assert created.action == "created" and created.before is None
    _, unchanged = sheet_row_save(
        municipality=odense, kle_subject=subject, values={"contact_phone": "66131372"}, user=user
    )
    assert unchanged is None
    _, updated = sheet_row_save(
        municipality=odense, kle_subject=subject, values={"contact_phone": "12345678"}, user=user
    )
    assert updated.before["contact_phone"] == "66131372"
    assert updated.after["contact_phone"] == "12345678"
    assert updated.user == user

    revert = sheet_change_revert(change=updated, user=user)
    assert SheetRow.objects.get(pk=row.pk).contact_phone == "66131372"
    assert revert.via == "revert" and revert.reverts == updated

    deleted = sheet_row_delete(row=SheetRow.objects.get(pk=row.pk), user=user)
    assert not SheetRow.objects.exists()
    sheet_change_revert(change=deleted, user=user)
    assert SheetRow.objects.get().contact_phone == "66131372"
    sheet_change_revert(change=created, user=user)
    assert not SheetRow.objects.exists()


def test_settings_changes_are_kept_and_revertable():
    odense = f.municipality("461")
    user = f.UserFactory()
    _, change = sheet_settings_update(
        municipality=odense, values={"show_document_titles": True}, user=user
    )
    assert change.before is None and change.after["show_document_titles"] is True
    sheet_change_revert(change=change, user=user)
    assert Sheet.objects.get(pk="461").show_document_titles is False


def test_a_source_system_of_another_municipality_is_refused():
    other = f.SourceSystemFactory(municipality=f.municipality("210"))
    with pytest.raises(SheetError, match="anden kommune"):
        sheet_row_save(
            municipality=f.municipality("461"),
            kle_subject=f.kle_subject("32.24.04"),
            values={"show_from": dt.date(2020, 1, 1), "source_system": other},
            user=None,
        )
    assert not SheetRow.objects.exists()
