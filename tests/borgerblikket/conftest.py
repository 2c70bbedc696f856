"""Fixtures of borgerblikket's tests: the real KLE and Odense's real sheet (shared data)."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import shared_file

REAL_EMNEPLAN = (
    Path(settings.SHARED_DIR) / "data" / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml"
)
ODENSE_SHEET = Path(settings.SHARED_DIR) / "data" / "borgerblikket" / "odense-konfigurationsark.tsv"


@pytest.fixture
def real_kle(db):
    """The real 2015 KLE emneplan, imported by the KLE importer (skipped when absent)."""
    from kle.services.importer import kle_import

    kle_import(source=str(shared_file(REAL_EMNEPLAN)))


@pytest.fixture
def odense_sheet() -> bytes:
    """Odense's real sheet (skipped when absent)."""
    return shared_file(ODENSE_SHEET).read_bytes()
