"""Shared fixtures: the real services and a real Celery worker.

PostgreSQL and Redis are used when they answer (config/settings/test.py decides
and refuses to run under CI=true without them). Tests that need a service are
marked; outside CI they are skipped on a machine that lacks it.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"

pytest_plugins = [
    "tests.plugins.cpr_log_guard",
    "tests.plugins.portal",
    "tests.plugins.stand_ins",
    "tests.plugins.db_leaks",
    "tests.plugins.outside",
    "tests.plugins.language",
]


def pytest_report_header(config):
    database = settings.DATABASES["default"]
    return [
        f"database: {database['ENGINE'].rsplit('.', 1)[-1]} "
        f"{database.get('HOST') or ''}:{database.get('PORT') or ''} "
        f"(postgres available: {settings.POSTGRES_AVAILABLE})",
        f"broker: {settings.CELERY_BROKER_URL} (redis available: {settings.REDIS_AVAILABLE})",
    ]


def pytest_collection_modifyitems(config, items):
    reasons = {
        "postgres": None if settings.POSTGRES_AVAILABLE else "PostgreSQL does not answer",
        "integration": None
        if settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE
        else "PostgreSQL and Redis are both needed",
    }
    # Slow end-to-end checks (a fresh clone running the demo): always under CI=true,
    # locally when asked for with `-m ci`.
    if not settings.IN_CI and "ci" not in (config.getoption("markexpr") or ""):
        reasons["ci"] = "runs under CI=true, or with -m ci"
    for item in items:
        for marker, reason in reasons.items():
            if reason and item.get_closest_marker(marker):
                # settings/test.py already refused to start under CI, so this is local only.
                item.add_marker(pytest.mark.skip(reason=f"{reason} (outside CI)"))


def shared_file(path: Path | str) -> Path:
    """A file of the shared data folder (``settings.SHARED_DIR``; a relative ``path`` is
    taken from there), which a bare clone lacks.

    Absent: outside CI the test is skipped with the reason; under CI=true it fails,
    since CI lays the folder beside the checkout and a skip would hide lost coverage.
    """
    path = Path(settings.SHARED_DIR) / path
    if not path.exists():
        reason = f"{path} is absent: the shared data folder is not beside this checkout"
        if settings.IN_CI:
            pytest.fail(f"{reason} (CI=true has it)")
        pytest.skip(f"{reason} (outside CI)")
    return path


def _database_url_for(settings_dict) -> str:
    user = settings_dict.get("USER") or ""
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


class WorkerProcess:
    """A `celery worker` subprocess bound to the test database and its own queue."""

    def __init__(self, database_url: str, queue: str, log_path: Path):
        self.database_url = database_url
        self.queue = queue
        self.log_path = log_path
        # Unique per process so start() waits for this worker, not any other one.
        self.hostname = f"test-{queue}-{uuid.uuid4().hex[:6]}@{socket.gethostname()}"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        env = os.environ | {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
                "--pool=prefork",
                "--without-gossip",
                "--without-mingle",
                "-Q",
                self.queue,
                "-n",
                self.hostname,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited early; see {self.log_path}")
            if celery_app.control.ping(destination=[self.hostname], timeout=0.5):
                return
        self.kill()  # a worker that never answered must not outlive the run
        raise RuntimeError(f"Celery worker did not answer within {timeout}s; see {self.log_path}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the worker and its pool children, as a crash or OOM kill would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _is_transactional(item: pytest.Item) -> bool:
    """The test commits (``transactional_db``, ``live_server`` or ``transaction=True``)."""
    if {"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())):
        return True
    marker = item.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))


# What migrations left in the test database (Django's serialized form), taken once.
_MIGRATED_ROWS = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def django_db_setup(request, django_db_setup, django_db_blocker):
    """pytest-django's test database, with a snapshot of what migrations left in it.

    Django takes the snapshot only when a collected test asks for
    ``serialized_rollback``, and keeps it on the connection object, which is not
    the same object in every context (a test beside Playwright's event loop gets
    another); the restore below needs it in every session and every context.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        contents = getattr(connection, "_test_serialized_contents", None)
        if contents is None:
            contents = connection.creation.serialize_db_to_string()
    request.config.stash[_MIGRATED_ROWS] = contents
    db_leaks = request.config.pluginmanager.get_plugin("tests.plugins.db_leaks")
    db_leaks.database_ready()
    yield django_db_setup
    db_leaks.check_session_end(django_db_blocker)


def _database_restore(config: pytest.Config) -> None:
    """Put the migrated rows back, with their primary keys, into a flushed database.

    A transactional test ends with a flush, whose post_migrate signal re-creates
    content types and permissions under new keys (stale in ContentType's cache;
    an IntegrityError for the next ``serialized_rollback`` setup) and which
    leaves out what data migrations seeded. So every test starts from the same
    rows, whatever ran before it (the suite passes in any order).
    """
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection
    from pytest_django.plugin import blocking_manager_key

    contents = config.stash.get(_MIGRATED_ROWS, None)
    if contents is None:  # no test database was set up in this session
        return
    with config.stash[blocking_manager_key].unblock():
        # Where Django's own serialized_rollback looks for it, on this context's connection.
        connection._test_serialized_contents = contents
        call_command(
            "flush",
            verbosity=0,
            interactive=False,
            reset_sequences=False,  # as TransactionTestCase flushes: keys stay ahead
            inhibit_post_migrate=True,
        )
        connection.creation.deserialize_db_from_string(contents)
        ContentType.objects.clear_cache()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """After a transactional test's own teardown (its flush), restore the migrated rows."""
    result = yield
    # After the last test the session fixtures have already dropped the test database.
    if nextitem is not None and _is_transactional(item):
        _database_restore(item.config)
    return result


@pytest.fixture(scope="session")
def celery_queue():
    """A queue of this test session's own, so no stray worker takes its tasks."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    return queue


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, celery_queue):
    """A real Celery worker process on Redis and the test PostgreSQL database.

    Tests using it must commit their data (``transactional_db``) so the worker
    sees it.
    """
    if not (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        pytest.skip("a real worker needs PostgreSQL and Redis (outside CI)")
    from django.db import connection

    worker = WorkerProcess(
        _database_url_for(connection.settings_dict),
        celery_queue,
        ARTIFACTS / f"celery-worker-{celery_queue}.log",
    )
    worker.start()
    yield worker
    worker.stop()


class WorkerGroup:
    """Workers of one test on a queue of their own; any may be killed and replaced."""

    def __init__(self, database_url: str, queue: str):
        self.database_url = database_url
        self.queue = queue
        self.workers: list[WorkerProcess] = []

    def start(self) -> WorkerProcess:
        worker = WorkerProcess(
            self.database_url, self.queue, ARTIFACTS / f"celery-worker-{self.queue}.log"
        )
        worker.start()
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()


@pytest.fixture
def celery_workers(django_db_setup, celery_queue):
    """Real workers of this test alone (function-scoped): ``celery_workers.start()``.

    Tasks sent during the test go to the group's own queue, so the session's
    ``celery_worker`` never takes them; a test may ``kill()`` a worker (SIGKILL,
    as a crash) and start another.
    """
    if not (settings.POSTGRES_AVAILABLE and settings.REDIS_AVAILABLE):
        pytest.skip("a real worker needs PostgreSQL and Redis (outside CI)")
    from django.db import connection

    queue = f"test-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    group = WorkerGroup(_database_url_for(connection.settings_dict), queue)
    yield group
    group.stop_all()
    celery_app.conf.task_default_queue = celery_queue
