"""The simulated source systems: deterministic, growing with time, realistic, faulty on request."""

import datetime
import re
from collections import Counter
from decimal import Decimal

import pytest

from simulators import danish
from simulators.catalogue import KINDS
from simulators.demo_citizens import DEMO_CITIZENS
from simulators.faults import FAULTS, FaultRates
from simulators.systems import SIMULATORS, SimulatorConfig
from simulators.world import TZ, world_build
from tests.feeds.conftest import NOW

PRODUCTS = sorted(SIMULATORS)


def simulator(product: str, **settings):
    """A fresh (uncached) simulator, so every test builds its own log."""
    config = SimulatorConfig.from_dict({"seed": 11, "citizens": 60} | settings)
    return SIMULATORS[product](municipality="461", config=config)


@pytest.mark.parametrize("product", PRODUCTS)
def test_same_seed_same_log_other_seed_other_log(product):
    first, second = simulator(product).log, simulator(product).log
    assert first and [c.payload for c in first] == [c.payload for c in second]
    other = simulator(product, seed=12).log
    assert [c.payload for c in other] != [c.payload for c in first]


@pytest.mark.parametrize("product", PRODUCTS)
def test_the_feed_grows_as_time_passes_and_never_shows_the_future(product):
    sim = simulator(product)
    earlier = NOW - datetime.timedelta(days=365)
    assert 0 < sim.visible_count(earlier) < sim.visible_count(NOW) < len(sim.log)
    for change in sim.log[: sim.visible_count(earlier)]:
        assert change.delivered_at <= earlier
        assert change.source_timestamp <= change.delivered_at


@pytest.mark.parametrize("product", PRODUCTS)
def test_without_faults_nothing_is_marked_faulty_and_versions_arrive_in_order(product):
    sim = simulator(product)
    assert not [change for change in sim.log if change.faults]
    newest: dict = {}
    for change in sim.log:
        key = (change.kind, change.external_id)
        assert key not in newest or change.source_timestamp > newest[key]
        newest[key] = change.source_timestamp


def test_world_gives_benefits_only_to_citizens_of_the_right_age():
    world = world_build(
        seed=3,
        municipality="706",
        citizens=300,
        start=datetime.date(2019, 1, 1),
        horizon=datetime.date(2027, 12, 31),
    )
    kinds = Counter(e.kind.key for e in world.engagements)
    assert kinds["folkepension"] and kinds["sygedagpenge"] and kinds["visitation"]
    for engagement in world.engagements:
        age = engagement.citizen.age_on(engagement.opened.date())
        if engagement.kind.key == "folkepension":
            assert engagement.citizen.age_on(engagement.benefit_start) >= 67
        elif engagement.kind.key != "visitation":
            assert engagement.kind.min_age <= age <= engagement.kind.max_age


def test_demo_citizens_are_in_the_world_only_when_asked_for():
    with_demo = simulator("FASIT", demo=True)
    without = simulator("FASIT")
    demo_cprs = {c.cpr for c in DEMO_CITIZENS}
    parties = {(c.payload["party"] or {}).get("cpr") for c in with_demo.log if c.kind == "case"}
    assert "1507854312" in parties  # Mette Nielsen's jobcentre cases in Odense
    assert not demo_cprs & {
        (c.payload["party"] or {}).get("cpr") for c in without.log if c.kind == "case"
    }


TITLE = re.compile(r"^[0-9A-Za-zÆØÅæøåé ?]+$")


@pytest.mark.parametrize("product", ["FASIT", "SBSYS", "Nexus"])
def test_titles_follow_the_title_rules_without_the_fault(product):
    for change in simulator(product).log:
        if change.kind in ("case", "document"):
            title = change.payload["title"]
            assert title.split(" ", 1)[0] in danish.LEAD_WORDS, title
            assert TITLE.match(title), title  # one line, no punctuation but "?"


def all_faults(rate: float = 1.0, **only) -> dict:
    return {name: only.get(name, rate) for name in FAULTS}


@pytest.mark.parametrize(
    ("fault", "check"),
    [
        (
            "kle_unknown",
            lambda c: c.payload["kle_number"] in {k.unknown_kle for k in KINDS.values()},
        ),
        ("cpr_missing", lambda c: c.payload["party"] is None),
        (
            "bad_title",
            lambda c: any(c.payload["title"] in titles for titles in danish.BAD_TITLES.values()),
        ),
    ],
)
def test_a_record_fault_at_rate_one_strikes_every_eligible_case(fault, check):
    sim = simulator("FASIT", faults={fault: 1.0})
    cases = [c for c in sim.log if c.kind == "case"]
    assert cases and all(check(c) and fault in c.faults for c in cases)


def test_expired_kle_uses_the_old_template_number():
    sim = simulator("FASIT", faults={"kle_expired": 1.0})
    expired = {k.expired_kle for k in KINDS.values() if k.expired_kle}
    cases = [c for c in sim.log if c.kind == "case" and "kle_expired" in c.faults]
    assert cases and all(c.payload["kle_number"] in expired for c in cases)


def test_unclosed_cases_say_closed_but_lack_the_closing_progress():
    sim = simulator("SBSYS", faults={"unclosed": 1.0})
    unclosed = [
        c for c in sim.log if c.kind == "case" and c.payload["source_status_text"] == "Afsluttet"
    ]
    assert unclosed
    for change in unclosed:
        assert "unclosed" in change.faults
        assert change.payload["progress"][-1]["status"] != "Afsluttet"


def test_duplicates_are_the_same_delivery_twice():
    sim = simulator("FASIT", faults={"duplicate": 1.0})
    plain = simulator("FASIT")
    assert len(sim.log) == 2 * len(plain.log)
    seen = Counter((c.kind, c.external_id, c.payload["source_timestamp"]) for c in sim.log)
    assert set(seen.values()) == {2}


def test_out_of_order_delivers_an_older_version_after_a_newer_one():
    sim = simulator("FASIT", faults={"out_of_order": 1.0})
    newest: dict = {}
    overtaken = 0
    for change in sim.log:
        key = (change.kind, change.external_id)
        if key in newest and change.source_timestamp < newest[key]:
            overtaken += 1
            assert "out_of_order" in change.faults
        newest[key] = max(newest.get(key, change.source_timestamp), change.source_timestamp)
    assert overtaken > 0


def test_fault_rates_are_checked_and_named():
    with pytest.raises(ValueError, match="kle_unknown"):
        FaultRates(kle_unknown=1.5)
    with pytest.raises(ValueError, match="unknown fault"):
        FaultRates.from_dict({"cosmic_rays": 0.1})
    with pytest.raises(ValueError, match="unknown simulator setting"):
        SimulatorConfig.from_dict({"sede": 1})


def test_payments_add_up_in_decimal_and_stay_within_their_grant():
    sim = simulator("KMD Ydelse", citizens=80)
    grants = {}
    for change in sim.log:
        if change.kind == "grant":
            grants.setdefault(change.external_id, change)
    payments = [c for c in sim.log if c.kind == "payment"]
    assert payments
    for change in payments:
        p = change.payload
        gross, net = Decimal(p["gross_amount"]), Decimal(p["amount_after_tax"])
        assert Decimal(0) <= net <= gross
        assert gross == gross.quantize(Decimal("0.01"))
        assert p["amount_sent"] == p["amount_paid"] == p["amount_after_tax"]
        grant = grants[p["grant_external_id"]]
        assert change.source_timestamp > grant.source_timestamp  # the grant exists first
        assert p["period"]["start"] >= grant.payload["start_on"]
        assert p["period"]["start"] <= p["period"]["end"]


def test_pensions_are_paid_in_advance_and_benefits_carry_a_monthly_plan():
    sim = simulator("KMD Ydelse", citizens=120)
    pensions = [
        c
        for c in sim.log
        if c.kind == "grant" and c.payload["benefits"][0]["name"] == "Folkepension"
    ]
    assert pensions
    plan = pensions[0].payload["benefits"][0]["payment_plan"]
    assert plan["timing"] == "Forud" and plan["frequency"] == "Månedlig"
    month_end = [
        c
        for c in sim.log
        if c.kind == "payment" and c.payload["grant_external_id"] == pensions[0].external_id
    ]
    for payment in month_end[1:]:
        # Forud: paid on the last weekday of the month before the period.
        disposal = datetime.date.fromisoformat(payment.payload["disposal_date"])
        period = datetime.date.fromisoformat(payment.payload["period"]["start"])
        assert disposal < period and disposal.weekday() < 5


def test_delivery_habits_differ_per_system():
    moment = datetime.datetime(2024, 3, 5, 10, 17, tzinfo=TZ)
    assert simulator("FASIT").delivered_at(moment) == moment + datetime.timedelta(minutes=2)
    assert simulator("SBSYS").delivered_at(moment) == datetime.datetime(2024, 3, 6, 2, 0, tzinfo=TZ)
    assert simulator("Nexus").delivered_at(moment) == datetime.datetime(
        2024, 3, 5, 11, 0, tzinfo=TZ
    )
    assert simulator("KMD Ydelse").delivered_at(moment) == datetime.datetime(
        2024, 3, 6, 1, 0, tzinfo=TZ
    )
