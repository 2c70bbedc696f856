"""The cursor service: every change exactly once, through the same engine as the REST API."""

import datetime

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from indexes.feeds import services
from indexes.feeds.services import FeedConfigError, feed_enable, feed_poll, feed_register
from indexes.models import Case, Change, Document, FeedCursor, FeedPoll, FeedRejection, SourceFeed
from simulators.feeds import stand_in_of
from tests.feeds.conftest import (
    NOW,
    changes_are_exactly_once,
    expected_outcomes,
    index_matches_truth,
    poll_totals,
    poll_until_done,
    source_system_make,
)

pytestmark = pytest.mark.django_db
PRODUCTS = ["FASIT", "SBSYS", "Nexus", "KMD Ydelse"]


def simulator_of(feed):
    return stand_in_of(feed)


@pytest.mark.parametrize("product", PRODUCTS)
def test_polling_applies_every_change_once_and_the_index_equals_the_source(feed_make, now, product):
    feed = feed_make(product, page_size=40, demo=True)
    sim = simulator_of(feed)
    visible = sim.log[: sim.visible_count(NOW)]

    polls = poll_until_done(feed)

    assert all(poll.status == FeedPoll.Status.SUCCEEDED for poll in polls)
    totals = poll_totals(feed)
    assert totals["received"] == len(visible)
    assert totals["rejected"] == 0
    assert {k: totals[k] for k in ("created", "updated", "unchanged", "stale")} == {
        k: expected_outcomes(visible)[k] for k in ("created", "updated", "unchanged", "stale")
    }
    index_matches_truth(feed, sim.truth(now=NOW))
    changes_are_exactly_once(feed)
    assert FeedCursor.objects.get(feed=feed).records == len(visible)


def test_duplicates_and_out_of_order_updates_end_as_unchanged_and_stale(feed_make, now):
    feed = feed_make("FASIT", citizens=40, faults={"duplicate": 0.3, "out_of_order": 0.5})
    sim = simulator_of(feed)
    visible = sim.log[: sim.visible_count(NOW)]
    poll_until_done(feed)
    totals = poll_totals(feed)
    expected = expected_outcomes(visible)
    assert expected["stale"] > 0 and expected["unchanged"] > 0
    assert totals["stale"] == expected["stale"]
    assert totals["unchanged"] == expected["unchanged"]
    index_matches_truth(feed, sim.truth(now=NOW))  # the newest version wins
    changes_are_exactly_once(feed)


def test_a_later_poll_fetches_only_what_changed_since(feed_make, time_machine):
    earlier = NOW - datetime.timedelta(days=200)
    time_machine.move_to(earlier, tick=False)
    feed = feed_make("SBSYS", citizens=40)
    sim = simulator_of(feed)
    first = poll_until_done(feed)[-1]
    assert poll_totals(feed)["received"] == sim.visible_count(earlier) > 0

    nothing = feed_poll(feed_id=feed.pk)
    assert nothing.received == 0 and nothing.cursor_before == first.cursor_after

    time_machine.move_to(NOW, tick=False)
    later = poll_until_done(feed)
    assert later[0].cursor_before == first.cursor_after
    assert sum(p.received for p in later) == sim.visible_count(NOW) - sim.visible_count(earlier)
    index_matches_truth(feed, sim.truth(now=NOW))
    changes_are_exactly_once(feed)


def test_an_exception_mid_poll_loses_nothing_and_the_next_poll_resumes(feed_make, now, monkeypatch):
    feed = feed_make("KMD Ydelse", citizens=30, page_size=100)
    sim = simulator_of(feed)
    visible = sim.log[: sim.visible_count(NOW)]
    real_apply = services.records_apply_many
    calls = {"n": 0}

    def apply_then_fail(**kwargs):
        calls["n"] += 1
        results = real_apply(**kwargs)  # the records are written ...
        if calls["n"] == 3:
            raise RuntimeError("disk full")  # ... and then the page fails
        return results

    monkeypatch.setattr(services, "records_apply_many", apply_then_fail)
    failed = feed_poll(feed_id=feed.pk)
    assert failed.status == FeedPoll.Status.FAILED
    assert "RuntimeError: disk full" in failed.error
    assert failed.pages == 2  # the third page rolled back with its cursor move
    cursor = FeedCursor.objects.get(feed=feed)
    assert cursor.position == failed.cursor_after and cursor.pages == 2
    assert Change.objects.filter(source_system=feed.source_system).count() == (
        failed.created + failed.updated
    )

    monkeypatch.setattr(services, "records_apply_many", real_apply)
    poll_until_done(feed)
    totals = poll_totals(feed)
    assert totals["received"] == len(visible)
    expected = expected_outcomes(visible)
    assert (totals["created"], totals["updated"]) == (expected["created"], expected["updated"])
    index_matches_truth(feed, sim.truth(now=NOW))
    changes_are_exactly_once(feed)


def test_a_failure_after_the_records_but_before_the_cursor_undoes_the_page(
    feed_make, now, monkeypatch
):
    feed = feed_make("FASIT", citizens=30, page_size=30, faults={"kle_unknown": 0.2})
    real_bulk_create = FeedRejection.objects.bulk_create
    calls = {"n": 0}

    def fail_on_second(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("database went away")
        return real_bulk_create(objs, *args, **kwargs)

    monkeypatch.setattr(FeedRejection.objects, "bulk_create", fail_on_second)
    failed = feed_poll(feed_id=feed.pk)
    assert failed.status == FeedPoll.Status.FAILED and failed.pages == 1
    written = (
        Case.objects.filter(source_system=feed.source_system).count()
        + Document.objects.filter(source_system=feed.source_system).count()
    )
    assert written == failed.created  # only the first page's records; the second rolled back
    assert Change.objects.filter(source_system=feed.source_system).count() == (
        failed.created + failed.updated
    )
    monkeypatch.undo()
    poll_until_done(feed)
    changes_are_exactly_once(feed)


def test_an_unreadable_page_stops_the_poll_and_keeps_the_cursor(feed_make, now, monkeypatch):
    feed = feed_make("FASIT", citizens=30, page_size=20)
    real_fetch = services.page_fetch
    calls = {"n": 0}

    def fetch(**kwargs):
        calls["n"] += 1
        return b"{broken" if calls["n"] == 2 else real_fetch(**kwargs)

    monkeypatch.setattr(services, "page_fetch", fetch)
    failed = feed_poll(feed_id=feed.pk)
    assert failed.status == FeedPoll.Status.FAILED
    assert "FASIT-siden kan ikke læses" in failed.error
    assert failed.pages == 1 and FeedCursor.objects.get(feed=feed).pages == 1
    monkeypatch.undo()
    assert poll_until_done(feed)[-1].status == FeedPoll.Status.SUCCEEDED
    changes_are_exactly_once(feed)


def test_a_live_poll_is_not_doubled_and_a_silent_one_is_taken_over(feed_make, now):
    feed = feed_make("Nexus")
    alive = FeedPoll.objects.create(feed=feed, status=FeedPoll.Status.RUNNING)
    assert feed_poll(feed_id=feed.pk) is None

    FeedPoll.objects.filter(pk=alive.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=feed.lease_seconds + 1)
    )
    taken_over = feed_poll(feed_id=feed.pk)
    assert taken_over.status == FeedPoll.Status.SUCCEEDED
    alive.refresh_from_db()
    assert alive.status == FeedPoll.Status.INTERRUPTED
    assert "livstegn" in alive.error


def test_a_switched_off_feed_is_not_polled_and_its_schedule_follows(feed_make, now):
    feed = feed_make("FASIT")
    feed_enable(feed=feed, enabled=False)
    assert feed_poll(feed_id=feed.pk) is None
    assert PeriodicTask.objects.get(pk=feed.periodic_task_id).enabled is False
    feed_enable(feed=feed, enabled=True)
    assert PeriodicTask.objects.get(pk=feed.periodic_task_id).enabled is True


def test_rejections_are_logged_with_their_reason_and_never_a_cpr(feed_make, now):
    feed = feed_make("FASIT", citizens=40, faults={"kle_unknown": 1.0})
    poll = poll_until_done(feed)[-1]
    codes = poll_totals(feed)
    assert codes["rejected"] == codes["received"] > 0  # cases: unknown KLE; letters too
    rejections = FeedRejection.objects.filter(feed=feed)
    assert set(rejections.values_list("code", flat=True)) <= {"unknown_kle", "unknown_case"}
    assert "unknown_kle" in poll.rejected_by_code
    cprs = set(Case.objects.values_list("party_cpr", flat=True))
    sim = simulator_of(feed)
    cprs |= {(c.payload.get("party") or {}).get("cpr") for c in sim.log if c.kind == "case"}
    for rejection in rejections:
        for problem in rejection.problems:
            assert not any(cpr and cpr in problem["message"] for cpr in cprs)


def test_registration_creates_an_editable_schedule_and_names_bad_settings(kle):
    system = source_system_make(product="FASIT")
    address = "https://fasit.odense.example/api"
    feed = feed_register(source_system=system, base_url=address, every_seconds=120)
    task = PeriodicTask.objects.get(pk=feed.periodic_task_id)
    assert task.task == "indexes.sources.feed_poll" and task.interval.every == 120
    assert task.args == f"[{feed.pk}]"
    assert feed.base_url == address and feed.adapter == "fasit_json"
    # An operator changes the interval in the admin; registering again keeps it.
    task.interval.every = 900
    task.interval.save()
    again = feed_register(source_system=system, base_url=address, every_seconds=60)
    assert again.pk == feed.pk and PeriodicTask.objects.get(pk=task.pk).interval.every == 900
    assert FeedCursor.objects.filter(feed=feed).count() == 1

    with pytest.raises(FeedConfigError, match=r"^base_url: required"):
        feed_register(source_system=system, base_url="")
    with pytest.raises(FeedConfigError, match=r"^base_url: must start"):
        feed_register(source_system=system, base_url="ftp://example.org")
    with pytest.raises(FeedConfigError, match=r"^base_url: at most 500"):
        feed_register(source_system=system, base_url="https://example.org/" + "x" * 500)
    with pytest.raises(FeedConfigError, match=r"^page_size"):
        feed_register(source_system=system, base_url=address, page_size=0)
    with pytest.raises(FeedConfigError, match=r"^adapter"):
        feed_register(source_system=system, base_url=address, adapter="sftp")
    feed.refresh_from_db()
    assert feed.base_url == address  # nothing half-written


def test_the_tasks_keep_the_names_beat_schedules_and_queued_messages_use():
    from config.celery import app as celery_app
    from indexes.feeds.tasks import feed_poll_task, feeds_poll_all_task

    assert feed_poll_task.name == services.POLL_TASK == "indexes.sources.feed_poll"
    assert feeds_poll_all_task.name == "indexes.sources.feeds_poll_all"
    celery_app.loader.import_default_modules()  # what a worker finds by autodiscovery
    assert {"indexes.sources.feed_poll", "indexes.sources.feeds_poll_all"} <= set(celery_app.tasks)


def test_a_feed_without_an_address_fails_its_poll_and_keeps_the_cursor(kle, now):
    """Feeds are fetched over HTTP only: one without an address (as simulated feeds had
    before) fails with the reason, and nothing is read in-process."""
    feed = feed_register(
        source_system=source_system_make(product="SBSYS"), base_url="http://127.0.0.1:9"
    )
    SourceFeed.objects.filter(pk=feed.pk).update(base_url="")
    poll = feed_poll(feed_id=feed.pk)
    assert poll.status == FeedPoll.Status.FAILED
    assert "ingen adresse" in poll.error and poll.received == 0
    assert FeedCursor.objects.get(feed=feed).position == ""


def test_a_system_that_does_not_answer_fails_the_poll_and_keeps_the_cursor(kle, now):
    feed = feed_register(
        source_system=source_system_make(product="FASIT"), base_url="http://127.0.0.1:9"
    )
    feed.timeout_seconds = 2
    feed.save()
    poll = feed_poll(feed_id=feed.pk)
    assert poll.status == FeedPoll.Status.FAILED
    assert "svarer ikke" in poll.error
    assert FeedCursor.objects.get(feed=feed).position == ""


@pytest.mark.parametrize("loose", [False, True], ids=["validated", "past-validation"])
@pytest.mark.parametrize(
    "poison",
    ["9999-12-31T23:59:59+00:00", "2024-01-01T00:00:00+16:00", "2024-01-01T00:00:00\x00+01:00"],
    ids=["year", "offset", "nul"],
)
def test_a_poison_date_in_a_feed_page_is_rejected_and_the_cursor_moves_on(
    feed_make, now, monkeypatch, poison, loose
):
    """Issue 12.1: one value the index cannot store must not stick the feed. Refused by
    validation, or (``loose``: validation without its bounds) by the database."""
    import json as jsonlib

    from indexes import payloads

    if loose:
        monkeypatch.setattr(payloads, "DATE_MIN", datetime.date.min)
        monkeypatch.setattr(payloads, "DATE_MAX", datetime.date.max)
        monkeypatch.setattr(payloads, "MAX_UTC_OFFSET", datetime.timedelta(days=1))
    feed = feed_make("FASIT", citizens=30, page_size=20)
    sim = simulator_of(feed)
    visible = sim.log[: sim.visible_count(NOW)]
    real_fetch = services.page_fetch
    poisoned = []

    def fetch(**kwargs):
        body = jsonlib.loads(real_fetch(**kwargs))
        cases = [e for e in body["haendelser"] if e.get("objekttype") == "SAG"]
        if not poisoned and cases:
            cases[0]["registreret"] = poison
            if "\x00" in poison:  # its id too: what is kept of a rejection holds no NUL
                cases[0]["sag"]["sagId"] += "\x00"
            poisoned.append(cases[0]["sag"]["sagId"].replace("\x00", "\\u0000"))
        return jsonlib.dumps(body).encode()

    monkeypatch.setattr(services, "page_fetch", fetch)
    polls = poll_until_done(feed)

    assert all(poll.status == FeedPoll.Status.SUCCEEDED for poll in polls)
    assert FeedCursor.objects.get(feed=feed).records == len(visible)  # read to the end
    rejection = FeedRejection.objects.get(feed=feed, external_id=poisoned[0])
    if "\x00" in poison:
        codes = {problem["code"] for problem in rejection.problems}
        assert {"invalid_character", "invalid_datetime"} <= codes  # the id and the time
        assert rejection.source_timestamp == poison.replace("\x00", "\\u0000")
    else:
        assert rejection.code == ("not_storable" if loose else "out_of_range")
    totals = poll_totals(feed)
    assert totals["received"] == len(visible)
    assert totals["created"] > 0
    assert totals["rejected"] >= 1


def test_a_cpr_shaped_id_in_a_feed_page_is_rejected_and_never_kept(feed_make, now, monkeypatch):
    """Issue 12.8: a record whose id looks like a CPR number is refused by name
    (``cpr_shaped``); what is kept of the rejection holds no trace of the number."""
    import json as jsonlib

    feed = feed_make("FASIT", citizens=30, page_size=20)
    real_fetch = services.page_fetch
    poisoned = []

    def fetch(**kwargs):
        body = jsonlib.loads(real_fetch(**kwargs))
        cases = [e for e in body["haendelser"] if e.get("objekttype") == "SAG"]
        if not poisoned and cases:
            cases[0]["sag"]["sagId"] = "FAS-010170-1234"
            poisoned.append(cases[0])
        return jsonlib.dumps(body).encode()

    monkeypatch.setattr(services, "page_fetch", fetch)
    polls = poll_until_done(feed)

    assert poisoned and all(poll.status == FeedPoll.Status.SUCCEEDED for poll in polls)
    rejection = FeedRejection.objects.get(feed=feed, code="cpr_shaped")
    assert rejection.external_id == ""
    assert [p["pointer"] for p in rejection.problems] == ["/external_id"]
    kept = jsonlib.dumps(
        list(FeedRejection.objects.filter(feed=feed).values("external_id", "problems"))
    )
    assert "010170" not in kept and "1234" not in kept
    assert not Case.objects.filter(external_id__contains="010170").exists()
    assert poll_totals(feed)["created"] > 0
