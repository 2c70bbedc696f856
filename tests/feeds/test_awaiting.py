""" "Afventer dig" in the simulated source systems: cases that wait for the citizen.

Each product renders the wait in its own format and its adapter reads it back
(the round trip in test_adapters.py compares whole payloads); here: the waits are
deterministic, realistic in number, never on a closed case, and a real poll
stores exactly what the system meant.
"""

import datetime

import pytest

from indexes.models import Case
from simulators.catalogue import FASIT, NEXUS, SBSYS
from simulators.feeds import stand_in_of
from simulators.systems import SIMULATORS, SimulatorConfig
from simulators.world import WAITING_SYSTEMS, world_build
from tests.feeds.conftest import NOW, poll_until_done

START, HORIZON = datetime.date(2019, 1, 1), datetime.date(2027, 12, 31)


def world(seed: int = 3, citizens: int = 600):
    return world_build(seed=seed, municipality="461", citizens=citizens, start=START,
                       horizon=HORIZON)  # fmt: skip


def open_at(engagement, moment) -> bool:
    return engagement.opened <= moment and (engagement.closed is None or engagement.closed > moment)


def test_waits_are_deterministic_per_seed():
    def waits(seed):
        return [e.waits for e in world(seed).engagements]

    assert waits(3) == waits(3)
    assert waits(3) != waits(4)


def test_a_realistic_share_of_open_cases_waits_and_never_a_closed_one():
    cases = [e for e in world().engagements if e.kind.system in WAITING_SYSTEMS]
    open_now = [e for e in cases if open_at(e, NOW)]
    waiting = [e for e in open_now if e.awaiting_at(NOW) is not None]
    assert 0.02 <= len(waiting) / len(open_now) <= 0.15, (len(waiting), len(open_now))
    for e in cases:
        for start, end in e.waits:
            assert start > e.opened
            if e.closed is not None:
                assert end is not None and end < e.closed
        if e.closed is not None:
            assert e.awaiting_at(e.closed) is None


@pytest.mark.parametrize("product", [FASIT, SBSYS, NEXUS])
def test_each_product_delivers_waits_only_on_open_cases(product):
    sim = SIMULATORS[product](municipality="461",
                              config=SimulatorConfig(seed=3, citizens=300))  # fmt: skip
    cases = [c for c in sim.log if c.kind == "case"]
    waiting = [c for c in cases if "awaiting_party_since" in c.payload]
    assert waiting, f"{product} never waits for a citizen"
    for change in waiting:
        statuses = {period["status"] for period in change.payload["progress"]}
        assert "Afsluttet" not in statuses
        since = datetime.datetime.fromisoformat(change.payload["awaiting_party_since"])
        assert since <= change.source_timestamp
        assert since.date() >= datetime.date.fromisoformat(change.payload["created_on"])
    # A wait ends with a version without it: the citizen did what was asked.
    ended = {c.external_id for c in waiting} & {
        c.external_id for c in cases if "awaiting_party_since" not in c.payload
    }
    assert ended


@pytest.mark.django_db
@pytest.mark.postgres
@pytest.mark.parametrize("product", [FASIT, NEXUS])
def test_a_poll_stores_the_wait_the_system_meant(feed_make, now, product):
    feed = feed_make(product, citizens=150, seed=2)  # seed 2: cases of both wait now
    poll_until_done(feed)
    sim = stand_in_of(feed)
    meant = {
        external_id: payload.get("awaiting_party_since")
        for (kind, external_id), payload in sim.truth(now=NOW).items()
        if kind == "case"
    }
    meant = {k: datetime.datetime.fromisoformat(v) if v else None for k, v in meant.items()}
    stored = dict(Case.objects.values_list("external_id", "awaiting_party_since"))
    assert stored == meant
    assert any(meant.values())
    assert not Case.objects.filter(status="Afsluttet", awaiting_party_since__isnull=False).exists()


# --- Issue 14: FASIT says what it waits for and by when --------------------------------------


def test_fasit_says_what_each_wait_is_for_and_by_when():
    sim = SIMULATORS[FASIT](municipality="461", config=SimulatorConfig(seed=3, citizens=300))
    cases = [c for c in sim.log if c.kind == "case"]
    waiting = [c for c in cases if "awaiting_party_since" in c.payload]
    assert waiting
    for change in waiting:
        since = datetime.datetime.fromisoformat(change.payload["awaiting_party_since"])
        due = datetime.date.fromisoformat(change.payload["awaiting_party_due"])
        assert due == since.date() + datetime.timedelta(days=14)
        reason = change.payload["awaiting_party_reason"]
        assert reason and "\n" not in reason and len(reason) <= 255
    for change in cases:
        if "awaiting_party_since" not in change.payload:
            assert "awaiting_party_due" not in change.payload
            assert "awaiting_party_reason" not in change.payload


@pytest.mark.django_db
@pytest.mark.postgres
def test_a_poll_stores_what_fasit_waits_for_and_by_when(feed_make, now):
    feed = feed_make(FASIT, citizens=150, seed=2)
    poll_until_done(feed)
    sim = stand_in_of(feed)
    meant = {
        external_id: (payload.get("awaiting_party_due"), payload.get("awaiting_party_reason", ""))
        for (kind, external_id), payload in sim.truth(now=NOW).items()
        if kind == "case"
    }
    stored = {
        external_id: (due.isoformat() if due else None, reason)
        for external_id, due, reason in Case.objects.values_list(
            "external_id", "awaiting_party_due", "awaiting_party_reason"
        )
    }
    assert stored == meant
    assert any(reason for _due, reason in meant.values())
