"""The stand-ins over HTTP: a feed's address names its simulator, the server answers it.

The product polls every feed over HTTP (tests/feeds/test_polling.py); these
tests are about the stand-ins' side: the address, the server and pointing feeds.
"""

import io
import threading
import urllib.error
import urllib.request

import pytest
from django.core.management import call_command

from indexes.models import FeedPoll, SourceFeed
from simulators.faults import FaultRates
from simulators.feeds import (
    stand_in_address,
    stand_in_config_of,
    stand_in_feed_register,
    stand_in_feeds_point_to,
    stand_ins_serving,
)
from simulators.http import simulator_server_start, stand_in_config, stand_in_token
from simulators.systems import SimulatorConfig
from tests.feeds.conftest import poll_until_done, source_system_make

DEMO_LIKE = SimulatorConfig(
    seed=2021,
    citizens=30,
    demo=True,
    faults=FaultRates.realistic(),
    kle=(("kontanthjaelp", "32.24.04"), ("sygedagpenge", "15.17.06")),
    latency_ms=5,
)


@pytest.mark.parametrize(
    "config",
    [SimulatorConfig(), SimulatorConfig(seed=4, faults={"duplicate": 0.25}), DEMO_LIKE],
    ids=["defaults", "one-fault", "demo-like"],
)
def test_an_address_carries_every_setting_of_its_simulator(config):
    assert stand_in_config(stand_in_token(config)) == config
    address = stand_in_address(config, base_url="http://127.0.0.1:9401")
    # Fits the feed's address column with room for a longer host name.
    assert len(address) < SourceFeed._meta.get_field("base_url").max_length - 100


@pytest.mark.parametrize("token", ["", "not base64!", "bnVsbA", "eyJzZWRlIjoxfQ"])
def test_a_token_that_names_no_settings_is_refused(token):
    # "" / junk / JSON null / {"sede": 1} (a misspelt setting)
    with pytest.raises(ValueError):
        stand_in_config(token)


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def test_the_server_answers_each_system_in_its_format_and_refuses_the_rest(stand_ins):
    address = stand_in_address(SimulatorConfig(seed=3, citizens=5), base_url=stand_ins)
    status, media_type, body = get(f"{address}/461/nexus/ydelser.csv?efter=0&antal=5")
    assert status == 200 and media_type.startswith("text/csv") and body
    status, _, body = get(f"{address}/461/fasit/v2/haendelser?fra=%25%25&antal=5")
    assert status == 400 and b"token" in body  # the system's own refusal
    for path in (
        f"{address}/461/unknown/path",
        f"{stand_ins}/stand-in/bm90IGpzb24/461/sbsys/eksport",  # "not json"
        f"{stand_ins}/461/sbsys/eksport",
    ):
        assert get(path)[0] == 404, path


def test_registering_a_stand_in_names_a_misspelt_setting(kle):
    system = source_system_make(product="FASIT")
    with pytest.raises(ValueError, match="citzens"):
        stand_in_feed_register(source_system=system, config={"citzens": 3})
    assert not SourceFeed.objects.filter(source_system=system).exists()


def test_pointing_feeds_moves_only_the_stand_ins_and_gives_old_ones_an_address(kle, stand_ins):
    config = SimulatorConfig(seed=9, citizens=4)
    fasit = stand_in_feed_register(
        source_system=source_system_make(product="FASIT"),
        config=config,
        base_url="http://127.0.0.1:1",
    )
    # A database of the time simulators ran in-process: no address, settings on the feed.
    old = stand_in_feed_register(source_system=source_system_make(product="SBSYS"), config=config)
    SourceFeed.objects.filter(pk=old.pk).update(base_url="", simulator=config.as_dict())
    real = SourceFeed.objects.get(
        pk=stand_in_feed_register(
            source_system=source_system_make(product="Nexus"), config=config
        ).pk
    )
    SourceFeed.objects.filter(pk=real.pk).update(base_url="https://nexus.odense.example")

    assert stand_in_feeds_point_to(base_url=stand_ins) == 2

    for feed in (fasit, old):
        feed.refresh_from_db()
        assert feed.base_url == stand_in_address(config, base_url=stand_ins)
        assert stand_in_config_of(feed) == config and feed.simulator == {}
    real.refresh_from_db()
    assert real.base_url == "https://nexus.odense.example"
    assert poll_until_done(old)[-1].status == FeedPoll.Status.SUCCEEDED


def test_simulate_serve_serves_every_system_and_can_point_the_feeds_at_itself(kle, monkeypatch):
    from simulators.management.commands import simulate_serve

    fasit = stand_in_feed_register(
        source_system=source_system_make(product="FASIT"), config={"seed": 5, "citizens": 3}
    )

    def serve_briefly(server):
        # While "serving": the feed's address answers with its simulator's pages.
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            fasit.refresh_from_db()
            status, _, body = get(f"{fasit.base_url}/461/fasit/v2/haendelser?antal=2")
            assert status == 200 and b"haendelser" in body
        finally:
            server.shutdown()

    monkeypatch.setattr(simulate_serve, "serve_until_interrupted", serve_briefly)
    out = io.StringIO()
    call_command("simulate_serve", port=0, use=True, stdout=out)
    text = out.getvalue()
    assert "/stand-in/<settings>/<kommune>/fasit/v2/haendelser (FASIT)" in text
    assert "1 feeds now poll http://127.0.0.1:" in text
    fasit.refresh_from_db()
    assert fasit.base_url.startswith(text.split("1 feeds now poll ")[1].split()[0])


def test_the_demo_serves_the_stand_ins_itself_only_while_nobody_else_does(settings):
    server = simulator_server_start()
    port = server.server_address[1]
    server.shutdown()
    server.server_close()
    settings.SIMULATORS_URL = f"http://127.0.0.1:{port}"
    address = stand_in_address(SimulatorConfig(citizens=2))

    with stand_ins_serving() as url:
        assert url == settings.SIMULATORS_URL
        assert get(f"{address}/210/sbsys/eksport?fraLoebenummer=1&maks=1")[0] == 200
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{address}/210/sbsys/eksport", timeout=2)
