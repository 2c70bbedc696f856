"""The nightly KLE job as Celery beat schedules it, run by a real worker on Redis and the
test database: the newer release from the file folder is imported and its report built."""

import shutil
import time

import pytest
from django.conf import settings

from borgerblikket.models import KleImpactItem, KleRelease
from config.celery import app as celery_app
from kle.services.importer import kle_import
from tests.borgerblikket.test_kle_releases import ODENSE, row
from tests.kle.release_server import NEWER_EMNEPLAN, OLDER_EMNEPLAN


def test_the_beat_entry_names_a_registered_task():
    entry = settings.CELERY_BEAT_SCHEDULE["kle-release-sync"]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {settings.KLE_SYNC_HOUR}


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_nightly_sync_and_builds_the_report(
    celery_workers, tmp_path, monkeypatch
):
    kle_import(source=str(OLDER_EMNEPLAN))
    row(ODENSE, "15.17.26")
    folder = tmp_path / "kle"
    folder.mkdir()
    shutil.copy(NEWER_EMNEPLAN, folder / "KLE-Emneplan_2016-01-01.xml")
    monkeypatch.setenv("OVERBLIK_TEST_KLE_SYNC_DIR", str(folder))
    celery_workers.start()

    celery_app.send_task(
        settings.CELERY_BEAT_SCHEDULE["kle-release-sync"]["task"], queue=celery_workers.queue
    )

    deadline = time.monotonic() + 90
    while not KleRelease.objects.filter(publication__published_on="2016-01-01").exists():
        assert time.monotonic() < deadline, "the worker built no release"
        time.sleep(0.3)
    item = KleImpactItem.objects.get(report__municipality_id=ODENSE)
    assert (item.kle_number, item.proposed_numbers) == ("15.17.26", ["15.17.27", "15.17.28"])
