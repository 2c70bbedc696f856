"""The simulated world is deterministic: a fixed seed gives the same people and matters.

The fingerprint below was taken from ``world_build`` before ``_random_engagements``
got its one local ``Engagement`` constructor (jobcentre and ESDH matters used to
build it separately): the refactoring keeps the order of ``rng`` draws (timeline,
then CVR, then hidden), so the demo data is unchanged. Fields added to
``Engagement`` later are left out of the fingerprint on purpose: they must not
move any of these.
"""

import datetime
import hashlib

from simulators.demo_citizens import DEMO_CHILDREN
from simulators.world import world_build

# The demo children (issue 15) came later, after every other engagement: left out, so
# the fingerprint still says the rest is unchanged.
_LATER = {child.cpr for child in DEMO_CHILDREN}

# sha256 over the fields below for seeds 1 and 7, 400 citizens and the demo citizens
# of Odense, Syddjurs and Fredensborg (taken from the code before the refactoring).
FINGERPRINT = "709ab5b1218d5c77cb647e9e3ecd7fcc2419193a5d2aaa89277a2ab0e01f40e6"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for municipality in ("461", "706", "210"):
        for seed in (1, 7):
            world = world_build(
                seed=seed,
                municipality=municipality,
                citizens=400,
                start=datetime.date(2019, 1, 1),
                horizon=datetime.date(2027, 12, 31),
                demo=True,
            )
            for citizen in world.citizens:
                digest.update(repr(citizen).encode())
            for e in world.engagements:
                if e.citizen.cpr in _LATER:
                    continue
                fields = (e.key, e.number, e.kind.key, e.citizen.cpr, e.opened, e.informed,
                          e.decided, e.closed, e.granted, e.hidden, e.cvr, e.services,
                          e.paid_from)  # fmt: skip
                digest.update(repr(fields).encode())
    return digest.hexdigest()


def test_a_fixed_seed_gives_the_same_world_as_before_the_refactoring():
    assert _fingerprint() == FINGERPRINT


def test_the_fingerprint_sees_a_change_of_seed():
    """The fingerprint is not blind: another seed gives other engagements."""
    one = world_build(seed=1, municipality="461", citizens=50,
                      start=datetime.date(2019, 1, 1), horizon=datetime.date(2027, 12, 31))  # fmt: skip
    two = world_build(seed=2, municipality="461", citizens=50,
                      start=datetime.date(2019, 1, 1), horizon=datetime.date(2027, 12, 31))  # fmt: skip
    assert [e.opened for e in one.engagements] != [e.opened for e in two.engagements]
