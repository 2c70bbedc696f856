"""Helpers for the KLE tests: the packaged fixtures, the real files when present, XML surgery."""

import http.server
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from kle.models import Facet, FacetCategory, Keyword, Publication, Subject, Succession
from kle.services.ensure import FIXTURE_FILES
from tests.conftest import shared_file

FIXTURE_EMNEPLAN = FIXTURE_FILES[Publication.Kind.SUBJECT_PLAN]
FIXTURE_FACETS = FIXTURE_FILES[Publication.Kind.ACTION_FACETS]
DATA = Path(__file__).resolve().parent / "data"
REST_FIXTURE = DATA / "KLE-REST-Emneplan-fuld_fixture.xml"
# The checkout's own shared folder (CI has it); tests that move SHARED_DIR use these paths.
SHARED_KLE = Path(settings.SHARED_DIR) / "data" / "kle"
REAL_EMNEPLAN = SHARED_KLE / "KLE-Emneplan_Version2-0_2015-08-01.xml"
REAL_FACETS_EXCERPT = SHARED_KLE / "KLE-Handlingsfacetter_excerpt_2015-05-01_openesdh-test.xml"
KLE_MODELS = (Publication, Subject, Succession, Keyword, FacetCategory, Facet)


@pytest.fixture
def real_emneplan() -> Path:
    return shared_file(REAL_EMNEPLAN)  # skipped when absent, outside CI


@pytest.fixture
def real_facets_excerpt() -> Path:
    return shared_file(REAL_FACETS_EXCERPT)


def kle_snapshot() -> dict[str, list[tuple]]:
    """Every row of every KLE table, for "the database is exactly as it was" checks."""
    return {
        model.__name__: list(model.objects.order_by("pk").values_list()) for model in KLE_MODELS
    }


def parse(path: Path) -> etree._Element:
    return etree.parse(str(path)).getroot()


def item(root: etree._Element, number: str) -> etree._Element:
    """The Hovedgruppe, Gruppe, Emne, HandlingsfacetKategori or Handlingsfacet with this key."""
    for tag in ("Hovedgruppe", "Gruppe", "Emne", "HandlingsfacetKategori", "Handlingsfacet"):
        for element in root.iter(tag):
            if element.findtext(f"{tag}Nr") == number:
                return element
    raise LookupError(number)


def write(tmp_path: Path, name: str, content: etree._Element | str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, etree._Element):
        content = etree.tostring(content, xml_declaration=True, encoding="UTF-8")
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def line_of(text: str, marker: str) -> int:
    """1-based line of the first occurrence of marker in text."""
    index = text.index(marker)
    return text.count("\n", 0, index) + 1


class _Server(http.server.ThreadingHTTPServer):
    routes: dict[str, Callable[[str], tuple[int, bytes]]]
    requests: list[str]


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.server.requests.append(self.path)
        route = self.server.routes.get(self.path.split("?", 1)[0])
        status, body = route(self.path) if route else (404, b"not found")
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep test output quiet
        pass


@pytest.fixture
def http_server():
    """A real HTTP server on 127.0.0.1 (the KLE-online API's stand-in); set .routes."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.routes = {}
    server.requests = []
    server.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
