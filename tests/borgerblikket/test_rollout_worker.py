"""The nightly roll-out snapshot as Celery beat schedules it, run by a real worker on Redis
and the test database: this week's rows of every municipality are written."""

import time

import pytest
from django.conf import settings
from django.utils import timezone

from borgerblikket.models import RolloutSnapshot
from borgerblikket.selectors.rollout import ALL_MANDATORY, week_monday
from config.celery import app as celery_app
from tests.borgerblikket import factories as f


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_takes_the_weeks_snapshot(celery_workers):
    system = f.SourceSystemFactory(municipality=f.municipality("461"))
    f.CaseFactory(source_system=system, kle_subject=f.kle_subject("15.17.06"))
    for number in ("15.17.06", "15.17.12"):
        f.SheetRowFactory(municipality=f.municipality("461"), kle_subject=f.kle_subject(number))
    celery_workers.start()

    celery_app.send_task(
        settings.CELERY_BEAT_SCHEDULE["rollout-snapshot"]["task"], queue=celery_workers.queue
    )

    deadline = time.monotonic() + 90
    while RolloutSnapshot.objects.filter(area="").count() < 98:
        assert time.monotonic() < deadline, "the worker wrote no roll-out snapshot"
        time.sleep(0.3)
    monday = week_monday(timezone.localdate())
    assert set(RolloutSnapshot.objects.values_list("week", flat=True)) == {monday}
    assert RolloutSnapshot.objects.get(municipality_id="461", area="15.17").category == (
        ALL_MANDATORY
    )
