"""The stand-ins' HTTP server for the whole session: the product polls simulated feeds over it.

One server (``simulators.http``) on a free loopback port, in a thread of the
test process, answers every simulated feed: its settings travel in the feed's
address, so nothing is registered with it. ``SIMULATORS_URL`` points at it,
in the settings and in the environment (for subprocesses: a fault drill's
probe registers feeds; workers poll the addresses stored on the feeds).
"""

import os

import pytest
from django.conf import settings


@pytest.fixture(scope="session", autouse=True)
def stand_ins():
    """The base URL the simulated source systems answer at."""
    from simulators.http import simulator_server_start

    server = simulator_server_start(host="127.0.0.1", port=0)
    before = settings.SIMULATORS_URL, os.environ.get("SIMULATORS_URL")
    settings.SIMULATORS_URL = server.base_url
    os.environ["SIMULATORS_URL"] = server.base_url
    yield server.base_url
    server.shutdown()
    server.server_close()
    settings.SIMULATORS_URL = before[0]
    if before[1] is None:
        os.environ.pop("SIMULATORS_URL", None)
    else:
        os.environ["SIMULATORS_URL"] = before[1]


@pytest.fixture(scope="session", autouse=True)
def relations_stand_in():
    """Digital Fuldmagt and CPR relations (``simulators.relations``) on a free port."""
    from simulators.relations import relations_server_start

    server = relations_server_start(host="127.0.0.1", port=0)
    before = settings.OVERBLIK_FULDMAGT_URL, settings.OVERBLIK_CPR_RELATIONS_URL
    settings.OVERBLIK_FULDMAGT_URL = server.fuldmagt_url
    settings.OVERBLIK_CPR_RELATIONS_URL = server.cpr_url
    yield server
    server.shutdown()
    server.server_close()
    settings.OVERBLIK_FULDMAGT_URL, settings.OVERBLIK_CPR_RELATIONS_URL = before


@pytest.fixture
def relations(relations_stand_in):
    """The stand-in with the demo relations, and an empty relations cache; reset after."""
    from django.core.cache import cache

    relations_stand_in.reset()
    cache.clear()
    yield relations_stand_in
    relations_stand_in.reset()
    cache.clear()
