"""The real KLE emneplan of 2015-08-01 (read from the shared folder; skipped when absent)."""

import datetime as dt

import pytest

from kle.models import Subject, Succession
from kle.selectors import subject_get, subjects_active
from kle.services.importer import kle_import
from tests.kle.conftest import kle_snapshot

pytestmark = [pytest.mark.django_db, pytest.mark.realdata]


def test_real_emneplan_counts_history_and_a_quiet_second_run(real_emneplan):
    report = kle_import(source=str(real_emneplan))

    assert (report.published_on, report.format) == (dt.date(2015, 8, 1), "2.0")
    assert Subject.objects.filter(level="hovedgruppe").count() == 41
    assert Subject.objects.filter(level="gruppe").count() == 691
    assert Subject.objects.filter(level="emne").count() == 3457
    assert report.created == report.items == 41 + 691 + 3457
    # "Active" = neither expired (UdgaaetDato) nor moved (Flyttet).
    assert subjects_active(level="emne").count() == 2136

    hegnssyn = subject_get(number="02.00.10")
    assert (hegnssyn.title, hegnssyn.is_active) == ("Hegnssyn", True)
    assert subject_get(number="02.00.01").title == "Byggetilladelse [udgået]"
    moved = subject_get(number="00.10.00")
    assert moved.moved_on == dt.date(2014, 11, 1)
    assert [s.number for s in moved.successors.all()] == ["15.40.00"]
    # KLE moves 16.00.15 to 29.00.09, which it does not contain: kept as text, warned.
    dangling = subject_get(number="16.00.15")
    assert dangling.successor_numbers == ["29.00.09"]
    assert not Succession.objects.filter(predecessor=dangling).exists()
    assert [w for w in report.warnings if "29.00.09" in w]
    before = kle_snapshot()

    again = kle_import(source=str(real_emneplan))

    assert (again.changes, again.unchanged) == (0, report.items)
    assert "no changes" in again.summary()
    after = kle_snapshot()
    assert after["Subject"] == before["Subject"]
    assert after["Succession"] == before["Succession"]
