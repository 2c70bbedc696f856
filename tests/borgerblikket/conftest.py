"""Fixtures of borgerblikket's tests: the real KLE when present, Odense's real sheet."""

from pathlib import Path

import pytest
from django.conf import settings

REAL_EMNEPLAN = (
    Path(settings.SHARED_DIR) / "data" / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml"
)
ODENSE_SHEET = Path(settings.SHARED_DIR) / "data" / "borgerblikket" / "odense-konfigurationsark.tsv"


@pytest.fixture
def real_kle(db):
    """The real 2015 KLE emneplan, imported by the KLE importer (skipped when absent)."""
    if not REAL_EMNEPLAN.exists():
        pytest.skip(f"the real emneplan is not at {REAL_EMNEPLAN}")
    from kle.services.importer import kle_import

    kle_import(source=str(REAL_EMNEPLAN))


@pytest.fixture
def odense_sheet() -> bytes:
    if not ODENSE_SHEET.exists():
        pytest.skip(f"Odense's sheet is not at {ODENSE_SHEET}")
    return ODENSE_SHEET.read_bytes()
