"""The scheduled KLE sync against a real local HTTP server standing in for KLE-online:
conditional requests, 304, a newer release, and the file folder as fallback."""

import datetime as dt
import logging
import shutil

import pytest

from kle.models import Publication, Subject, SyncSource
from kle.services.sync import kle_sync
from tests.kle.conftest import kle_snapshot
from tests.kle.release_server import (  # noqa: F401 - kle_online is a fixture
    FACETS,
    NEWER_EMNEPLAN,
    OLDER_EMNEPLAN,
    kle_online,
)

pytestmark = pytest.mark.django_db

Outcome = SyncSource.Outcome


@pytest.fixture
def online(settings, kle_online):  # noqa: F811
    settings.KLE_SYNC_API_BASE = kle_online.base_url
    settings.KLE_SYNC_DIR = ""
    return kle_online


@pytest.fixture
def folder(settings, tmp_path):
    """The file source: an empty folder the test puts KLE files in."""
    path = tmp_path / "kle"
    path.mkdir()
    settings.KLE_SYNC_DIR = str(path)
    return path


def outcomes(report) -> list[tuple[str, str]]:
    return [(step.kind, step.outcome) for step in report.steps]


def test_first_sync_imports_both_kinds_and_remembers_the_validators(online):
    report = kle_sync()

    assert outcomes(report) == [
        ("emneplan", Outcome.IMPORTED),
        ("handlingsfacetter", Outcome.IMPORTED),
    ]
    assert [(s.if_none_match, s.if_modified_since) for s in online.seen] == [(None, None)] * 2
    emneplan = SyncSource.objects.get(source=f"{online.base_url}/emneplan?udgaaede=true")
    assert emneplan.etag == online.server.published["/emneplan"].etag
    assert emneplan.last_modified == "Sat, 01 Aug 2015 12:00:00 GMT"
    assert emneplan.publication.published_on == dt.date(2015, 8, 1)
    assert Subject.objects.filter(number="15.17.26").exists()


def test_a_304_changes_nothing(online):
    kle_sync()
    before = kle_snapshot()

    report = kle_sync()

    assert outcomes(report) == [
        ("emneplan", Outcome.NOT_MODIFIED),
        ("handlingsfacetter", Outcome.NOT_MODIFIED),
    ]
    second = online.seen[2:]
    assert [s.status for s in second] == [304, 304]
    assert second[0].if_none_match == online.server.published["/emneplan"].etag
    assert second[0].if_modified_since == "Sat, 01 Aug 2015 12:00:00 GMT"
    assert kle_snapshot() == before
    assert Publication.objects.count() == 2
    assert report.imported == []


def test_if_modified_since_alone_also_gets_a_304(online):
    kle_sync()
    SyncSource.objects.update(etag="")

    report = kle_sync()

    assert [s.if_none_match for s in online.seen[2:]] == [None, None]
    assert [s.status for s in online.seen[2:]] == [304, 304]
    assert report.imported == []


def test_a_newer_release_is_imported_with_its_expired_and_moved_numbers(online):
    kle_sync()
    online.publish("emneplan", NEWER_EMNEPLAN, on=dt.date(2016, 1, 1))

    report = kle_sync()

    assert outcomes(report) == [
        ("emneplan", Outcome.IMPORTED),
        ("handlingsfacetter", Outcome.NOT_MODIFIED),
    ]
    publication = Publication.objects.get(pk=report.imported[0].publication_id)
    assert publication.published_on == dt.date(2016, 1, 1)
    assert publication.expired_numbers == ["15.62.05"]
    assert publication.moved_numbers == ["15.17.26"]
    assert (publication.created_count, publication.expired_count, publication.moved_count) == (
        2,
        1,
        1,
    )
    moved = Subject.objects.get(number="15.17.26")
    assert sorted(s.number for s in moved.successors.all()) == ["15.17.27", "15.17.28"]


def test_the_server_down_falls_back_to_the_file_folder_and_says_so(online, folder, caplog):
    shutil.copy(NEWER_EMNEPLAN, folder / "KLE-Emneplan_2016-01-01.xml")
    url = f"{online.base_url}/emneplan?udgaaede=true"
    online.stop()

    with caplog.at_level(logging.INFO, logger="kle.sync"):
        report = kle_sync(timeout=2)

    assert outcomes(report) == [
        ("emneplan", Outcome.FAILED),
        ("emneplan", Outcome.IMPORTED),
        ("handlingsfacetter", Outcome.FAILED),
        ("handlingsfacetter", Outcome.SKIPPED),
    ]
    assert "not available" in report.steps[0].message
    assert report.steps[1].source == str(folder / "KLE-Emneplan_2016-01-01.xml")
    assert f"no handlingsfacetter file in {folder}" in report.steps[3].message
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(url in w and "trying the file source" in w for w in warnings), warnings
    assert Publication.objects.get().published_on == dt.date(2016, 1, 1)
    assert SyncSource.objects.get(source=url).outcome == Outcome.FAILED


def test_an_error_status_falls_back_to_the_file_folder(online, folder):
    kle_sync()
    etag = SyncSource.objects.get(kind="emneplan", source__startswith="http").etag
    shutil.copy(NEWER_EMNEPLAN, folder / "KLE-Emneplan_2016-01-01.xml")
    online.fail_with(503)

    report = kle_sync()

    assert report.steps[0].outcome == Outcome.FAILED and "HTTP 503" in report.steps[0].message
    assert report.steps[1].outcome == Outcome.IMPORTED
    # The validators of the last good answer are kept for the next try.
    assert SyncSource.objects.get(kind="emneplan", source__startswith="http").etag == etag


def test_nothing_anywhere_changes_nothing_and_raises_nothing(online, folder):
    online.stop()
    report = kle_sync(timeout=2)
    assert [step.outcome for step in report.steps] == [
        Outcome.FAILED,
        Outcome.SKIPPED,
        Outcome.FAILED,
        Outcome.SKIPPED,
    ]
    assert Publication.objects.count() == 0


def test_an_invalid_answer_is_not_imported_and_is_fetched_again(online, folder, tmp_path):
    broken = tmp_path / "broken.xml"
    broken.write_text("<KLE-Emneplan><UdgivelsesDato>2016-01-01</UdgivelsesDato>")
    online.publish("emneplan", broken, on=dt.date(2016, 1, 1))

    report = kle_sync()

    assert report.steps[0].outcome == Outcome.FAILED
    assert "invalid, nothing imported" in report.steps[0].message
    assert "not well-formed" in report.steps[0].message
    state = SyncSource.objects.get(source__endswith="/emneplan?udgaaede=true")
    assert (state.etag, state.last_modified) == ("", "")
    assert not Publication.objects.filter(kind="emneplan").exists()
    kle_sync()
    assert online.seen[-2].if_none_match is None  # asked again in full


def test_without_an_api_the_folder_alone_is_used_once(settings, folder):
    settings.KLE_SYNC_API_BASE = ""
    shutil.copy(OLDER_EMNEPLAN, folder / "KLE-Emneplan_2015-08-01.xml")
    shutil.copy(FACETS, folder / "KLE-Handlingsfacetter_2015-08-01.xml")

    assert outcomes(kle_sync()) == [
        ("emneplan", Outcome.IMPORTED),
        ("handlingsfacetter", Outcome.IMPORTED),
    ]
    second = kle_sync()
    assert outcomes(second) == [
        ("emneplan", Outcome.UNCHANGED),
        ("handlingsfacetter", Outcome.UNCHANGED),
    ]
    assert "already imported" in second.steps[0].message
    assert Publication.objects.count() == 2


def test_an_older_file_than_what_is_imported_is_skipped(settings, folder):
    settings.KLE_SYNC_API_BASE = ""
    shutil.copy(NEWER_EMNEPLAN, folder / "KLE-Emneplan_2016-01-01.xml")
    kle_sync()
    (folder / "KLE-Emneplan_2016-01-01.xml").unlink()
    shutil.copy(OLDER_EMNEPLAN, folder / "KLE-Emneplan_2015-08-01.xml")
    before = kle_snapshot()

    report = kle_sync()

    assert report.steps[0].outcome == Outcome.SKIPPED
    assert "older than the newest imported" in report.steps[0].message
    assert kle_snapshot() == before
