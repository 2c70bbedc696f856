"""The hand-written "newer release" differs from the fixture exactly as its header says."""

import datetime as dt

from kle.services.importer import kle_file_load
from tests.kle.release_server import NEWER_EMNEPLAN, OLDER_EMNEPLAN


def _records(path):
    loaded = kle_file_load(source=str(path))
    return loaded.document, {record.key: record for record in loaded.records.records}


def test_newer_release_is_valid_kle_and_changes_only_what_it_says():
    older_document, older = _records(OLDER_EMNEPLAN)
    newer_document, newer = _records(NEWER_EMNEPLAN)
    assert (older_document.published_on, newer_document.published_on) == (
        dt.date(2015, 8, 1),
        dt.date(2016, 1, 1),
    )
    assert set(newer) - set(older) == {"15.17.27", "15.17.28"}
    assert set(older) - set(newer) == set()
    differing = {key for key in older if older[key].fields != newer[key].fields}
    assert differing == {"15.62.05", "15.17.26"}

    expired = newer["15.62.05"].fields
    assert expired["expired_on"] == dt.date(2016, 1, 1) and expired["moved_on"] is None
    assert expired["title"] == "Dagpenge [udgået]"
    moved = newer["15.17.26"].fields
    assert moved["moved_on"] == dt.date(2016, 1, 1) and moved["expired_on"] is None
    assert moved["successor_numbers"] == ["15.17.27", "15.17.28"]
    assert newer["15.17.27"].fields["title"] == "Jobafklaringsforløb, sygedagpenge"
