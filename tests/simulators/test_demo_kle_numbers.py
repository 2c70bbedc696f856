"""The KLE numbers the project ships are ones KLE has (issue 11.14).

Every line of every demo sheet, and every KLE number in the docs' examples, must name an
emne that exists and is active (neither expired nor moved) — the rule the sheet import
and the API apply — in the hand-written KLE fixture (what the demo and the tests load)
and in the real KLE (``../shared/data/kle``; skipped without it outside CI, a failure
under CI). The Syddjurs demo sheet had 15.62.10, which only the fixture has, and
docs/api.md's example case used it too.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from borgerblikket.services.sheet_io import FIRST_COLUMN
from borgerblikket.services.sheets import kle_subject_for_sheet
from borgerblikket.validators import KLE_TOPIC_RE
from kle.models import Publication
from kle.services.ensure import FIXTURE_FILES
from kle.services.importer import kle_import
from simulators.demo import DEMO_DIR
from tests.borgerblikket.conftest import REAL_EMNEPLAN

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

ROOT = Path(settings.BASE_DIR)
DEMO_SHEETS = sorted(DEMO_DIR.glob("*-konfigurationsark.tsv"))
# Example records in the docs: "kle_number": "NN.NN.NN", and a case number that opens
# with its KLE number ("27.60.08-G01-1-24", KL's journal plan form).
DOC_KLE_RE = re.compile(
    r'"kle_number"\s*:\s*"(?P<kle>[^"]*)"|"case_number"\s*:\s*"(?P<case>\d\d\.\d\d\.\d\d)-'
)


def _real_kle() -> None:
    """Import the real emneplan; skip without it outside CI, fail under CI."""
    if not REAL_EMNEPLAN.exists():
        reason = f"the real emneplan is not at {REAL_EMNEPLAN}"
        if settings.IN_CI:
            pytest.fail(f"{reason}, and CI must have it")
        pytest.skip(f"{reason} (outside CI)")
    kle_import(source=str(REAL_EMNEPLAN))


def _fixture_kle() -> None:
    kle_import(source=str(FIXTURE_FILES[Publication.Kind.SUBJECT_PLAN]))


def _sheet_numbers(path: Path) -> list[tuple[int, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    headings = lines[0].split("\t")
    assert headings[0] == FIRST_COLUMN, path.name
    column = headings.index("KLE-nr.")
    return [
        (number, line.split("\t")[column])
        for number, line in enumerate(lines[1:], start=2)
        if line.strip()
    ]


def _doc_numbers() -> list[tuple[str, str]]:
    found = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for match in DOC_KLE_RE.finditer(path.read_text(encoding="utf-8")):
            found.append((path.name, match.group("kle") or match.group("case")))
    return found


def _refused(numbers) -> list[str]:
    refused = []
    for where, number in numbers:
        try:
            kle_subject_for_sheet(number=number)
        except ValueError as exc:
            refused.append(f"{where}: {exc}")
    return refused


def test_there_are_demo_sheets_and_doc_examples_to_check():
    assert len(DEMO_SHEETS) >= 2
    assert all(_sheet_numbers(path) for path in DEMO_SHEETS)
    numbers = _doc_numbers()
    assert any(where == "api.md" for where, _ in numbers), numbers
    assert all(KLE_TOPIC_RE.match(number) for _, number in numbers), numbers


@pytest.mark.parametrize("load", [_fixture_kle, _real_kle], ids=["fixture", "real"])
def test_every_demo_sheet_line_is_an_active_kle_emne(load):
    load()
    numbers = [
        (f"{path.name} line {line}", number)
        for path in DEMO_SHEETS
        for line, number in _sheet_numbers(path)
    ]
    assert _refused(numbers) == []


@pytest.mark.parametrize("load", [_fixture_kle, _real_kle], ids=["fixture", "real"])
def test_every_kle_number_in_the_docs_examples_is_an_active_kle_emne(load):
    load()
    assert _refused(_doc_numbers()) == []
