"""The nightly retention job as Celery beat schedules it, run by a real worker on Redis and
the test database: the due case goes, the open one stays, the run is audited."""

import datetime as dt
import time

import pytest
from django.conf import settings

from borgerblikket.models import RetentionRun
from config.celery import app as celery_app
from indexes.models import Case, DataAccess, InboxBatch, InboxRecord
from kle.models import Subject
from tests.borgerblikket import retention_world as w
from tests.indexes import factories as ix


def test_the_beat_entry_names_a_registered_daily_task():
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks
    assert entry["schedule"].hour == {settings.OVERBLIK_RETENTION_HOUR}
    assert len(entry["schedule"].minute) == 1  # once a day


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_nightly_retention(celery_workers):
    system = ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=w.ODENSE))
    ix.kle_ensure("32.18.02")
    Subject.objects.filter(number="32.18.02").update(deletion_period=dt.timedelta(days=1800))
    due = w.closed_case(system, closed_at=dt.datetime(2010, 1, 1, tzinfo=w.TZ))
    ix.DocumentFactory(source_system=system, cases=[due])
    kept = ix.CaseFactory(source_system=system)
    old_access = DataAccess.objects.create(
        citizen_cpr=ix.CPR,
        actor_type=DataAccess.Actor.SUPPORT,
        accessed_at=dt.datetime(2001, 1, 1, tzinfo=w.TZ),
    )
    old_batch = InboxBatch.objects.create(
        source_system=system,
        status=InboxBatch.Status.DONE,
        record_count=1,
        received_at=dt.datetime(2001, 1, 1, tzinfo=w.TZ),
        finished_at=dt.datetime(2001, 1, 1, 1, tzinfo=w.TZ),
    )
    InboxRecord.objects.create(
        batch=old_batch, position=0, kind="case", external_id="sag-1", payload={"x": 1}
    )
    pending = InboxBatch.objects.create(
        source_system=system, received_at=dt.datetime(2001, 1, 1, tzinfo=w.TZ)
    )
    celery_workers.start()

    celery_app.send_task(
        settings.CELERY_BEAT_SCHEDULE["retention"]["task"], queue=celery_workers.queue
    )

    deadline = time.monotonic() + 90
    while not RetentionRun.objects.filter(status=RetentionRun.Status.FINISHED).exists():
        assert time.monotonic() < deadline, "the worker finished no retention run"
        time.sleep(0.3)
    run = RetentionRun.objects.get()
    assert run.trigger == RetentionRun.Trigger.SCHEDULE
    assert set(Case.objects.values_list("pk", flat=True)) == {kept.pk}
    assert not DataAccess.objects.filter(pk=old_access.pk).exists()
    assert list(InboxBatch.objects.values_list("pk", flat=True)) == [pending.pk]
    assert not InboxRecord.objects.exists()
    counts = {(c.municipality_id, c.kind): c.count for c in run.counts.all()}
    assert counts == {
        (w.ODENSE, "case"): 1,
        (w.ODENSE, "document"): 1,
        (None, "access_log"): 1,
        (w.ODENSE, "batch"): 1,
        (w.ODENSE, "batch_record"): 1,
    }
