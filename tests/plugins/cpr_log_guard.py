"""Fails the test session if any log record anywhere carried a CPR number.

Every LogRecord created in the test process is inspected *before* any handler
or filter sees it (a record factory), so the check covers what the code tried
to log, not what the redacting filter let through. Worker logs written by the
real Celery worker fixture are scanned at the end as well.
"""

import logging
from pathlib import Path

import pytest
from stdnum.dk import cpr as stdnum_cpr

from config.logging import CPR_PATTERN

ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"
_leaks: list[str] = []


def cpr_numbers_in(text: str) -> list[str]:
    """Valid CPR numbers (date and century checked) that occur in ``text``."""
    found = []
    for match in CPR_PATTERN.finditer(text):
        candidate = match.group(1) + match.group(2)
        if stdnum_cpr.is_valid(candidate):
            found.append(candidate)
    return found


def _install_factory() -> None:
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:
            return record
        if cpr_numbers_in(message):
            _leaks.append(f"{record.name}: {CPR_PATTERN.sub('[CPR]', message)[:200]}")
        return record

    logging.setLogRecordFactory(factory)


def pytest_configure(config):
    _install_factory()


def pytest_sessionfinish(session, exitstatus):
    for log_file in sorted(ARTIFACTS.glob("*.log")):
        for number, line in enumerate(log_file.read_text(errors="replace").splitlines(), 1):
            if cpr_numbers_in(line):
                _leaks.append(f"{log_file.name}:{number}: {CPR_PATTERN.sub('[CPR]', line)[:200]}")
    if _leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line("")
            reporter.write_line(f"CPR numbers reached {len(_leaks)} log line(s):", red=True)
            for leak in _leaks[:20]:
                reporter.write_line(f"  {leak}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
