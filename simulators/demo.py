"""The demo's source systems: four simulated products in each demo municipality.

``demo_load`` (which also imports the sheets) calls these; the index then
fills itself through the real pipeline — feeds polled over HTTP, adapters,
``records_apply_many`` — with the demo citizens' matters among a small
population with a few per cent of realistic faults.
"""

from dataclasses import dataclass
from pathlib import Path

from indexes.models import Case, FeedPoll, Grant, Municipality, SourceFeed, SourceSystem
from kle.models import Subject
from simulators.catalogue import PRODUCTS, kle_overrides_for
from simulators.faults import FaultRates
from simulators.feeds import stand_in_feed_register
from simulators.systems import SimulatorConfig

DEMO_MUNICIPALITIES = ("461", "706", "210")  # Odense, Syddjurs, Fredensborg
DEMO_DIR = Path(__file__).resolve().parent / "sheets"
# Sheets written for the demo, in the columns of Odense's real sheet. Odense's
# shows the jobcentre areas that every KLE the demo may load knows (the fixture's
# and the real 2015 emneplan), so it imports whole wherever it runs: a clone with
# no shared data folder beside it gives the same demo. Odense's real sheet (in
# that folder, never committed) is for the tests of the sheet import.
DEMO_SHEETS = {
    "461": DEMO_DIR / "odense-konfigurationsark.tsv",
    "706": DEMO_DIR / "syddjurs-konfigurationsark.tsv",
    "210": DEMO_DIR / "fredensborg-konfigurationsark.tsv",
}
# Template numbers an installation uses whichever KLE the index holds (when that KLE
# has them): Syddjurs' jobcentre files kontanthjælp under 32.24.04, the number both the
# 2015 KLE and the fixture have, as its demo sheet does (no demo sheet names a number
# the real KLE lacks: tests/simulators/test_demo_kle_numbers.py).
DEMO_TEMPLATES = {"706": {"kontanthjaelp": "32.24.04"}}
DEMO_SEED = 2021
DEMO_CITIZENS_PER_MUNICIPALITY = 30


def index_is_empty() -> bool:
    """True when no source system has delivered a case or grant yet."""
    return not Case.objects.exists() and not Grant.objects.exists()


@dataclass(frozen=True)
class DemoFeeds:
    feeds: list[SourceFeed]
    kle_overrides: dict[str, str]  # template numbers changed for the loaded KLE


def demo_feeds_register(
    *,
    citizens: int = DEMO_CITIZENS_PER_MUNICIPALITY,
    seed: int = DEMO_SEED,
    faults: FaultRates | None = None,
) -> DemoFeeds:
    """Source systems FASIT, SBSYS, Nexus and KMD Ydelse with simulated feeds, per demo municipality.

    The installations' KLE templates follow the loaded KLE: with the 2015 KLE
    (no 15.62 group) kontanthjælp cases use 32.24.04, as an installation of
    that time would.
    """
    present = set(Subject.objects.values_list("number", flat=True))
    overrides = kle_overrides_for(present=present)
    feeds = []
    for code in DEMO_MUNICIPALITIES:
        templates = {
            key: number for key, number in DEMO_TEMPLATES.get(code, {}).items() if number in present
        }
        config = SimulatorConfig(
            seed=seed,
            citizens=citizens,
            demo=True,
            faults=faults if faults is not None else FaultRates.realistic(),
            kle=tuple(sorted({**overrides, **templates}.items())),
        )
        municipality = Municipality.objects.get(code=code)
        for product in PRODUCTS:
            system, _ = SourceSystem.objects.get_or_create(
                municipality=municipality, name=product, defaults={"product": product}
            )
            feeds.append(stand_in_feed_register(source_system=system, config=config))
    return DemoFeeds(feeds=feeds, kle_overrides=overrides)


def demo_feeds_poll(*, feeds: list[SourceFeed]) -> int:
    """Enqueue a poll of each feed (run at once when Celery runs tasks eagerly)."""
    from indexes.feeds.tasks import feed_poll_task

    for feed in feeds:
        feed_poll_task.delay(feed.pk, FeedPoll.Trigger.DEMO)
    return len(feeds)
