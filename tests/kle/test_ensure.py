"""`kle_ensure`: import KLE on first run, from the best source available."""

import io
import socket

import pytest
from django.core.management import CommandError, call_command

from kle.models import Facet, Publication, Subject
from kle.services.ensure import (
    FIXTURE_FILES,
    SOURCE_API,
    SOURCE_FIXTURE,
    SOURCE_SETTING,
    SOURCE_SHARED,
    kle_ensure,
)
from kle.services.importer import kle_import
from tests.kle.conftest import FIXTURE_EMNEPLAN, FIXTURE_FACETS, item, kle_snapshot, parse, write

pytestmark = pytest.mark.django_db


def _closed_port_url() -> str:
    """An address where nothing listens: connecting is refused at once (no network here)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/kle"


@pytest.fixture
def offline(settings, tmp_path):
    """No KLE_SOURCE, an unreachable API and no shared data folder."""
    settings.KLE_SOURCE = ""
    settings.KLE_API_BASE = _closed_port_url()
    settings.SHARED_DIR = tmp_path / "no-shared-folder"
    return settings


def _labels(report) -> dict[str, list[str]]:
    labels: dict[str, list[str]] = {}
    for used in report.used:
        labels.setdefault(used.kind, []).append(used.label)
    return labels


def test_kle_source_setting_is_used_when_set(offline):
    offline.KLE_SOURCE = f"{FIXTURE_FACETS} {FIXTURE_EMNEPLAN}"
    out = io.StringIO()

    call_command("kle_ensure", stdout=out)

    assert f"imported from {SOURCE_SETTING}" in out.getvalue()
    assert Subject.objects.exists() and Facet.objects.exists()
    assert set(Publication.objects.values_list("source", flat=True)) == {
        str(FIXTURE_FACETS),
        str(FIXTURE_EMNEPLAN),
    }


def test_an_invalid_kle_source_is_an_error_not_a_fallback(offline, tmp_path):
    broken = write(tmp_path, "broken.xml", "<KLE-Emneplan>")
    offline.KLE_SOURCE = f"{FIXTURE_FACETS} {broken}"

    with pytest.raises(CommandError) as caught:
        call_command("kle_ensure")

    assert "KLE_SOURCE" in str(caught.value) and str(broken) in str(caught.value)
    assert not Facet.objects.exists() and not Subject.objects.exists()


def test_offline_without_shared_folder_falls_back_to_the_packaged_fixture(offline):
    out = io.StringIO()

    call_command("kle_ensure", stdout=out)

    output = out.getvalue()
    assert f"not used: {SOURCE_API}" in output
    assert f"not used: {SOURCE_SHARED}: no emneplan file" in output
    assert f"KLE emneplan: imported from {SOURCE_FIXTURE}" in output
    assert f"KLE handlingsfacetter: imported from {SOURCE_FIXTURE}" in output
    assert Subject.objects.filter(number="02.00.10", title="Hegnssyn").exists()
    assert Facet.objects.filter(code="G01").exists()


def test_the_api_is_preferred_when_it_answers(offline, http_server):
    http_server.routes = {
        "/kle/emneplan": lambda path: (200, FIXTURE_EMNEPLAN.read_bytes()),
        "/kle/handlingsfacetter": lambda path: (200, FIXTURE_FACETS.read_bytes()),
    }
    offline.KLE_API_BASE = f"{http_server.base_url}/kle"

    report = kle_ensure()

    assert _labels(report) == {"emneplan": [SOURCE_API], "handlingsfacetter": [SOURCE_API]}
    assert len(http_server.requests) == 2


def test_a_shared_folder_file_is_used_before_the_fixture(offline, tmp_path):
    shared = tmp_path / "shared"
    (shared / "data" / "kle").mkdir(parents=True)
    root = parse(FIXTURE_EMNEPLAN)
    item(root, "02.00.10").find("EmneTitel").text = "Hegnssyn (shared copy)"
    write(shared / "data" / "kle", "KLE-Emneplan_test.xml", root)
    offline.SHARED_DIR = shared

    report = kle_ensure()

    assert _labels(report) == {
        "emneplan": [SOURCE_SHARED],
        "handlingsfacetter": [SOURCE_FIXTURE],
    }
    assert Subject.objects.get(number="02.00.10").title == "Hegnssyn (shared copy)"


def test_a_facets_excerpt_is_completed_by_the_fixture_in_one_import(offline, tmp_path):
    """The shared folder's handlingsfacetter file is an excerpt: the facets are imported once,
    as one publication, the excerpt's items winning and the fixture filling the rest (they
    were imported twice on start: the whole fixture, then the excerpt changing it)."""
    shared = tmp_path / "shared"
    (shared / "data" / "kle").mkdir(parents=True)
    root = parse(FIXTURE_FACETS)
    for category in root.findall("HandlingsfacetKategori")[1:]:
        root.remove(category)  # category A only, as the real excerpt
    item(root, "A00").find("HandlingsfacetTitel").text = "Organisering i almindelighed (excerpt)"
    excerpt = write(shared / "data" / "kle", "KLE-Handlingsfacetter_excerpt_test.xml", root)
    offline.SHARED_DIR = shared
    out = io.StringIO()

    call_command("kle_ensure", stdout=out)

    output = out.getvalue()
    assert output.count("KLE handlingsfacetter: imported") == 1, output
    assert f"KLE handlingsfacetter: imported from {SOURCE_SHARED} ({excerpt})" in output
    assert f"completed from {SOURCE_FIXTURE}" in output
    facets = Publication.objects.get(kind="handlingsfacetter")  # one publication
    assert (facets.source, facets.changed_count) == (str(excerpt), 0)
    assert facets.created_count == facets.item_count == 31  # 7 categories and 24 facets
    assert Facet.objects.get(code="A00").title == "Organisering i almindelighed (excerpt)"
    assert Facet.objects.filter(code__in=["G01", "K08", "P19"]).count() == 3


@pytest.mark.realdata
def test_the_real_shared_folder_gives_the_real_emneplan(
    offline, real_emneplan, real_facets_excerpt
):
    offline.SHARED_DIR = real_emneplan.parents[2]
    out = io.StringIO()

    call_command("kle_ensure", stdout=out)

    assert Subject.objects.count() == 41 + 691 + 3457
    assert f"imported from {SOURCE_SHARED} ({real_emneplan})" in out.getvalue()
    # The shared handlingsfacetter file is an excerpt (category A): the fixture fills the
    # other six categories first and the real excerpt is applied on top.
    sources = list(
        Publication.objects.filter(kind="handlingsfacetter")
        .order_by("pk")
        .values_list("source", flat=True)
    )
    assert sources == [str(real_facets_excerpt)]  # completed from the fixture, in one import
    assert Facet.objects.filter(code="G01").exists()
    assert Facet.objects.get(code="A00").title == "Organisering mv. i almindelighed"


def test_nothing_happens_when_kle_is_present(offline):
    kle_import(source=str(FIXTURE_EMNEPLAN))
    kle_import(source=str(FIXTURE_FACETS))
    before = kle_snapshot()
    out = io.StringIO()

    call_command("kle_ensure", stdout=out)

    subjects, facets = Subject.objects.count(), Facet.objects.count()
    assert out.getvalue().strip() == (
        f"KLE is already present ({subjects} KLE numbers, {facets} handlingsfacetter); "
        "nothing to do."
    )
    assert kle_snapshot() == before


def test_only_the_empty_kind_is_imported(offline):
    kle_import(source=str(FIXTURE_EMNEPLAN))
    subjects_before = kle_snapshot()["Subject"]

    report = kle_ensure()

    assert _labels(report) == {"handlingsfacetter": [SOURCE_FIXTURE]}
    assert kle_snapshot()["Subject"] == subjects_before
    assert Facet.objects.exists()


def test_it_fails_when_no_source_of_a_kind_can_be_imported(offline, monkeypatch, tmp_path):
    broken = write(tmp_path, "broken.xml", "<KLE-Handlingsfacetter>")
    monkeypatch.setitem(FIXTURE_FILES, Publication.Kind.ACTION_FACETS, broken)
    out = io.StringIO()

    with pytest.raises(CommandError) as caught:
        call_command("kle_ensure", stdout=out)

    assert "KLE handlingsfacetter: no source could be imported" in str(caught.value)
    assert f"not used: {SOURCE_FIXTURE}: {broken}" in out.getvalue()
    assert Subject.objects.exists() and not Facet.objects.exists()
