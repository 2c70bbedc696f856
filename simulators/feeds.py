"""The product's feeds, pointed at the stand-ins: what a simulated installation's address is.

The product registers a feed by its address (``indexes.feeds.services.feed_register``)
and polls it over HTTP, whoever serves it. A stand-in's address is
``<SIMULATORS_URL>/stand-in/<settings>``: the server (``simulators.http``, run by
``manage.py simulate_serve``, ``make run`` and the tests) reads the simulator's
settings from the address itself, so nothing is registered with it.

``SIMULATORS_URL`` comes from the local and test settings (``SIMULATORS_PORT``,
default 9401, on 127.0.0.1); a process without them (a fault drill on production
settings) takes it from the environment.
"""

import contextlib
import os
import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

from django.conf import settings

from indexes.feeds.services import feed_register
from indexes.models import SourceFeed, SourceSystem
from simulators.http import PREFIX, simulator_server_start, stand_in_config, stand_in_token
from simulators.systems import SimulatorConfig, simulator_get
from simulators.systems.base import Simulator

DEFAULT_URL = "http://127.0.0.1:9401"


def stand_ins_url() -> str:
    """Where the stand-ins serve (``settings.SIMULATORS_URL``), without a trailing slash."""
    url = getattr(settings, "SIMULATORS_URL", "") or os.environ.get("SIMULATORS_URL", "")
    return (url or DEFAULT_URL).rstrip("/")


def stand_in_address(config: SimulatorConfig, *, base_url: str | None = None) -> str:
    """The feed address of a simulated installation with ``config``."""
    return f"{(base_url or stand_ins_url()).rstrip('/')}/{PREFIX}/{stand_in_token(config)}"


def stand_in_config_of(feed: SourceFeed) -> SimulatorConfig:
    """The simulator settings a stand-in feed's address names (``ValueError`` if none)."""
    path = urlsplit(feed.base_url).path.strip("/").split("/")
    if len(path) < 2 or path[-2] != PREFIX:
        raise ValueError("not a stand-in's address")
    return stand_in_config(path[-1])


def stand_in_of(feed: SourceFeed) -> Simulator:
    """The simulator serving ``feed`` (the same object the server pages from)."""
    return simulator_get(
        product=feed.source_system.product,
        municipality=feed.source_system.municipality_id,
        config=stand_in_config_of(feed),
    )


def stand_in_feed_register(
    *,
    source_system: SourceSystem,
    config: SimulatorConfig | dict | None = None,
    base_url: str | None = None,
    **options,
) -> SourceFeed:
    """Register ``source_system``'s feed with the product, served by its product's simulator.

    ``options`` are ``feed_register``'s (``page_size``, ``every_seconds``, …).
    """
    if not isinstance(config, SimulatorConfig):
        config = SimulatorConfig.from_dict(config)
    return feed_register(
        source_system=source_system,
        base_url=stand_in_address(config, base_url=base_url),
        **options,
    )


def stand_in_feeds_point_to(*, base_url: str | None = None) -> int:
    """Point every stand-in feed at the stand-ins at ``base_url`` (default: SIMULATORS_URL).

    For a port changed between two runs of ``make run``; and for a database of the
    time the simulators ran in-process, whose feeds have no address but their
    settings in ``SourceFeed.simulator``. The number of feeds pointed.
    """
    pointed = 0
    for feed in SourceFeed.objects.all():
        try:
            config = stand_in_config_of(feed)
        except ValueError:
            if feed.base_url or not feed.simulator:
                continue  # a real system's feed
            config = SimulatorConfig.from_dict(feed.simulator)
        SourceFeed.objects.filter(pk=feed.pk).update(
            base_url=stand_in_address(config, base_url=base_url), simulator={}
        )
        pointed += 1
    return pointed


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def stand_ins_serving() -> Iterator[str]:
    """The stand-ins at SIMULATORS_URL, served from this process while nothing else does.

    ``demo_load`` polls in-process without a broker (``make run`` on SQLite) before
    ``scripts/serve`` starts the stand-ins' own server; with a broker the worker
    polls later, from that server.
    """
    url = stand_ins_url()
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if _answers(host, port) or host not in ("127.0.0.1", "localhost"):
        yield url
        return
    server = simulator_server_start(host=host, port=port)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
