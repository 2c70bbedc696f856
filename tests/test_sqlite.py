"""The rules that must hold on SQLite too, run there from the suite (also in CI).

``make run`` without a DATABASE_URL serves the portal from SQLite, whose REGEXP
is Python's ``re``: a pattern written for PostgreSQL once showed a CPR-number
title verbatim there (issue 11.3). The suite runs on PostgreSQL, so this test
runs the visibility rule's tests, the regex portability tests and the CPR
masking property (tests/overblik/test_cpr_in_texts.py) a second time, in a pytest of their own on an in-memory SQLite
database, and fails with that run's output when any of them fails or is skipped.
"""

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
ON_BOTH_DATABASES = [
    "tests/borgerblikket/test_visibility.py",
    "tests/borgerblikket/test_visibility_properties.py",
    "tests/borgerblikket/test_visibility_contact_awaiting.py",
    "tests/borgerblikket/test_visibility_cross_system.py",
    "tests/borgerblikket/test_hidden_documents.py",
    "tests/borgerblikket/test_regex_portability.py",
    "tests/borgerblikket/test_citizen_safe.py",
    "tests/borgerblikket/test_usage_counting.py",
    "tests/overblik/test_cpr_in_texts.py::test_no_page_shows_a_cpr_number_from_any_text",
]


@pytest.mark.skipif(not settings.POSTGRES_AVAILABLE, reason="the suite itself runs on SQLite here")
def test_the_visibility_rule_holds_on_sqlite(tmp_path):
    report = tmp_path / "sqlite.xml"
    env = os.environ | {
        "OVERBLIK_TEST_ON_SQLITE": "true",
        "DATABASE_URL": "sqlite:///:memory:",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
    }
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:randomly",
            f"--junitxml={report}",
            *ON_BOTH_DATABASES,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    output = (run.stdout + run.stderr)[-6000:]
    assert report.exists(), output
    suite = ET.parse(report).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    counts = {key: int(suite.get(key, 0)) for key in ("tests", "failures", "errors", "skipped")}
    assert "database: sqlite3" in run.stdout, output
    # Every file ran tests there (none was left out by a marker or a collection error).
    ran = {case.get("classname", "").split(".")[2] for case in suite.iter("testcase")}
    assert ran == {Path(name.split("::")[0]).stem for name in ON_BOTH_DATABASES}, output
    assert (counts["failures"], counts["errors"], counts["skipped"]) == (0, 0, 0), output
    assert run.returncode == 0, output
