"""The relation services' client (borgerblikket.relations) against the stand-in."""

import datetime as dt
import re
import socket

import pytest
from django.core.cache import cache

from borgerblikket import relations as rel
from simulators.demo_citizens import DEMO_CHILDREN, DEMO_CITIZENS

CPR = {c.key: c.cpr for c in DEMO_CITIZENS + DEMO_CHILDREN}


def test_the_daughter_holds_a_power_for_elder_care_only(relations):
    (power,) = rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
    assert power.principal_cpr == CPR["demo-kim"]
    assert power.principal_name == "Kim Borgersen"
    assert power.scope == ("27.36", "27.60")
    assert power.in_force(today=dt.date(2026, 12, 5))
    assert rel.powers_held_by(holder_cpr=CPR["demo-kim"]) == []


def test_a_parent_has_the_child_with_custody(relations):
    (child,) = rel.children_of(parent_cpr=CPR["demo-hans"])
    assert (child.cpr, child.name, child.birth_date) == (
        CPR["demo-barn-emil"],
        "Emil Hansen",
        dt.date(2016, 4, 9),
    )
    assert child.custody


def test_no_cpr_number_is_ever_in_a_url(relations):
    rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
    rel.children_of(parent_cpr=CPR["demo-hans"])
    assert relations.paths == ["/fuldmagt/fuldmagter", "/cpr/boern"]
    assert not any(re.search(r"\d{6}", path) for path in relations.paths)


def test_answers_are_cached_and_a_revocation_shows_after_the_cache(relations, settings):
    assert settings.OVERBLIK_RELATIONS_CACHE_SECONDS <= 60
    holder, principal = CPR["demo-sofie"], CPR["demo-kim"]
    assert rel.powers_held_by(holder_cpr=holder)[0].revoked_at is None
    relations.powers[0]["revoked_at"] = "2026-12-01T10:00:00+00:00"
    # Within the cache time the earlier answer stands (one call to the service) ...
    assert rel.powers_held_by(holder_cpr=holder)[0].revoked_at is None
    assert relations.paths.count("/fuldmagt/fuldmagter") == 1
    # ... and once it has expired the revocation holds.
    cache.clear()
    (power,) = rel.powers_held_by(holder_cpr=holder)
    assert power.principal_cpr == principal
    assert not power.in_force(today=dt.date(2026, 12, 5))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_service_not_configured_gives_no_relations(relations, settings):
    settings.OVERBLIK_FULDMAGT_URL = settings.OVERBLIK_CPR_RELATIONS_URL = ""
    cache.clear()
    assert rel.powers_held_by(holder_cpr=CPR["demo-sofie"]) == []
    assert rel.children_of(parent_cpr=CPR["demo-hans"]) == []
    assert relations.paths == []


@pytest.mark.parametrize("url", ["closed", "ftp"])
def test_a_service_that_does_not_answer_is_unavailable(relations, settings, url):
    port = _closed_port()
    url = f"http://127.0.0.1:{port}/x" if url == "closed" else f"ftp://127.0.0.1:{port}/x"
    settings.OVERBLIK_FULDMAGT_URL = settings.OVERBLIK_CPR_RELATIONS_URL = url
    cache.clear()
    with pytest.raises(rel.RelationsUnavailable):
        rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
    with pytest.raises(rel.RelationsUnavailable):
        rel.children_of(parent_cpr=CPR["demo-hans"])


@pytest.mark.parametrize(
    ("today", "sees"),
    [
        (dt.date(2031, 4, 8), True),
        (dt.date(2031, 4, 9), False),  # the 15th birthday
        (dt.date(2032, 1, 1), False),
    ],
)
def test_a_parent_sees_until_the_birthday_at_the_limit(today, sees):
    child = rel.Child("x", "y", "Emil", dt.date(2016, 4, 9), custody=True)
    assert child.parent_sees(today=today, age_limit=15) is sees
    assert not rel.Child("x", "y", "E", dt.date(2016, 4, 9), False).parent_sees(
        today=dt.date(2020, 1, 1), age_limit=15
    )


def test_born_on_29_february_turns_an_age_on_1_march():
    assert rel.birthday(dt.date(2012, 2, 29), 15) == dt.date(2027, 3, 1)
    assert rel.birthday(dt.date(2012, 2, 29), 16) == dt.date(2028, 2, 29)


def test_a_service_that_failed_is_not_asked_again_at_once(relations, settings):
    """A page makes several reads: after one failure the rest do not wait for the timeout."""
    port = _closed_port()
    settings.OVERBLIK_FULDMAGT_URL = f"http://127.0.0.1:{port}/x"
    cache.clear()
    with pytest.raises(rel.RelationsUnavailable):
        rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
    settings.OVERBLIK_FULDMAGT_URL = relations.fuldmagt_url  # back, but marked down
    with pytest.raises(rel.RelationsUnavailable):
        rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
    assert relations.paths == []
    cache.clear()  # the short pause is over
    assert rel.powers_held_by(holder_cpr=CPR["demo-sofie"])
