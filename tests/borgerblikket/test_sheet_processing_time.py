"""The sheet's published processing time per KLE row (*sagsbehandlingsfrist*,
retssikkerhedsloven § 3, stk. 2): a number of days or weeks (issue 14).

One column in the file, "Sagsbehandlingsfrist", written "8 uger" or "30 dage";
two fields in the row (``processing_time``, ``processing_time_unit``). Through
the admin form, the import (with and without the column: sheets with the old
column count still import and keep what the row has), the export round trip and
the change history with revert.
"""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from borgerblikket import validators
from borgerblikket.models import ProcessingTimeUnit, SheetChange, SheetRow
from borgerblikket.services.sheet_io import (
    HEADERS,
    sheet_export,
    sheet_import_apply,
    sheet_import_plan,
    sheet_import_start,
)
from borgerblikket.services.sheets import sheet_change_revert, sheet_row_save
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DAYS, WEEKS = ProcessingTimeUnit.DAYS, ProcessingTimeUnit.WEEKS
# The sheet's columns before the processing time: Odense's real sheet has these ten.
OLD_HEADERS = HEADERS[1:11]


# --- the cell ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("8 uger", (8, WEEKS)),
        ("1 uge", (1, WEEKS)),
        ("30 dage", (30, DAYS)),
        ("1 dag", (1, DAYS)),
        (" 12  Uger ", (12, WEEKS)),
        ("6 weeks", (6, WEEKS)),
        ("14 days", (14, DAYS)),
        ("", (None, "")),
        (None, (None, "")),
    ],
)
def test_the_cell_reads_a_number_and_days_or_weeks(cell, expected):
    assert validators.processing_time_parse(cell) == expected


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("8", "dage eller uger"),
        (8, "dage eller uger"),
        ("otte uger", "dage eller uger"),
        ("3 måneder", "dage eller uger"),
        ("0 dage", "mindst 1"),
        ("731 dage", "højst 730 dage"),
        ("105 uger", "højst 104 uger"),
        ("8,5 uger", "dage eller uger"),
    ],
)
def test_a_bad_cell_names_the_problem(cell, problem):
    with pytest.raises(ValueError, match=problem):
        validators.processing_time_parse(cell)


def test_the_cell_is_written_as_the_municipality_publishes_it():
    assert validators.processing_time_format(8, WEEKS) == "8 uger"
    assert validators.processing_time_format(1, WEEKS) == "1 uge"
    assert validators.processing_time_format(30, DAYS) == "30 dage"
    assert validators.processing_time_format(1, DAYS) == "1 dag"
    assert validators.processing_time_format(None, "") == ""


def test_the_database_refuses_half_a_processing_time():
    row = f.SheetRowFactory()
    for values in ({"processing_time": 8}, {"processing_time_unit": WEEKS}):
        with pytest.raises(IntegrityError), transaction.atomic():
            SheetRow.objects.filter(pk=row.pk).update(**values)
    with pytest.raises(IntegrityError), transaction.atomic():
        SheetRow.objects.filter(pk=row.pk).update(processing_time=0, processing_time_unit=DAYS)


# --- import and export ------------------------------------------------------------------


def _tsv(headers, *lines) -> bytes:
    return ("\t".join(headers) + "\n" + "\n".join("\t".join(line) for line in lines)).encode()


def _apply(municipality, content):
    user = f.UserFactory()
    upload, plan = sheet_import_start(
        municipality=municipality,
        user=user,
        file_name="ark.tsv",
        content=content,
        file_format="tsv",
    )
    sheet_import_apply(sheet_import=upload, user=user)
    return plan


@pytest.mark.parametrize("file_format", ["xlsx", "csv", "tsv"])
def test_export_then_import_changes_nothing_with_the_processing_time(file_format):
    odense = f.municipality("461")
    f.SheetRowFactory(processing_time=8, processing_time_unit=WEEKS)
    f.SheetRowFactory(
        kle_subject=f.kle_subject("15.17.06", "Sygedagpengeopfølgning"),
        processing_time=30,
        processing_time_unit=DAYS,
    )
    f.SheetRowFactory(kle_subject=f.kle_subject("27.24.06", "Praktisk hjælp"))  # none published
    data = sheet_export(municipality=odense, file_format=file_format)
    plan = sheet_import_plan(municipality=odense, content=data, file_format=file_format)
    assert [line.action for line in plan.lines] == ["unchanged"] * 3, [
        (line.errors, line.changes) for line in plan.lines
    ]
    before = list(SheetRow.objects.order_by("pk").values())
    user = f.UserFactory()
    upload, _ = sheet_import_start(
        municipality=odense, user=user, file_name="x", content=data, file_format=file_format
    )
    sheet_import_apply(sheet_import=upload, user=user)
    assert list(SheetRow.objects.order_by("pk").values()) == before
    assert SheetChange.objects.count() == 0


def test_the_export_has_the_column_last_written_as_published():
    f.SheetRowFactory(processing_time=8, processing_time_unit=WEEKS)
    text = sheet_export(municipality=f.municipality("461"), file_format="tsv").decode()
    header, first = text.splitlines()[:2]
    assert header.split("\t")[-1] == "Sagsbehandlingsfrist"
    assert tuple(header.split("\t")[:11]) == (HEADERS[0], *OLD_HEADERS)
    assert first.split("\t")[-1] == "8 uger"


def test_a_sheet_with_the_old_columns_imports_and_keeps_the_processing_time():
    odense = f.municipality("461")
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.SheetRowFactory(processing_time=8, processing_time_unit=WEEKS, contact_department="Jobcenter")
    content = _tsv(
        OLD_HEADERS,
        ["32.24.04", "", "", "01-01-2020", "Kontaktcenter", "66131372", "", "", "", ""],
        ["15.17.06", "", "", "01-05-2020", "", "", "", "", "", ""],
    )
    plan = _apply(odense, content)
    assert [line.action for line in plan.lines] == ["change", "add"]
    assert plan.lines[0].changes == [("Kontaktafdeling", "Jobcenter", "Kontaktcenter")]
    kept = SheetRow.objects.get(kle_subject__number="32.24.04")
    assert (kept.processing_time, kept.processing_time_unit) == (8, WEEKS)
    added = SheetRow.objects.get(kle_subject__number="15.17.06")
    assert (added.processing_time, added.processing_time_unit) == (None, "")


def test_the_import_sets_changes_and_clears_the_processing_time_shown_in_the_preview():
    odense = f.municipality("461")
    f.kle_subject("15.17.06", "Sygedagpengeopfølgning")
    f.kle_subject("27.24.06", "Praktisk hjælp")
    f.SheetRowFactory(processing_time=8, processing_time_unit=WEEKS)
    f.SheetRowFactory(
        kle_subject=f.kle_subject("15.17.06"), processing_time=4, processing_time_unit=WEEKS
    )
    headers = (*OLD_HEADERS, "Sagsbehandlingsfrist")
    blank = ["", "", "01-01-2020", "Kontaktcenter", "66131372", "", "", "", ""]
    content = _tsv(
        headers,
        ["32.24.04", *blank, "56 dage"],
        ["15.17.06", *blank, ""],
        ["27.24.06", *blank, "3 måneder"],
    )
    plan = sheet_import_plan(municipality=odense, content=content, file_format="tsv")
    by_kle = {line.kle_number: line for line in plan.lines}
    assert by_kle["32.24.04"].changes == [("Sagsbehandlingsfrist", "8 uger", "56 dage")]
    assert by_kle["15.17.06"].changes == [("Sagsbehandlingsfrist", "4 uger", "")]
    assert by_kle["27.24.06"].action == "reject"
    assert any(e.startswith("Sagsbehandlingsfrist:") for e in by_kle["27.24.06"].errors)

    _apply(odense, content)
    rows = {
        r.kle_subject.number: (r.processing_time, r.processing_time_unit)
        for r in SheetRow.objects.select_related("kle_subject")
    }
    assert rows == {"32.24.04": (56, DAYS), "15.17.06": (None, "")}
    change = SheetChange.objects.get(kle_number="32.24.04", via="import")
    assert (change.before["processing_time"], change.before["processing_time_unit"]) == (8, WEEKS)
    assert (change.after["processing_time"], change.after["processing_time_unit"]) == (56, DAYS)


# --- history and revert -----------------------------------------------------------------


def test_a_change_of_the_processing_time_is_kept_and_can_be_reverted():
    odense = f.municipality("461")
    subject = f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    user = f.UserFactory()
    row, _ = sheet_row_save(
        municipality=odense,
        kle_subject=subject,
        values={
            "show_from": dt.date(2020, 1, 1),
            "processing_time": 8,
            "processing_time_unit": WEEKS,
        },
        user=user,
    )
    _, changed = sheet_row_save(
        municipality=odense,
        kle_subject=subject,
        values={"processing_time": 30, "processing_time_unit": DAYS},
        user=user,
    )
    assert changed.before["processing_time"] == 8 and changed.after["processing_time"] == 30
    sheet_change_revert(change=changed, user=user)
    row.refresh_from_db()
    assert (row.processing_time, row.processing_time_unit) == (8, WEEKS)


def test_a_change_from_before_the_column_existed_reverts_without_touching_it():
    """History rows written before the processing time existed have no such key."""
    odense = f.municipality("461")
    row = f.SheetRowFactory(processing_time=8, processing_time_unit=WEEKS)
    old = SheetChange.objects.create(
        municipality=odense,
        target=SheetChange.Target.ROW,
        kle_number="32.24.04",
        action=SheetChange.Action.UPDATED,
        via=SheetChange.Via.ADMIN,
        before={"kle_number": "32.24.04", "show_from": "2020-01-01", "contact_phone": "12345678",
                "source_system": None, "source_system_id": None},
        after={"kle_number": "32.24.04", "show_from": "2020-01-01", "contact_phone": "66131372",
               "source_system": None, "source_system_id": None},
    )  # fmt: skip
    sheet_change_revert(change=old, user=f.UserFactory())
    row.refresh_from_db()
    assert row.contact_phone == "12345678"
    assert (row.processing_time, row.processing_time_unit) == (8, WEEKS)


# --- the admin --------------------------------------------------------------------------


@pytest.fixture
def odense_admin(client):
    client.force_login(f.municipal_admin("461", username="odense-frister"))
    return client


def _form(row, **over):
    return {
        "municipality": "461",
        "kle_number": "32.24.04",
        "display_name": "",
        "source_system": "",
        "show_from": "01-01-2020",
        "contact_department": "Kontaktcenter",
        "contact_phone": "66131372",
        "info_url": "",
        "digital_post_url": "",
        "self_service_name": "",
        "self_service_url": "",
        "processing_time": "",
        "processing_time_unit": "",
    } | over


def test_the_admin_edits_the_processing_time_and_keeps_the_change(odense_admin):
    row = f.SheetRowFactory()
    url = reverse("admin:borgerblikket_sheetrow_change", args=[row.pk])
    page = odense_admin.get(url).content.decode()
    assert "Sagsbehandlingsfrist" in page
    response = odense_admin.post(url, _form(row, processing_time="8", processing_time_unit="weeks"))
    assert response.status_code == 302, response.content.decode()[:3000]
    row.refresh_from_db()
    assert (row.processing_time, row.processing_time_unit) == (8, WEEKS)
    change = SheetChange.objects.get(kle_number="32.24.04")
    assert change.after["processing_time"] == 8 and change.after["processing_time_unit"] == WEEKS
    history = odense_admin.get(reverse("admin:borgerblikket_sheetchange_change", args=[change.pk]))
    assert "8 uger" in history.content.decode()


@pytest.mark.parametrize(
    "over",
    [
        {"processing_time": "8"},
        {"processing_time_unit": "weeks"},
        {"processing_time": "0", "processing_time_unit": "days"},
        {"processing_time": "200", "processing_time_unit": "weeks"},
    ],
)
def test_the_admin_refuses_half_or_out_of_range_naming_the_field(odense_admin, over):
    row = f.SheetRowFactory()
    url = reverse("admin:borgerblikket_sheetrow_change", args=[row.pk])
    response = odense_admin.post(url, _form(row, **over))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) & {"processing_time", "processing_time_unit"}, errors
    row.refresh_from_db()
    assert row.processing_time is None and not SheetChange.objects.exists()
