"""Connections to the test database that outlive the session.

PostgreSQL refuses to drop a database others are connected to, so a connection
left open ends the run with "database … is being accessed by other users" and
leaves the test database behind. Two kinds of connection are left open:

- this process's own, opened in another context: Django keeps one connection
  per thread *and* per context, and a test beside Playwright's event loop runs
  in a greenlet of its own, so the connection it opened is not the one Django
  closes before dropping the database. Every connection this process opens is
  noted (Django's ``connection_created`` signal) and closed before the drop.
- another process's (a worker, a server or a thread that never closed its own):
  the session fails, naming what was still connected. With
  ``OVERBLIK_DB_LEAKS=1`` every test is checked after its teardown, which names
  the test that left a foreign connection open.
"""

import os
import time
import weakref

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created

_PER_TEST = os.environ.get("OVERBLIK_DB_LEAKS") == "1"
_found: list[str] = []
_database_ready = False  # set once the suite's test database exists
_own = weakref.WeakSet()  # every DatabaseWrapper of this process that connected


def _note(sender, connection, **kwargs) -> None:
    _own.add(connection)


def pytest_configure(config):
    connection_created.connect(_note, weak=False, dispatch_uid="tests.db_leaks")


def _on_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _own_backend_pids() -> set[int]:
    pids = set()
    for wrapper in list(_own):
        raw = wrapper.connection
        if raw is not None and not raw.closed:
            pids.add(raw.info.backend_pid)
    return pids


def _close_own_connections() -> None:
    """Close this process's connections in every thread and context but the current
    one (whose connection Django closes and uses for the drop)."""
    from django.db import connections

    current = {id(wrapper) for wrapper in connections.all(initialized_only=True)}
    for wrapper in list(_own):
        raw = wrapper.connection
        if id(wrapper) in current or raw is None or raw.closed:
            continue
        raw.close()  # the raw psycopg connection: Django's close() refuses other threads


def _foreign_backends(wait: float = 0.0) -> list[tuple]:
    """Sessions on the test database that are not this process's (waiting up to
    ``wait`` seconds for closing ones to go)."""
    from django.db import connection

    deadline = time.monotonic() + wait
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, application_name, client_port, backend_start, state, "
                "left(query, 120) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            own = _own_backend_pids()
            rows = [row for row in cursor.fetchall() if row[0] not in own]
        if not rows or time.monotonic() >= deadline:
            return rows
        time.sleep(0.1)


def database_ready() -> None:
    """Called by the suite's ``django_db_setup`` once the test database exists."""
    global _database_ready
    _database_ready = True


def check_session_end(django_db_blocker) -> None:
    """Called by the suite's ``django_db_setup`` just before the test database is
    dropped: close this process's other connections, note any other process's."""
    global _database_ready
    _database_ready = False
    if not _on_postgres():
        return
    _close_own_connections()
    with django_db_blocker.unblock():
        rows = _foreign_backends(wait=5.0)
    if rows:
        _found.append(
            "connections still open on the test database at the end of the session: "
            + "; ".join(repr(row) for row in rows)
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    if _PER_TEST and _database_ready and _on_postgres():
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            rows = _foreign_backends(wait=2.0)
        if rows:
            _found.append(f"{item.nodeid} left connections open: {rows!r}")
    return result


def pytest_sessionfinish(session, exitstatus):
    if _found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        for line in _found:
            reporter.write_line(f"LEAKED DATABASE CONNECTION: {line}", red=True)
