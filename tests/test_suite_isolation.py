"""The suite's own isolation: a test's outcome never depends on which tests ran before it.

A transactional test ends with a flush. Django's flush re-creates content types
and permissions under new primary keys (its post_migrate signal) and leaves the
rows that data migrations seeded (municipalities, mandatory sheet rows) out; a
later test with ``serialized_rollback`` then failed at setup with an
IntegrityError on django_content_type, and a later test that trusted the
content-type cache or the seeded rows failed or passed by luck.
tests/conftest.py puts the migrated rows back, with their keys, after every
transactional test. These tests run the order that broke in a pytest of their
own (its own test database), so they hold whatever order this session runs in.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from tests.conftest import ROOT

pytestmark = pytest.mark.postgres

INNER_TESTS = """
import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from borgerblikket.models import MandatoryKleNumber
from indexes.models import Municipality


# Taken by test_0, which pytest-django runs first (plain database tests come first).
MIGRATED = {}


def content_types():
    return {(c.pk, c.app_label, c.model) for c in ContentType.objects.all()}


def assert_as_migrated():
    assert content_types() == MIGRATED["content_types"]
    assert Municipality.objects.count() == 98
    assert MandatoryKleNumber.objects.exists()
    # The cache of content types must still name real rows.
    Permission.objects.create(
        name="x", codename="x", content_type=ContentType.objects.get_for_model(Municipality)
    )


@pytest.mark.django_db(transaction=True)
def test_1_a_transactional_test_changes_the_reference_data():
    Municipality.objects.all().delete()
    ContentType.objects.get_for_model(Municipality)  # warm the cache
    # Django keeps its snapshot on the connection object, and a test beside Playwright's
    # event loop (tests/browser) gets another connection object, without it.
    del connection._test_serialized_contents


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_2_a_serialized_rollback_test_after_it_starts_as_migrated():
    assert_as_migrated()


@pytest.mark.django_db(transaction=True)
def test_3_a_transactional_test_after_both_starts_as_migrated():
    assert_as_migrated()


@pytest.mark.django_db
def test_0_a_plain_test_starts_as_migrated():  # pytest-django runs it first
    MIGRATED["content_types"] = content_types()
    assert_as_migrated()
"""


def test_transactional_tests_leave_the_database_as_migrations_left_it(tmp_path):
    (tmp_path / "test_order.py").write_text(textwrap.dedent(INNER_TESTS))
    # The suite's conftest, as a conftest (its fixtures override pytest-django's).
    (tmp_path / "conftest.py").write_text("from tests.conftest import *  # noqa: F403\n")
    database = settings.DATABASES["default"]
    user = database.get("USER") or "postgres"
    host, port = database.get("HOST") or "127.0.0.1", database.get("PORT") or 5432
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "PYTHONPATH": str(ROOT),
        # Its own test database (test_<name>_isolation), beside this session's.
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{database['NAME']}_isolation",
    }
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"),
            *("--rootdir", str(tmp_path), "-c", str(ROOT / "pyproject.toml")),
            str(tmp_path / "test_order.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout, result.stdout[-2000:]
