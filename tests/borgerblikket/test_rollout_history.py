"""The roll-out map's areas and weekly history: a snapshot per ISO week, municipality and
area (a later run in the week replaces the week), the stages, the nightly beat entry and
``manage.py rollout_snapshot``."""

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import translation

from borgerblikket.models import MandatoryKleNumber, RolloutSnapshot, RolloutStage
from borgerblikket.selectors import rollout
from borgerblikket.services.rollout import rollout_snapshot_take
from config.celery import app as celery_app
from tests.borgerblikket import factories as f

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = dt.timezone(dt.timedelta(hours=1))
WEDNESDAY = dt.date(2026, 12, 2)  # week 2026-W49, Monday 30 November
MONDAY = dt.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def _danish():
    """The reasons are Danish here, whatever an earlier test's request left active."""
    with translation.override("da"):
        yield


def _odense_and_fredensborg():
    """Odense: a case in KLE 15, both mandatory 15.17 numbers and one of 32 on the sheet.
    Fredensborg: a grant of a 32.24.04 benefit and that row only."""
    odense = f.SourceSystemFactory(municipality=f.municipality("461"))
    f.CaseFactory(source_system=odense, kle_subject=f.kle_subject("15.17.06"))
    for number in ("15.17.06", "15.17.12", "32.24.04"):
        f.SheetRowFactory(municipality=f.municipality("461"), kle_subject=f.kle_subject(number))
    fredensborg = f.SourceSystemFactory(municipality=f.municipality("210"))
    f.GrantedBenefitFactory(grant=f.GrantFactory(source_system=fredensborg))
    f.SheetRowFactory(municipality=f.municipality("210"), kle_subject=f.kle_subject("32.24.04"))


def test_the_beat_entry_takes_the_snapshot_at_23_53():
    entry = settings.CELERY_BEAT_SCHEDULE["rollout-snapshot"]
    celery_app.loader.import_default_modules()
    assert entry["task"] in celery_app.tasks
    assert settings.OVERBLIK_ROLLOUT_SNAPSHOT_HOUR == 23
    assert entry["schedule"].hour == {23} and entry["schedule"].minute == {53}


def test_stage_one_is_seeded_with_the_mandatory_numbers():
    stage = RolloutStage.objects.get(slug="etape-1")
    assert stage.numbers == tuple(
        sorted(MandatoryKleNumber.objects.values_list("kle_number", flat=True))
    )
    assert len(stage.numbers) == 10 and stage.area_key == "etape:etape-1"


def test_a_stage_keeps_its_numbers_sorted_once_and_refuses_what_is_no_topic():
    stage = RolloutStage(slug="etape-2", name="Etape 2", kle_numbers="32.24.04\n15.17.06,32.24.04")
    stage.full_clean()
    assert stage.kle_numbers == "15.17.06, 32.24.04"
    stage.kle_numbers = "32.24, 32.24.04"
    with pytest.raises(ValidationError) as raised:
        stage.full_clean()
    assert "32.24" in str(raised.value)
    with pytest.raises(IntegrityError), transaction.atomic():  # the database's own check
        RolloutStage.objects.create(slug="etape-3", name="x", kle_numbers="32.24.04,15.17.06")


def test_an_area_judges_the_data_rows_and_required_numbers_inside_it():
    _odense_and_fredensborg()
    f.SheetRowFactory(municipality=f.municipality("751"), kle_subject=f.kle_subject("15.17.06"))
    f.CaseFactory(
        source_system=f.SourceSystemFactory(municipality=f.municipality("751")),
        kle_subject=f.kle_subject("32.24.04"),
    )

    kle15 = rollout.rollout_area(key="15")
    assert kle15.required == ("15.17.06", "15.17.12")
    in15 = {s.code: s for s in rollout.rollout_status(area=kle15)}
    assert in15["461"].category == rollout.ALL_MANDATORY
    assert (in15["461"].exposed, in15["461"].mandatory_exposed) == (2, 2)
    assert in15["210"].category == rollout.NO_DATA  # data, but none in KLE 15
    assert in15["751"].category == rollout.NO_DATA  # a row in 15, its data is in 32
    in32 = {s.code: s for s in rollout.rollout_status(area=rollout.rollout_area(key="32.24"))}
    assert in32["210"].category == rollout.SOME_EXPOSED  # 32.24.04 of five required
    assert in32["751"].category == rollout.NOT_EXPOSED
    assert in32["461"].category == rollout.NO_DATA
    stage = {
        s.code: s for s in rollout.rollout_status(area=rollout.rollout_area(key="etape:etape-1"))
    }
    assert stage["461"].category == rollout.SOME_EXPOSED
    assert (stage["461"].mandatory_exposed, stage["461"].mandatory_total) == (3, 10)
    everything = {s.code: s for s in rollout.rollout_status()}
    assert everything["751"].category == rollout.SOME_EXPOSED


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("15.17.06", "KLE-hovedgruppe"),
        ("1", "KLE-hovedgruppe"),
        ("<script>", "KLE-hovedgruppe"),
        ("99", "findes ikke"),
        ("etape:ingen", "Etapen findes ikke"),
    ],
)
def test_an_unusable_area_is_refused_with_a_reason(key, message):
    f.kle_subject("15.17.06")
    with pytest.raises(rollout.RolloutParameterError, match=message):
        rollout.rollout_area(key=key)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-49", "2026-W49"),
        ("2026-W9", "2026-W49"),
        ("2025-W53", "Uge 53 findes ikke i 2025"),
        ("2026-W00", "Uge 0 findes ikke"),
        ("2026-W50", "fremtiden"),
    ],
)
def test_an_unusable_week_is_refused_with_a_reason(text, message):
    with pytest.raises(rollout.RolloutParameterError, match=message):
        rollout.rollout_week(text=text, today=WEDNESDAY)


def test_a_week_is_its_monday():
    assert rollout.rollout_week(text="2026-W49", today=WEDNESDAY) == MONDAY
    assert rollout.rollout_week(text="2020-W53", today=WEDNESDAY) == dt.date(2020, 12, 28)
    assert rollout.rollout_week(text="", today=WEDNESDAY) is None
    assert rollout.week_label(dt.date(2021, 1, 4)) == "2021-W01"


def test_a_snapshot_records_every_municipality_in_every_tracked_area():
    _odense_and_fredensborg()
    f.kle_subject("02.00.10")  # KLE, no row, nothing mandatory: not tracked

    result = rollout_snapshot_take(today=WEDNESDAY)

    assert result.week == MONDAY
    areas = set(RolloutSnapshot.objects.values_list("area", flat=True))
    # KLE main groups and groups of mandatory numbers and rows that KLE has (32.27 and
    # 32.30 are mandatory, but this KLE lacks them); not 02, which nothing uses.
    assert areas == {"", "etape:etape-1", "15", "15.17", "32", "32.24"}
    assert result.areas == 6 and result.rows == 6 * 98 == RolloutSnapshot.objects.count()
    assert set(RolloutSnapshot.objects.values_list("week", flat=True)) == {MONDAY}
    odense = RolloutSnapshot.objects.get(municipality_id="461", area="15")
    assert odense.category == rollout.ALL_MANDATORY
    assert (odense.exposed, odense.required_exposed, odense.required_total) == (2, 2, 2)
    assert RolloutSnapshot.objects.get(municipality_id="210", area="").category == (
        rollout.SOME_EXPOSED
    )
    shown = rollout.rollout_status_of_week(area=rollout.rollout_area(key="15"), week=MONDAY)
    assert len(shown) == 98 and {s.code: s for s in shown}["461"].category == rollout.ALL_MANDATORY


def test_a_later_run_in_the_same_week_replaces_it_and_earlier_weeks_stay():
    _odense_and_fredensborg()
    rollout_snapshot_take(today=dt.date(2026, 11, 25))  # week 48
    rollout_snapshot_take(today=MONDAY)
    f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("751")))

    rollout_snapshot_take(today=dt.date(2026, 12, 6))  # Sunday of week 49

    def category(week):
        return RolloutSnapshot.objects.get(week=week, municipality_id="751", area="").category

    assert category(MONDAY) == rollout.NOT_EXPOSED
    assert category(dt.date(2026, 11, 23)) == rollout.NO_DATA
    assert RolloutSnapshot.objects.filter(week=MONDAY, area="").count() == 98
    trend = rollout.rollout_trend(area=rollout.rollout_area(key=""), until=MONDAY, codes=None)
    assert [t.label for t in trend[:3]] == ["2026-W49", "2026-W48", "2026-W47"]
    assert len(trend) == rollout.TREND_WEEKS == 12
    assert trend[0].counts[rollout.NOT_EXPOSED] == 1 and trend[1].counts[rollout.NOT_EXPOSED] == 0
    assert trend[0].total == trend[1].total == 98 and trend[2].counts == {}
    own = rollout.rollout_trend(
        area=rollout.rollout_area(key=""), until=MONDAY, codes=frozenset({"461"})
    )
    assert own[0].counts == {**dict.fromkeys(rollout.CATEGORIES, 0), "some_exposed": 1}


def test_the_database_keeps_one_row_per_week_municipality_and_area_on_a_monday():
    RolloutSnapshot.objects.create(
        week=MONDAY, municipality_id="461", area="15", category=rollout.NO_DATA
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        RolloutSnapshot.objects.create(
            week=MONDAY, municipality_id="461", area="15", category=rollout.NO_DATA
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RolloutSnapshot.objects.create(
            week=WEDNESDAY, municipality_id="461", area="15", category=rollout.NO_DATA
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RolloutSnapshot.objects.create(
            week=MONDAY, municipality_id="461", area="32", category="somewhere"
        )


def test_the_command_takes_this_weeks_snapshot():
    _odense_and_fredensborg()
    out = StringIO()
    with time_machine.travel(dt.datetime(2026, 12, 2, 12, 0, tzinfo=TZ), tick=False):
        call_command("rollout_snapshot", stdout=out)
        call_command("rollout_snapshot", stdout=out)
    assert "Roll-out snapshot of week 2026-W49 (Monday 2026-11-30): 6 areas, 588 rows." in (
        out.getvalue()
    )
    assert RolloutSnapshot.objects.count() == 588
