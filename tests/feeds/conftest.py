"""Fixtures of the source-system tests: KLE from the hand-written fixture, feeds, a clock."""

import datetime
from collections import Counter

import pytest

from indexes.models import FeedPoll, Municipality, SourceSystem
from simulators.feeds import stand_in_feed_register
from simulators.systems import SimulatorConfig
from simulators.world import TZ

# The simulated world's clock in these tests: the feed serves what was delivered by then.
NOW = datetime.datetime(2026, 11, 22, 12, 0, tzinfo=TZ)


def kle_fixture_load() -> None:
    """The KLE engineer's hand-written fixture, through the KLE importer."""
    from kle.models import Publication
    from kle.services.ensure import FIXTURE_FILES
    from kle.services.importer import kle_file_load, kle_files_apply

    kle_files_apply(
        files=[
            kle_file_load(source=str(FIXTURE_FILES[kind]))
            for kind in (Publication.Kind.SUBJECT_PLAN, Publication.Kind.ACTION_FACETS)
        ],
        allow_older=True,
    )


@pytest.fixture
def kle(db):
    kle_fixture_load()


@pytest.fixture
def now(time_machine):
    time_machine.move_to(NOW, tick=True)
    return NOW


def source_system_make(*, product: str, municipality: str = "461") -> SourceSystem:
    return SourceSystem.objects.get_or_create(
        municipality=Municipality.objects.get(code=municipality),
        name=product,
        defaults={"product": product},
    )[0]


@pytest.fixture
def feed_make(kle):
    """Register a simulated feed, served by the stand-ins over HTTP:
    ``feed_make("FASIT", citizens=20, faults=...)``."""

    def make(product: str, *, municipality: str = "461", page_size: int = 50, **settings):
        config = SimulatorConfig.from_dict({"seed": 7, "citizens": 20} | settings)
        return stand_in_feed_register(
            source_system=source_system_make(product=product, municipality=municipality),
            config=config,
            page_size=page_size,
        )

    return make


def poll_until_done(feed, *, trigger=FeedPoll.Trigger.MANUAL, limit: int = 100) -> list[FeedPoll]:
    """Poll (in this process, over HTTP) until the feed has nothing more (as beat +
    continuations would)."""
    from indexes.feeds.services import feed_poll

    polls = []
    for _ in range(limit):
        poll = feed_poll(feed_id=feed.pk, trigger=trigger)
        polls.append(poll)
        if poll.status != FeedPoll.Status.SUCCEEDED or not poll.more_pending:
            return polls
    raise AssertionError("the feed never ran dry")


def content(payload: dict) -> dict:
    return {key: value for key, value in payload.items() if key != "source_timestamp"}


def expected_outcomes(changes) -> Counter:
    """What the ingestion contract makes of these deliveries, in this order.

    A record's first delivery is created; a newer one with other content is
    updated, with the same content unchanged; an equal timestamp is unchanged
    (a replay); an older one is stale (BRIEF: ``record_apply``).
    """
    stored: dict[tuple[str, str], tuple] = {}
    tally: Counter = Counter()
    for change in changes:
        key = (change.kind, change.external_id)
        moment = change.source_timestamp
        if key not in stored:
            tally["created"] += 1
            stored[key] = (moment, content(change.payload))
            continue
        moment_before, content_before = stored[key]
        if moment < moment_before:
            tally["stale"] += 1
        elif moment == moment_before:
            tally["unchanged"] += 1
        else:
            tally["updated" if content(change.payload) != content_before else "unchanged"] += 1
            stored[key] = (moment, content(change.payload))
    return tally


def poll_totals(feed) -> Counter:
    totals: Counter = Counter()
    for poll in FeedPoll.objects.filter(feed=feed):
        for name in ("received", "created", "updated", "unchanged", "stale", "rejected", "pages"):
            totals[name] += getattr(poll, name)
    return totals


def index_matches_truth(feed, truth: dict) -> None:
    """Every newest version the source holds is in the index, exactly (canonical form)."""
    from indexes.selectors import record_get, record_to_payload
    from indexes.services import canonical
    from indexes.services.ingestion import record_validate

    from_data = {
        "case": canonical.case_from_data,
        "document": canonical.document_from_data,
        "grant": canonical.grant_from_data,
        "payment": canonical.payment_from_data,
    }
    system = feed.source_system
    for (kind, external_id), payload in truth.items():
        stored = record_to_payload(
            kind=kind, instance=record_get(source_system=system, kind=kind, external_id=external_id)
        )
        expected = from_data[kind](
            record_validate(source_system=system, kind=kind, payload=payload)
        )
        assert stored == expected, (kind, external_id)


def changes_are_exactly_once(feed) -> None:
    """One Change row per applied change: each record's versions are 1..n without gaps."""
    from django.db.models import Count, Max

    from indexes.models import Change

    rows = (
        Change.objects.filter(source_system=feed.source_system)
        .values("record_type", "record_id")
        .annotate(count=Count("id"), newest=Max("version"))
    )
    for row in rows:
        assert row["count"] == row["newest"], row
    totals = poll_totals(feed)
    assert Change.objects.filter(source_system=feed.source_system).count() == (
        totals["created"] + totals["updated"]
    )
