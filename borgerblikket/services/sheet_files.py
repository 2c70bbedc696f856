"""Reading an uploaded configuration sheet (XLSX, CSV or TSV) within fixed bounds.

A sheet is small: one line per KLE emne at most (KLE has about 2,100 active emner),
eleven columns, cells of a few hundred characters. A file is refused as a whole
(``SheetFileError``, shown as a form error naming the line, column and problem) as
soon as it goes past any bound below, and always before the work grows with it:

- the upload itself: ``MAX_FILE_BYTES``, checked from the upload's size before it is
  read (``sheet_upload_read``);
- an XLSX is a zip (ECMA-376 part 2): its directory is inspected before any part is
  inflated (part count, declared sizes, compression ratio), then every part is
  inflated once in chunks to count what it really holds (``zipfile`` never yields
  more than a part declares: its CRC check fails), refusing a DTD (OOXML uses none;
  a DTD is how "billion laughs" entities get in) and more rows or cells than a sheet
  can have — all before openpyxl, which parses every worksheet at open and pads
  sparse rows and columns, sees the file;
- rows and columns are counted again while openpyxl streams the first worksheet
  (read-only mode) and while the CSV reader reads, so a bound holds whatever a
  file's ``dimension`` claims;
- every cell is at most ``MAX_CELL_CHARS`` characters.

The bounds and the measured time to refuse each kind of hostile file are in
docs/security.md ("Hostile sheet files").
"""

import csv
import io
import re
import zipfile
import zlib

from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 3_000  # lines of the file, headings and blank lines included
MAX_COLUMNS = 50
MAX_CELL_CHARS = 10_000
# An XLSX of one sheet has about ten parts; each worksheet or string table part is
# inflated at most to the part limit, all of them to the total.
XLSX_MAX_PARTS = 100
XLSX_MAX_PART_BYTES = 8 * 1024 * 1024
XLSX_MAX_TOTAL_BYTES = 16 * 1024 * 1024
# Spreadsheet XML packs about 5-20:1; a part over 1 MiB packed tighter than this is
# a zip bomb, not a sheet.
XLSX_MAX_RATIO = 100
XLSX_RATIO_FROM_BYTES = 1024 * 1024
# Cells in all worksheets: a sheet naming every active KLE emne (about 2,100 lines of
# eleven columns) has 23,000; openpyxl reads about 75,000 cells a second here.
XLSX_MAX_CELLS = 50_000
_CHUNK = 1024 * 1024


class SheetFileError(Exception):
    """The file as a whole cannot be read as a sheet (nothing is imported)."""


def _number(value: int) -> str:
    """Danish thousands separator: 3.000."""
    return f"{value:,}".replace(",", ".")


def _megabytes(value: int) -> str:
    return f"{value / (1024 * 1024):.0f} MB"


def sheet_upload_read(*, upload) -> bytes:
    """The bytes of an uploaded file, refused by its size before any is read.

    ``upload`` is a Django ``UploadedFile`` (its ``size`` is counted while Django
    received it) or any binary file; at most ``MAX_FILE_BYTES + 1`` bytes are read.
    """
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_FILE_BYTES:
        raise SheetFileError(
            _(
                "Filen fylder %(size)s bytes; et konfigurationsark må højst fylde "
                "%(most)s (%(most_bytes)s bytes)"
            )
            % {
                "size": _number(size),
                "most": _megabytes(MAX_FILE_BYTES),
                "most_bytes": _number(MAX_FILE_BYTES),
            }
        )
    content = upload.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise SheetFileError(
            _("Filen er større end %(most)s, som et konfigurationsark højst må fylde")
            % {"most": _megabytes(MAX_FILE_BYTES)}
        )
    return content


# --- XLSX -----------------------------------------------------------------------------------

# What a worksheet holds, counted in its bytes: SpreadsheetML's row and cell elements
# (ECMA-376 §18.3.1.73 <row>, §18.3.1.4 <c>), with or without attributes.
_ROW_RE = re.compile(rb"<row[\s/>]")
_CELL_RE = re.compile(rb"<c[\s/>]")
_DTD_RE = re.compile(rb"<!(DOCTYPE|ENTITY)")
_OVERLAP = 16  # bytes kept between chunks, so a tag split across two is still seen


def _xlsx_inspect(content: bytes) -> None:
    """Refuse an XLSX whose parts would inflate or hold more than a sheet can."""
    try:
        package = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise SheetFileError(_("Filen kan ikke læses som XLSX (den er ikke en zip-fil)")) from exc
    with package:
        parts = package.infolist()
        if len(parts) > XLSX_MAX_PARTS:
            raise SheetFileError(
                _("XLSX-filen har %(parts)s dele; et konfigurationsark har højst %(most)s (ét ark)")
                % {"parts": _number(len(parts)), "most": XLSX_MAX_PARTS}
            )
        total = 0
        for part in parts:
            if part.file_size > XLSX_MAX_PART_BYTES:
                raise SheetFileError(
                    _("XLSX-filens del '%(part)s' fylder %(size)s udpakket; højst %(most)s")
                    % {
                        "part": part.filename[:80],
                        "size": _megabytes(part.file_size),
                        "most": _megabytes(XLSX_MAX_PART_BYTES),
                    }
                )
            total += part.file_size
            if total > XLSX_MAX_TOTAL_BYTES:
                raise SheetFileError(
                    _("XLSX-filen fylder over %(most)s udpakket")
                    % {"most": _megabytes(XLSX_MAX_TOTAL_BYTES)}
                )
            if part.file_size > XLSX_RATIO_FROM_BYTES and part.file_size > XLSX_MAX_RATIO * max(
                part.compress_size, 1
            ):
                raise SheetFileError(
                    _(
                        "XLSX-filens del '%(part)s' er pakket mere end "
                        "%(ratio)s:1 (%(size)s udpakket); det gør et regneark ikke"
                    )
                    % {
                        "part": part.filename[:80],
                        "ratio": XLSX_MAX_RATIO,
                        "size": _megabytes(part.file_size),
                    }
                )
        rows = cells = 0
        for part in parts:
            if part.is_dir():
                continue
            part_rows, part_cells = _xlsx_part_scan(package, part)
            rows, cells = rows + part_rows, cells + part_cells
            if rows > MAX_ROWS * 2:  # every worksheet's rows; only the first is read
                raise SheetFileError(
                    _(
                        "XLSX-filen har over %(rows)s rækker i alt; "
                        "et konfigurationsark har højst %(most)s rækker"
                    )
                    % {"rows": _number(MAX_ROWS * 2), "most": _number(MAX_ROWS)}
                )
            if cells > XLSX_MAX_CELLS:
                raise SheetFileError(
                    _(
                        "XLSX-filen har over %(cells)s celler; "
                        "et konfigurationsark har højst %(most)s"
                    )
                    % {"cells": _number(XLSX_MAX_CELLS), "most": _number(XLSX_MAX_CELLS)}
                )


def _xlsx_part_scan(package: zipfile.ZipFile, part: zipfile.ZipInfo) -> tuple[int, int]:
    """Rows and cells in one part, inflated in chunks; a DTD anywhere refuses the file."""
    rows = cells = 0
    tail = b""
    try:
        with package.open(part) as stream:
            while chunk := stream.read(_CHUNK):
                window = tail + chunk
                if _DTD_RE.search(window):
                    raise SheetFileError(
                        _(
                            "XLSX-filens del '%(part)s' har en DTD (<!DOCTYPE>); "
                            "et regneark bruger ingen, og den kan pumpe filen op"
                        )
                        % {"part": part.filename[:80]}
                    )
                # A match wholly inside the kept tail was counted with the chunk before.
                seen = len(tail)
                rows += sum(1 for m in _ROW_RE.finditer(window) if m.end() > seen)
                cells += sum(1 for m in _CELL_RE.finditer(window) if m.end() > seen)
                tail = window[-_OVERLAP:]
    except SheetFileError:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        NotImplementedError,  # a compression method zipfile does not have
        RuntimeError,  # an encrypted part
        ValueError,
        OSError,
        EOFError,
    ) as exc:
        # A bad CRC (a part larger than it declared), broken deflate data, a cut file.
        raise SheetFileError(
            _("XLSX-filens del '%(part)s' kan ikke pakkes ud (%(error)s)")
            % {"part": part.filename[:80], "error": type(exc).__name__}
        ) from exc
    return rows, cells


def _cell_check(*, line: int, column: int, value) -> None:
    if isinstance(value, str) and len(value) > MAX_CELL_CHARS:
        raise SheetFileError(
            _("Linje %(line)s, kolonne %(column)s: cellen har %(length)s tegn; højst %(most)s")
            % {
                "line": line,
                "column": get_column_letter(column),
                "length": _number(len(value)),
                "most": _number(MAX_CELL_CHARS),
            }
        )


def _too_many_rows() -> SheetFileError:
    return SheetFileError(
        _(
            "Filen har flere end %(most)s rækker; "
            "et konfigurationsark har højst %(most)s (én pr. KLE-emne)"
        )
        % {"most": _number(MAX_ROWS)}
    )


def _xlsx_rows(content: bytes) -> list[tuple[int, list]]:
    from openpyxl import load_workbook

    _xlsx_inspect(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise SheetFileError(_("Filen kan ikke læses som XLSX")) from exc
    try:
        if not workbook.worksheets:
            raise SheetFileError(_("XLSX-filen har intet ark"))
        sheet = workbook.worksheets[0]
        # The sheet's own claim first (its <dimension>), then what it really holds.
        if (sheet.max_row or 0) > MAX_ROWS or (sheet.max_column or 0) > MAX_COLUMNS:
            raise SheetFileError(
                _(
                    "Arket fylder %(rows)s rækker og %(columns)s kolonner; et konfigurationsark "
                    "har højst %(most_rows)s rækker og %(most_columns)s kolonner"
                )
                % {
                    "rows": _number(sheet.max_row or 0),
                    "columns": _number(sheet.max_column or 0),
                    "most_rows": _number(MAX_ROWS),
                    "most_columns": MAX_COLUMNS,
                }
            )
        rows = []
        line = 0
        values_of = sheet.iter_rows(max_row=MAX_ROWS + 1, max_col=MAX_COLUMNS + 1, values_only=True)
        while True:
            try:
                values = next(values_of)
            except StopIteration:
                break
            except SheetFileError:
                raise
            except Exception as exc:  # a cell openpyxl cannot convert (a date out of range, …)
                raise SheetFileError(
                    _("Linje %(line)s kan ikke læses (%(error)s)")
                    % {"line": line + 1, "error": type(exc).__name__}
                ) from exc
            line += 1
            if line > MAX_ROWS:
                raise _too_many_rows()
            values = list(values)
            while values and values[-1] is None:
                values.pop()
            if len(values) > MAX_COLUMNS:
                raise SheetFileError(
                    _(
                        "Linje %(line)s har over %(most)s kolonner; "
                        "et konfigurationsark har højst %(most)s"
                    )
                    % {"line": line, "most": MAX_COLUMNS}
                )
            for column, value in enumerate(values, start=1):
                _cell_check(line=line, column=column, value=value)
            rows.append((line, values))
        return rows
    finally:
        workbook.close()


# --- CSV and TSV ----------------------------------------------------------------------------


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetFileError(_("Filen er hverken UTF-8 eller Windows-1252"))


def _csv_rows(content: bytes, *, delimiter: str | None) -> list[tuple[int, list]]:
    text = _decode(content)
    if "\x00" in text:
        # No spreadsheet writes NUL into a text file; PostgreSQL cannot store it either.
        line = text.count("\n", 0, text.index("\x00")) + 1
        raise SheetFileError(
            _("Linje %(line)s: filen indeholder et NUL-tegn; gem den som tekst") % {"line": line}
        )
    if delimiter is None:
        sample = text[:4096]
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # Python's csv refuses a field over its limit (128 KiB) and a few malformed
            # quotings; both are the file's problem, named by its line.
            problem = (
                _("en celle har over %(most)s tegn") % {"most": _number(csv.field_size_limit())}
                if "field limit" in str(exc)
                else _("linjen kan ikke læses som CSV (%(error)s)") % {"error": exc}
            )
            raise SheetFileError(
                _("Linje %(line)s: %(problem)s") % {"line": line, "problem": problem}
            ) from exc
        if len(rows) >= MAX_ROWS:
            raise _too_many_rows()
        if len(cells) > MAX_COLUMNS:
            raise SheetFileError(
                _(
                    "Linje %(line)s har %(columns)s kolonner; et konfigurationsark har højst %(most)s"
                )
                % {"line": line, "columns": _number(len(cells)), "most": MAX_COLUMNS}
            )
        for column, value in enumerate(cells, start=1):
            _cell_check(line=line, column=column, value=value)
        rows.append((line, cells))
    return rows


READERS = {
    "xlsx": lambda content: _xlsx_rows(content),
    "csv": lambda content: _csv_rows(content, delimiter=None),
    "tsv": lambda content: _csv_rows(content, delimiter="\t"),
}


def sheet_file_rows(*, content: bytes, file_format: str) -> list[tuple[int, list]]:
    """(line number, cells) of every line, numbered as a spreadsheet program shows them.

    Raises ``SheetFileError`` naming the line, column and problem for a file past any
    of the module's bounds or that cannot be read as ``file_format``.
    """
    if len(content) > MAX_FILE_BYTES:
        raise SheetFileError(
            _("Filen er større end %(most)s, som et konfigurationsark højst må fylde")
            % {"most": _megabytes(MAX_FILE_BYTES)}
        )
    reader = READERS.get(file_format)
    if reader is None:
        raise SheetFileError(
            _("Ukendt format '%(format)s'; brug xlsx, csv eller tsv") % {"format": file_format}
        )
    return reader(content)
