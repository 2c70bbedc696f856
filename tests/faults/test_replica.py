"""Citizen pages from a real streaming read replica, and from the primary when it is gone.

The session's private PostgreSQL cluster (tests/faults/conftest.py) is the primary; a
standby is made of it with ``pg_basebackup -R`` on a port of its own and streams from
it. gunicorn runs the production settings with ``DATABASE_REPLICA_URL`` pointing at the
standby (config/replica.py).

Where a page was read is shown by a marker: with the standby's replay paused, a title
changed on the primary is not on the standby yet, so a page showing the old title was
read from the standby and one showing the new title from the primary.

Runs under CI=true (integration; a missing PostgreSQL binary fails it there), skipped
locally when PostgreSQL, Redis or the server binaries are missing.
"""

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid

import pytest

from tests.conftest import ARTIFACTS
from tests.faults.services import HOST, ROOT, PrivateStandby, wait_for

pytestmark = pytest.mark.integration

MAX_LAG = 10  # DATABASE_REPLICA_MAX_LAG_SECONDS of the drill's gunicorn
# What tests/overblik/data.py gives Kim (and another citizen) that Kim's pages never show.
NEVER_SHOWN = (
    "Skjult sag om underretning",
    "Sag i et område kommunen ikke viser",
    "Hans' sag om boligstøtte",
    "Journalnotat om telefonsamtale",
    "Internt notat om vurdering",
    "Sagsbehandler Hemmelig",
    "INTERN: sagsbehandlers egen titel",
)


def _need_pg_basebackup(stack) -> None:
    if not (stack.postgres.bin / "pg_basebackup").exists():
        missing = f"pg_basebackup is not in {stack.postgres.bin}"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {missing}; the replica drill must run in CI")
        pytest.skip(f"{missing} (outside CI)")


def _collectstatic(env: dict) -> None:
    """Production settings serve static files from their manifest (a deployment's
    collectstatic, the Dockerfile's): made once in this checkout (staticfiles/, ignored)."""
    if (ROOT / "staticfiles" / "staticfiles.json").exists():
        return
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
        capture_output=True,
    )


@pytest.fixture
def standby(drill):
    stack = drill.stack
    _need_pg_basebackup(stack)
    # A physical copy of the whole cluster, the drill's database included.
    replica = PrivateStandby(stack.root / f"standby-{uuid.uuid4().hex[:6]}", stack.postgres)
    replica.init()
    replica.start()
    try:
        wait_for(replica.streaming, timeout=30, what="the standby streams from the primary")
        yield replica
    finally:
        stack.extra_env = {}
        replica.destroy()


class Portal:
    """Kim's pages on the drill's gunicorn, with a session cookie of Kim's."""

    def __init__(self, port: int, cookie: str):
        self.port, self.cookie = port, cookie

    def get(self, path: str) -> tuple[int, str]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=30)
        try:
            connection.request("GET", path, headers={"Cookie": self.cookie})
            response = connection.getresponse()
            return response.status, response.read().decode()
        finally:
            connection.close()

    def status(self) -> dict:
        """/healthz/status's replica check; a degraded replica never makes it a 503."""
        code, body = self.get("/healthz/status")
        assert code == 200, body
        return json.loads(body)["checks"]["replica"]


def test_pages_come_from_the_streaming_replica_and_from_the_primary_without_it(
    drill, standby, caplog
):
    stack = drill.stack
    primary = stack.postgres
    database = drill.database
    portal_setup = drill.probe("portal")
    # Kim's data (written after the base backup) reached the standby by streaming.
    wait_for(standby.replayed, timeout=30, what="the portal data replayed on the standby")
    case_id = portal_setup["cases"][0]

    def sql(server, statement: str) -> str:
        return server.sql(statement, database=database)

    assert sql(standby, "SELECT pg_is_in_recovery()") == "t"
    assert sql(standby, f"SELECT count(*) FROM indexes_case WHERE id = {case_id}") == "1"

    stack.extra_env = {
        "DATABASE_REPLICA_URL": standby.url(database),
        "DATABASE_REPLICA_CHECK_SECONDS": "0.2",
        "DATABASE_REPLICA_MAX_LAG_SECONDS": str(MAX_LAG),
        "DJANGO_LOG_LEVEL": "WARNING",
    }
    _collectstatic(stack.env)
    gunicorn = stack.gunicorn(workers=1)
    # A worker, so that /healthz/status is otherwise healthy (it counts workers).
    stack.worker("w0")
    portal = Portal(stack.web_port, f"{portal_setup['cookie']}={portal_setup['session']}")
    page = f"/sager/{case_id}/"

    def title_shown() -> str:
        status, body = portal.get(page)
        assert status == 200, body[-2000:]
        found = re.search(r"Markør (\w+)", body)
        return found.group(1) if found else ""

    def title_set(marker: str) -> None:
        sql(primary, f"UPDATE indexes_case SET title = 'Markør {marker}' WHERE id = {case_id}")

    def replicated() -> None:
        wait_for(standby.replayed, timeout=30, what="the standby caught up")

    def log_lines(text: str) -> int:
        return gunicorn.log.read_text(errors="replace").count(text)

    # 1. Streaming: a change on the primary reaches the standby.
    title_set("foer")
    replicated()
    assert sql(standby, f"SELECT title FROM indexes_case WHERE id = {case_id}") == "Markør foer"
    assert title_shown() == "foer"
    assert portal.status()["status"] == "ok"

    def paused_after(shown: str, hidden: str) -> None:
        """Replay paused just after ``shown`` was replayed; ``hidden`` written on the primary.

        The lag the router sees is the age of the last replayed commit (``shown``'s):
        fresh, so well under DATABASE_REPLICA_MAX_LAG_SECONDS for the next seconds."""
        title_set(shown)
        replicated()
        sql(standby, "SELECT pg_wal_replay_pause()")
        title_set(hidden)

    # 2. The page is read from the standby: with its replay paused, a newer title on the
    # primary is not shown (the lag is still under DATABASE_REPLICA_MAX_LAG_SECONDS).
    paused_after("foer", "efter")
    assert title_shown() == "foer"
    # The visibility rule holds on the standby's pages as on the primary's: Kim's other
    # visible case is listed; what the rule hides (a hidden case, an area the sheet does
    # not show, another citizen's case, journal notes, the caseworker) is not.
    status, cases_page = portal.get("/sager/")
    assert status == 200
    assert "Ansøgning om kontanthjælp 2" in cases_page
    for hidden in NEVER_SHOWN:
        assert hidden not in cases_page, hidden
    status, overview = portal.get("/overblik/")
    assert status == 200 and "Markør foer" in overview
    for hidden in NEVER_SHOWN:
        assert hidden not in overview, hidden
    # The standby's own sessions: gunicorn's connection to the drill's database.
    readers = sql(
        standby,
        "SELECT count(*) FROM pg_stat_activity "
        f"WHERE datname = '{database}' AND backend_type = 'client backend'",
    )
    assert int(readers) >= 1

    # 3. A standby further behind than the limit is not used: the primary serves the page
    # (the new title) and /healthz/status says degraded, lagging.
    shown = wait_for(
        lambda: title_shown() == "efter", timeout=MAX_LAG + 30, what="the primary took over"
    )
    assert shown
    lagging = portal.status()
    assert (lagging["status"], lagging["reason"], lagging["serving"]) == (
        "degraded",
        "lagging",
        "primary",
    )
    assert lagging["lag_seconds"] > MAX_LAG

    # 4. Replay resumed: the standby catches up and serves again.
    sql(standby, "SELECT pg_wal_replay_resume()")
    replicated()
    wait_for(lambda: portal.status()["status"] == "ok", timeout=30, what="replica in use again")
    assert sql(standby, f"SELECT title FROM indexes_case WHERE id = {case_id}") == "Markør efter"
    assert title_shown() == "efter"

    # 5. The standby stopped and started while the pages keep loading: never an error.
    statuses: list[int] = []
    seconds: list[float] = []
    stop = threading.Event()

    def load() -> None:
        while not stop.is_set():
            started = time.monotonic()
            statuses.append(portal.get(page)[0])
            seconds.append(time.monotonic() - started)

    loader = threading.Thread(target=load, daemon=True)
    warned_before = log_lines("Read replica not used")
    back_before = log_lines("Read replica back in use")
    loader.start()
    try:
        wait_for(lambda: len(statuses) >= 3, timeout=30, what="pages loading")
        stopped_at = time.monotonic()
        standby.stop(mode="fast")
        loaded = len(statuses)
        wait_for(lambda: len(statuses) >= loaded + 5, timeout=60, what="pages without it")
        down = portal.status()
        assert (down["status"], down["reason"], down["serving"]) == (
            "degraded",
            "unreachable",
            "primary",
        )
        during_outage = len(statuses) - loaded
        standby.start()
        started_at = time.monotonic()
        wait_for(standby.streaming, timeout=30, what="the standby streams again")
        wait_for(lambda: portal.status()["status"] == "ok", timeout=15, what="replica back")
        back_after = time.monotonic() - started_at
        loaded = len(statuses)
        wait_for(lambda: len(statuses) >= loaded + 3, timeout=30, what="pages with it again")
    finally:
        stop.set()
        loader.join(timeout=60)
    assert statuses and set(statuses) == {200}, statuses
    # What the drill saw (docs/scaling.md, "Read replicas"), kept with CI's artifacts.
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "replica-drill.json").write_text(
        json.dumps(
            {
                "pages": len(statuses),
                "errors": sum(1 for status in statuses if status != 200),
                "pages_while_stopped": during_outage,
                "outage_seconds": round(started_at - stopped_at, 1),
                "replica_back_after_start_seconds": round(back_after, 1),
                "page_seconds_max": round(max(seconds), 3),
                "page_seconds_median": round(sorted(seconds)[len(seconds) // 2], 3),
            },
            indent=2,
        )
    )
    # Logged once when it went, once when it came back (however many pages in between).
    assert log_lines("Read replica not used") - warned_before == 1
    assert log_lines("Read replica back in use") - back_before == 1

    # 6. And from the standby again: the replay-pause marker once more.
    paused_after("igen", "sidst")
    assert title_shown() == "igen"
    sql(standby, "SELECT pg_wal_replay_resume()")
