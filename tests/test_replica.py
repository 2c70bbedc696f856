"""The read replica's router and middleware (config/replica.py), without a standby.

Which requests would read from the replica is seen through the router itself: the
``replica`` alias is pointed at the test database (``REPLICA = "default"``), and every
request's routing state is recorded. The real streaming standby is tested in
tests/faults/test_replica.py.
"""

import logging
import time

import pytest
from django.db import OperationalError

from config import health, replica
from indexes.models import Case
from tests.overblik import data as portal_data

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def routed(monkeypatch, settings):
    """The replica configured and answering; a list of each request's routing state."""
    monkeypatch.setattr(replica, "REPLICA", "default")
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "_health", replica.ReplicaHealth())
    monkeypatch.setattr(
        replica, "_measure", lambda: replica.ReplicaHealth(ok=True, reason="ok", lag_seconds=0.0)
    )
    settings.DATABASE_REPLICA_CHECK_SECONDS = 3600
    seen: list[replica._Request] = []

    class Recorded(replica._Request):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            seen.append(self)

    monkeypatch.setattr(replica, "_Request", Recorded)
    return seen


# --- The router on its own -----------------------------------------------------------------


def test_without_a_request_everything_is_the_primary(monkeypatch):
    router = replica.ReplicaRouter()
    # Not configured: the router has no opinion (Django's default alias).
    assert router.db_for_read(Case) is None
    assert router.db_for_write(Case) is None
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    # A worker, a management command, the API outside a citizen page: the primary.
    assert router.db_for_read(Case) == "default"
    assert router.db_for_write(Case) == "default"


def test_the_replica_is_never_migrated():
    router = replica.ReplicaRouter()
    assert router.allow_migrate("replica", "indexes", "case") is False
    assert router.allow_migrate("default", "indexes", "case") is None


def test_a_page_reads_from_the_replica_until_it_writes(monkeypatch):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    router = replica.ReplicaRouter()
    state = replica._Request(replica=True)
    token = replica._current.set(state)
    try:
        from django.contrib.sessions.models import Session

        from indexes.models import DataAccess

        assert router.db_for_read(Case) == "replica"
        # The session is read on every request and written at login: always the primary.
        assert router.db_for_read(Session) == "default"
        # The page's own access-log row: written to the primary, no read-your-writes.
        assert router.db_for_write(DataAccess) == "default"
        assert state.wrote is False
        assert router.db_for_read(Case) == "default"
        assert router.db_for_write(Case) == "default"
        assert state.wrote is True
    finally:
        replica._current.reset(token)


# --- Requests ------------------------------------------------------------------------------


@pytest.fixture
def data(db):
    return portal_data.build()


@pytest.mark.postgres
def test_citizen_pages_read_from_the_replica(routed, citizen_client, data):
    # The login made the session sticky: its next pages read from the primary.
    citizen_client.get("/overblik/")
    assert routed[-1].used_replica is False
    session = citizen_client.session
    session[replica.STICKY_KEY] = time.time() - 1
    session.save()
    for url in ("/overblik/", "/sager/", f"/sager/{data.cases[0].pk}/", "/ydelser/"):
        response = citizen_client.get(url)
        assert response.status_code == 200, url
        assert routed[-1].used_replica is True, url
    # The once-a-minute touch and the access log are writes that keep the replica on.
    assert not citizen_client.session.get(replica.STICKY_KEY, 0) > time.time()


@pytest.mark.postgres
def test_a_write_makes_the_session_read_its_writes(routed, citizen_client, data, settings):
    settings.DATABASE_REPLICA_STICKY_SECONDS = 30
    session = citizen_client.session
    session[replica.STICKY_KEY] = 0
    session.save()
    assert citizen_client.get("/overblik/").status_code == 200
    assert routed[-1].used_replica is True
    # A POST (here the language switch) stamps the session ...
    citizen_client.post("/i18n/setlang/", {"language": "da", "next": "/overblik/"})
    stamp = citizen_client.session[replica.STICKY_KEY]
    assert time.time() + 25 < stamp <= time.time() + 30
    # ... and for the next DATABASE_REPLICA_STICKY_SECONDS its pages come from the primary.
    assert citizen_client.get("/overblik/").status_code == 200
    assert routed[-1].used_replica is False
    session = citizen_client.session
    session[replica.STICKY_KEY] = time.time() - 1
    session.save()
    assert citizen_client.get("/overblik/").status_code == 200
    assert routed[-1].used_replica is True


@pytest.mark.postgres
def test_login_makes_the_session_sticky(routed, client, oidc_settings, settings):
    from tests.plugins.portal import oidc_login

    settings.DATABASE_REPLICA_STICKY_SECONDS = 20
    oidc_login(client, sub="demo-kim")
    assert client.session[replica.STICKY_KEY] > time.time() + 15


def test_api_admin_and_health_never_read_from_the_replica(routed, admin_client):
    for url in ("/admin/", "/admin/indexes/case/", "/api/v1/schema/", "/healthz/ready"):
        admin_client.get(url)
        assert routed[-1].used_replica is False, url
        assert routed[-1].replica is False, url


@pytest.mark.postgres
def test_public_municipality_pages_read_from_the_replica(routed, client, data):
    assert client.get("/kommuner/").status_code == 200
    assert routed[-1].used_replica is True


@pytest.mark.postgres
def test_an_unusable_replica_leaves_the_page_to_the_primary(routed, client, data, monkeypatch):
    monkeypatch.setattr(
        replica, "_measure", lambda: replica.ReplicaHealth(ok=False, reason="lagging")
    )
    monkeypatch.setattr(replica, "_health", replica.ReplicaHealth())
    assert client.get("/kommuner/").status_code == 200
    assert routed[-1].used_replica is False


@pytest.mark.postgres
def test_a_replica_failing_under_the_page_runs_it_again_on_the_primary(
    routed, client, data, monkeypatch, caplog
):
    read = replica.ReplicaRouter.db_for_read
    failures = []

    def failing(self, model, **hints):
        alias = read(self, model, **hints)
        if replica._current.get().replica:
            failures.append(model)
            raise OperationalError("server closed the connection unexpectedly")
        return alias

    monkeypatch.setattr(replica.ReplicaRouter, "db_for_read", failing)
    closed = []

    class Connection:
        def close(self):
            closed.append(True)

    # The "replica" here is the test database's own connection: recorded, not closed.
    monkeypatch.setattr(replica, "connections", {"default": Connection()})
    with caplog.at_level(logging.WARNING, logger="config.replica"):
        response = client.get("/kommuner/")
    assert response.status_code == 200
    assert "Odense" in response.content.decode()
    assert failures, "the page never read from the replica"
    assert routed[-1].retried is True
    assert closed, "the broken replica connection was not closed"
    assert replica.replica_health().reason == "error"
    assert [r.getMessage() for r in caplog.records if r.name == "config.replica"] == [
        "Read replica not used, the primary serves its reads: error"
    ]


# --- Health --------------------------------------------------------------------------------


def test_unusable_and_back_are_logged_once_each(monkeypatch, settings, caplog):
    monkeypatch.setattr(replica, "replica_configured", lambda: True)
    monkeypatch.setattr(replica, "_health", replica.ReplicaHealth())
    settings.DATABASE_REPLICA_CHECK_SECONDS = 0
    answers = iter(
        [replica.ReplicaHealth(ok=False, reason="unreachable", error="OperationalError")] * 3
        + [replica.ReplicaHealth(ok=False, reason="lagging", lag_seconds=42.0)]
        + [replica.ReplicaHealth(ok=True, reason="ok", lag_seconds=0.1)] * 2
    )
    monkeypatch.setattr(replica, "_measure", lambda: next(answers))
    with caplog.at_level(logging.WARNING, logger="config.replica"):
        usable = [replica.replica_usable() for _ in range(6)]
    assert usable == [False, False, False, False, True, True]
    assert [r.getMessage() for r in caplog.records if r.name == "config.replica"] == [
        "Read replica not used, the primary serves its reads: unreachable",
        "Read replica back in use (0.1 s behind)",
    ]


def test_health_status_shows_a_dead_replica_as_degraded_not_down(client, monkeypatch):
    for name in ("_database", "_broker", "_workers", "_inbox"):
        monkeypatch.setattr(health, name, lambda: (True, {"status": "ok"}))
    monkeypatch.setattr(health, "replica_configured", lambda: True)
    monkeypatch.setattr(
        replica,
        "_measure",
        lambda: replica.ReplicaHealth(ok=False, reason="unreachable", error="OperationalError"),
    )
    monkeypatch.setattr(replica, "_health", replica.ReplicaHealth())
    response = client.get("/healthz/status")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["checks"]["replica"] == {
        "status": "degraded",
        "reason": "unreachable",
        "error": "OperationalError",
        "serving": "primary",
    }


def test_health_status_without_a_replica_says_nothing_of_it(client, monkeypatch):
    for name in ("_database", "_broker", "_workers", "_inbox"):
        monkeypatch.setattr(health, name, lambda: (True, {"status": "ok"}))
    assert "replica" not in client.get("/healthz/status").json()["checks"]


@pytest.mark.postgres
def test_the_lag_query_runs_on_postgresql(monkeypatch):
    # On a primary (the test database) it is not in recovery: no lag, usable.
    monkeypatch.setattr(replica, "REPLICA", "default")
    measured = replica._measure()
    assert (measured.ok, measured.reason, measured.lag_seconds) == (True, "ok", 0.0)


# --- Settings ------------------------------------------------------------------------------


@pytest.mark.parametrize("module", ["production", "local"])
def test_database_replica_url_adds_the_replica_alias(module):
    import json

    from tests.test_settings import PRODUCTION_ENV, _manage

    show = (
        "from django.conf import settings; import json; "
        "print(json.dumps({a: {k: d.get(k) for k in ('HOST', 'PORT', 'NAME', 'OPTIONS', "
        "'TEST', 'CONN_MAX_AGE', 'CONN_HEALTH_CHECKS')} for a, d in settings.DATABASES.items()}))"
    )
    env = PRODUCTION_ENV | {"DJANGO_SETTINGS_MODULE": f"config.settings.{module}"}
    without = json.loads(_manage("shell", "-c", show, env=env).stdout.splitlines()[-1])
    assert list(without) == ["default"]
    replica_url = {"DATABASE_REPLICA_URL": "postgres://overblik@10.0.0.2:5433/overblik"}
    result = _manage("shell", "-c", show, env=env | replica_url)
    assert result.returncode == 0, result.stderr
    aliases = json.loads(result.stdout.splitlines()[-1])
    assert aliases["replica"]["HOST"] == "10.0.0.2"
    assert aliases["replica"]["PORT"] == 5433
    assert aliases["replica"]["OPTIONS"]["connect_timeout"] == 2
    assert aliases["replica"]["TEST"]["MIRROR"] == "default"
    assert aliases["replica"]["CONN_HEALTH_CHECKS"] is True
    assert aliases["replica"]["CONN_MAX_AGE"] == aliases["default"]["CONN_MAX_AGE"]
    sqlite = _manage("check", env=env | {"DATABASE_REPLICA_URL": "sqlite:///replica.db"})
    assert sqlite.returncode != 0 and "same engine" in sqlite.stderr
