"""`import_kle` from the command line: output, URLs, exit codes."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from kle.models import Facet, Publication, Subject
from tests.kle.conftest import FIXTURE_EMNEPLAN, FIXTURE_FACETS, kle_snapshot, line_of, write

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str) -> subprocess.CompletedProcess:
    """manage.py in a child process, on this test database."""
    settings_dict = connection.settings_dict
    user = settings_dict.get("USER") or "postgres"
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"postgres://{user}@{host}:{port}/{settings_dict['NAME']}",
        "KLE_API_BASE": "http://127.0.0.1:9/unused",
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db
def test_import_kle_prints_one_summary_line_per_file():
    out, err = io.StringIO(), io.StringIO()

    call_command("import_kle", str(FIXTURE_EMNEPLAN), str(FIXTURE_FACETS), stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    subjects, facets = Subject.objects.count(), Facet.objects.count()
    assert lines[0].startswith("emneplan 2015-08-01 (KLE XML 2.0) from ")
    assert f"{subjects} items — {subjects} created, 0 changed" in lines[0]
    assert lines[1].startswith("handlingsfacetter 2015-05-01")
    assert f"{facets + 7} items — {facets + 7} created" in lines[1]  # facets and 7 categories
    assert Publication.objects.count() == 2
    assert err.getvalue() == ""

    out = io.StringIO()
    call_command("import_kle", str(FIXTURE_EMNEPLAN), stdout=out)
    assert f"no changes ({subjects} of {subjects} items unchanged)" in out.getvalue()


@pytest.mark.django_db
def test_import_kle_without_sources_fetches_both_kinds_from_the_api(settings, http_server):
    http_server.routes = {
        "/kle/emneplan": lambda path: (200, FIXTURE_EMNEPLAN.read_bytes()),
        "/kle/handlingsfacetter": lambda path: (200, FIXTURE_FACETS.read_bytes()),
    }
    settings.KLE_API_BASE = f"{http_server.base_url}/kle/"
    out = io.StringIO()

    call_command("import_kle", stdout=out)

    assert sorted(http_server.requests) == [
        "/kle/emneplan?udgaaede=true",
        "/kle/handlingsfacetter?udgaaede=true",
    ]
    assert f"from {http_server.base_url}/kle/emneplan?udgaaede=true" in out.getvalue()
    assert Subject.objects.exists() and Facet.objects.exists()
    assert Publication.objects.filter(source__startswith=http_server.base_url).count() == 2


@pytest.mark.django_db
def test_an_http_error_fails_the_command_and_changes_nothing(http_server):
    http_server.routes = {"/broken": lambda path: (500, b"oops")}

    with pytest.raises(CommandError) as caught:
        call_command("import_kle", str(FIXTURE_FACETS), f"{http_server.base_url}/broken")

    assert "HTTP 500" in str(caught.value)
    assert not Facet.objects.exists()


@pytest.mark.django_db
def test_only_http_and_https_urls_are_fetched():
    with pytest.raises(CommandError) as caught:
        call_command("import_kle", "ftp://example.invalid/kle.xml")

    assert "unsupported URL scheme 'ftp'" in str(caught.value)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_exit_codes_in_a_real_process(tmp_path):
    ok = _run("import_kle", str(FIXTURE_EMNEPLAN))
    assert ok.returncode == 0, ok.stderr
    assert "emneplan 2015-08-01" in ok.stdout and "created" in ok.stdout
    before = kle_snapshot()
    text = FIXTURE_EMNEPLAN.read_text(encoding="utf-8").replace(
        "<EmneNr>02.00.10</EmneNr>", "<EmneNr>02.00.1A</EmneNr>"
    )
    broken = write(tmp_path, "broken.xml", text)

    failed = _run("import_kle", str(broken))

    assert failed.returncode == 1
    assert f"line {line_of(text, '02.00.1A')} <EmneNr>" in failed.stderr
    assert "'02.00.1A'" in failed.stderr
    assert kle_snapshot() == before

    again = _run("import_kle", str(FIXTURE_EMNEPLAN))
    assert again.returncode == 0 and "no changes" in again.stdout
