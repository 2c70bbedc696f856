"""A private PostgreSQL cluster and Redis server per test session, a database per test.

The cluster is created (initdb) and migrated once, into a template database
with the KLE fixture loaded; each test gets ``CREATE DATABASE ... TEMPLATE`` of
it (well under a second) and its own gunicorn, workers and beat, stopped when
it ends. Nothing shared is touched, so a test may stop Redis or restart
PostgreSQL. Under CI=true a missing binary fails the test instead of skipping it.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest

from tests.conftest import ARTIFACTS
from tests.faults.services import ROOT, Stack, services_missing

TEMPLATE = "drill_template"


def _need_services() -> None:
    missing = services_missing()
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {missing}; the fault drills must run in CI")
        pytest.skip(f"{missing} (outside CI)")


class Drill:
    """One test's database on the session's private services, and its processes."""

    def __init__(self, stack: Stack, database: str):
        self.stack = stack
        self.database = database

    def probe(self, *args: str) -> object:
        result = subprocess.run(
            [sys.executable, "-m", "tests.faults.probe", *args],
            cwd=ROOT,
            env=self.stack.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.strip().splitlines()[-1])

    def setup(self) -> tuple[int, str]:
        created = self.probe("setup", f"drill-{uuid.uuid4().hex[:8]}")
        return created["system"], created["key"]

    def scalar(self, statement: str) -> int | None:
        """One number from the drill's database, or None while it does not answer."""
        try:
            return int(self.stack.postgres.sql(statement, database=self.database))
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError):
            return None

    def applied(self) -> int:
        return (
            self.scalar("SELECT count(*) FROM indexes_inboxrecord WHERE outcome <> 'pending'") or 0
        )

    def drained(self) -> bool:
        return self.scalar("SELECT count(*) FROM indexes_inboxbatch WHERE status <> 'done'") == 0

    def start(self, *, web_workers: int = 1) -> None:
        self.stack.start_all(web_workers=web_workers, workers=1)


@pytest.fixture(scope="session")
def fault_stack():
    _need_services()
    started = time.monotonic()
    stack = Stack(database=TEMPLATE, sweep_every=1.0, sweep_after=3)
    try:
        stack.start_services()
        stack.migrate()
        Drill(stack, TEMPLATE).probe("kle")
        stack.setup_seconds = time.monotonic() - started
        yield stack
    finally:
        stack.close()
        stack.remove()


@pytest.fixture
def drill(fault_stack):
    database = f"drill_{uuid.uuid4().hex[:8]}"
    fault_stack.postgres.sql(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE}"')
    fault_stack.database = database
    if not fault_stack.redis.process:
        fault_stack.redis.start()
    drill = Drill(fault_stack, database)
    try:
        yield drill
    finally:
        fault_stack.kill_all()
        # The processes' logs outlive the private services (CI keeps test-artifacts/).
        shutil.copytree(fault_stack.logs, ARTIFACTS / f"faults-{database}", dirs_exist_ok=True)
        for log in fault_stack.logs.iterdir():
            log.unlink()
        if not fault_stack.postgres.is_running():
            fault_stack.postgres.start()
        if not fault_stack.redis.process:
            fault_stack.redis.start()
        fault_stack.database = TEMPLATE
