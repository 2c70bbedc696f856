"""Benchmark: how long the sheet import takes to refuse hostile files, and to read the
largest file it accepts (issue 12.5; docs/security.md, "Hostile sheet files").

Run from the repository root (no database needed: this times the reading, which is
where a file is refused; the admin adds its form and template around it):

    .venv/bin/python bench/sheet_bombs.py [--repeat 5]

Each file is built once (``tests/security/sheet_bombs.py``); the figure is the median
of ``--repeat`` reads with ``sheet_file_rows``, and the peak of Python's heap during
one more read (tracemalloc).
"""

import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from borgerblikket.services.sheet_files import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    XLSX_MAX_CELLS,
    SheetFileError,
    sheet_file_rows,
)
from tests.security import sheet_bombs as bombs


def _largest_xlsx() -> bytes:
    """Lines and cells at their bounds: 3,000 lines of 16 short cells (48,000 cells)."""
    columns = XLSX_MAX_CELLS // MAX_ROWS
    rows = [(n, [f"v{n}-{c}" for c in range(columns)]) for n in range(1, MAX_ROWS + 1)]
    body = []
    for n, values in rows:
        cells = "".join(f'<c t="inlineStr"><is><t>{value}</t></is></c>' for value in values)
        body.append(f'<row r="{n}">{cells}</row>')
    return bombs.xlsx([bombs.worksheet(body)])


def _largest_csv() -> bytes:
    line = ";".join("x" * 12 for _ in range(MAX_COLUMNS)) + "\n"
    return (line * min(MAX_ROWS, (2 * 1024 * 1024) // len(line))).encode()


FILES = {
    "rows bomb, 2 million rows (xlsx)": (lambda: bombs.rows_bomb(2_000_000), "xlsx"),
    "rows bomb without dimension (xlsx)": (
        lambda: bombs.rows_bomb(2_000_000, dimension=False),
        "xlsx",
    ),
    "3,100 rows, no dimension (xlsx)": (lambda: bombs.many_rows_small(MAX_ROWS + 100), "xlsx"),
    "a row at line 1,048,576 (xlsx)": (bombs.sparse_rows, "xlsx"),
    "a cell in column XFD (xlsx)": (bombs.wide_row, "xlsx"),
    "sharedStrings inflating to 200 MB (xlsx)": (bombs.shared_strings_bomb, "xlsx"),
    "one cell of 5 million characters (xlsx)": (bombs.huge_cell, "xlsx"),
    "a cell of 10,001 characters (xlsx)": (lambda: bombs.long_cell(MAX_CELL_CHARS + 1), "xlsx"),
    "2,000 worksheets (xlsx)": (bombs.many_sheets, "xlsx"),
    "billion laughs (xlsx)": (bombs.entity_bomb, "xlsx"),
    "a field of 200 KiB (csv)": (bombs.csv_huge_field, "csv"),
    "a million lines (tsv)": (bombs.csv_many_rows, "tsv"),
    "500,000 columns (csv)": (bombs.csv_many_columns, "csv"),
    "3,000 lines x 17 cells, over the cell bound (xlsx)": (
        lambda: bombs.xlsx([bombs.worksheet([(n, ["x"] * 17) for n in range(1, MAX_ROWS + 1)])]),
        "xlsx",
    ),
    "accepted: 3,000 lines x 16 cells (xlsx)": (_largest_xlsx, "xlsx"),
    "accepted: 2 MB, 50 columns (csv)": (_largest_csv, "csv"),
}


def _read(content: bytes, file_format: str) -> str:
    try:
        rows = sheet_file_rows(content=content, file_format=file_format)
    except SheetFileError as exc:
        return f"refused: {exc}"
    return f"read: {len(rows)} lines"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'file':44} {'size':>9} {'median':>9} {'heap peak':>10}  outcome")
    for name, (build, file_format) in FILES.items():
        content = build()
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            outcome = _read(content, file_format)
            times.append(time.perf_counter() - started)
        tracemalloc.start()
        _read(content, file_format)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        print(
            f"{name:44} {len(content) / 1024:7.0f}KB {statistics.median(times) * 1000:7.1f}ms "
            f"{peak / 1024 / 1024:8.1f}MB  {outcome[:90]}"
        )


if __name__ == "__main__":
    main()
