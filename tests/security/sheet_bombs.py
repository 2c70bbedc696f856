"""Hostile sheet files, built byte by byte (openpyxl would take minutes to write them).

Each builder returns the file's bytes; ``tests/security/test_sheet_bombs.py`` uploads
them through the admin's import, and ``bench/sheet_bombs.py`` times the refusals.
An XLSX here is the least a spreadsheet reader accepts: content types, the package
relationship, a workbook naming its sheets, and the sheets (ECMA-376 part 1, §§ 9-12).
"""

import io
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "{sheets}{strings}</Types>"
)
_SHEET_TYPE = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_STRINGS_TYPE = (
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)
_PACKAGE_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Target="xl/workbook.xml" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/officeDocument"/></Relationships>'
)
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

HEADINGS = ("KLE-nr.", "Fradato for visning")


def _cell(ref: str, value) -> str:
    if isinstance(value, int):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _row(number: int, values) -> str:
    cells = "".join(_cell(f"{chr(65 + i)}{number}", v) for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'


def xlsx(
    sheets: list,
    *,
    shared_strings: str | None = None,
    level: int = 9,
) -> bytes:
    """An XLSX whose worksheets are the given XML texts, or iterables of XML chunks
    (streamed into the zip, so a sheet of millions of rows never sits in memory)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as package:
        package.writestr(
            "[Content_Types].xml",
            _CONTENT_TYPES.format(
                sheets="".join(_SHEET_TYPE.format(n=n) for n in range(1, len(sheets) + 1)),
                strings=_STRINGS_TYPE if shared_strings is not None else "",
            ),
        )
        package.writestr("_rels/.rels", _PACKAGE_RELS)
        package.writestr(
            "xl/workbook.xml",
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_R}">'
            "<sheets>"
            + "".join(
                f'<sheet name="Ark{n}" sheetId="{n}" r:id="rId{n}"/>'
                for n in range(1, len(sheets) + 1)
            )
            + "</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{n}" Target="worksheets/sheet{n}.xml" Type="{_R}/worksheet"/>'
            for n in range(1, len(sheets) + 1)
        )
        if shared_strings is not None:
            rels += (
                f'<Relationship Id="rId{len(sheets) + 1}" Target="sharedStrings.xml" '
                f'Type="{_R}/sharedStrings"/>'
            )
        package.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        if shared_strings is not None:
            package.writestr("xl/sharedStrings.xml", shared_strings)
        for n, sheet in enumerate(sheets, start=1):
            with package.open(f"xl/worksheets/sheet{n}.xml", "w") as member:
                chunks = [sheet] if isinstance(sheet, str) else sheet
                for chunk in chunks:
                    member.write(chunk.encode("utf-8"))
    return out.getvalue()


def worksheet(rows, *, dimension: str | None = None, prolog: str = "") -> list[str]:
    """A worksheet's XML in chunks: rows are (number, values) pairs or XML strings."""
    head = f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet xmlns="{_MAIN}">'
    if dimension:
        head += f'<dimension ref="{dimension}"/>'

    def chunks():
        yield head + "<sheetData>"
        batch = []
        for row in rows:
            batch.append(row if isinstance(row, str) else _row(*row))
            if len(batch) == 10_000:
                yield "".join(batch)
                batch = []
        yield "".join(batch)
        yield "</sheetData></worksheet>"

    return chunks()


def sheet_header() -> tuple[int, tuple]:
    return (1, HEADINGS)


# --- the bombs ----------------------------------------------------------------------------


def rows_bomb(rows: int = 2_000_000, *, dimension: bool = True) -> bytes:
    """The issue's file: a tiny XLSX (a few hundred KB) holding millions of trivial rows.

    Rows and cells without an ``r`` attribute follow the one before (ECMA-376 §18.3.1.73),
    so every row is the same bytes and deflate packs them about 400:1.
    """
    block = "<row><c><v>1</v></c></row>" * 10_000

    def body():
        yield _row(*sheet_header())
        for _ in range(rows // 10_000):
            yield block
        yield "<row><c><v>1</v></c></row>" * (rows % 10_000)

    return xlsx([worksheet(body(), dimension=f"A1:B{rows + 1}" if dimension else None)])


def sparse_rows(last_row: int = 1_048_576) -> bytes:
    """Two rows, the second at the sheet's last row: a reader filling the gap makes a million."""
    return xlsx([worksheet([sheet_header(), (last_row, ("32.24.04", "01-01-2020"))])])


def wide_row(last_column: str = "XFD") -> bytes:
    """One cell in the sheet's last column (16,384): a reader pads every row to it."""
    return xlsx(
        [
            worksheet(
                [sheet_header(), f'<row r="2"><c r="{last_column}2"><v>1</v></c></row>'],
                dimension=f"A1:{last_column}2",
            )
        ]
    )


def many_rows_small(rows: int = 20_000) -> bytes:
    """Rows over the limit, in a worksheet well under every size limit and without a
    dimension: only counting while streaming finds them."""
    return xlsx([worksheet([sheet_header(), *(f'<row r="{n}"/>' for n in range(2, rows + 2))])])


def shared_strings_bomb(size: int = 200 * 1024 * 1024) -> bytes:
    """A sharedStrings part that inflates to ``size`` bytes (a zip bomb: read at open)."""

    def chunks():
        yield f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}"><si><t>'
        block = "A" * (1024 * 1024)
        for _ in range(size // len(block)):
            yield block
        yield "</t></si></sst>"

    out = io.BytesIO()
    base = xlsx([worksheet([sheet_header()])], shared_strings="")
    # Rewrite with the streamed sharedStrings part (writestr would need it in memory).
    with (
        zipfile.ZipFile(io.BytesIO(base)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package,
    ):
        for info in source.infolist():
            if info.filename == "xl/sharedStrings.xml":
                with package.open(info.filename, "w") as member:
                    for chunk in chunks():
                        member.write(chunk.encode())
            else:
                package.writestr(info.filename, source.read(info.filename))
    return out.getvalue()


def huge_cell(chars: int = 5 * 1024 * 1024) -> bytes:
    """One inline-string cell of ``chars`` characters."""
    return xlsx(
        [
            worksheet(
                [sheet_header(), (2, ("32.24.04", "01-01-2020")), (3, ("x" * chars,))],
            )
        ]
    )


def long_cell(chars: int) -> bytes:
    """A cell over the sheet's cell limit but far under every size limit."""
    return xlsx([worksheet([sheet_header(), (2, ("32.24.04", "01-01-2020")), (3, ("y" * chars,))])])


def many_sheets(count: int = 2_000) -> bytes:
    """A workbook of thousands of small worksheets."""
    return xlsx([worksheet([sheet_header()]) for _ in range(count)], level=1)


def entity_bomb() -> bytes:
    """ "Billion laughs" in a worksheet: a few hundred bytes that expand to gigabytes."""
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{n} "{f"&a{n - 1};" * 10}">' for n in range(1, 10)
    )
    return xlsx(
        [
            worksheet(
                [
                    sheet_header(),
                    '<row r="2"><c r="A2" t="inlineStr"><is><t>&a9;</t></is></c></row>',
                ],
                prolog=f"<!DOCTYPE worksheet [{entities}]>",
            )
        ]
    )


def csv_huge_field(chars: int = 200 * 1024) -> bytes:
    """A CSV with one field over Python's csv module's default limit (128 KiB)."""
    return (
        "KLE-nr.;Fradato for visning\n32.24.04;01-01-2020\n" + '"' + "z" * chars + '";x\n'
    ).encode()


def csv_many_rows(rows: int = 1_000_000) -> bytes:
    """Far more lines than a sheet can have (each one a few bytes)."""
    return ("KLE-nr.\tFradato for visning\n" + "\n" * rows).encode()


def csv_many_columns(columns: int = 500_000) -> bytes:
    """One line of hundreds of thousands of empty columns."""
    return ("KLE-nr.,Fradato for visning\n" + "," * columns + "\n").encode()
