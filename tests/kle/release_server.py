"""A stand-in for KLE-online: a real HTTP server on 127.0.0.1 that publishes KLE releases.

It answers ``GET /emneplan?udgaaede=true`` (and ``/handlingsfacetter``) with the file
published there, its ``ETag`` and ``Last-Modified``, and ``304 Not Modified`` when the
request's ``If-None-Match`` names that ETag or — without one — its ``If-Modified-Since``
is not before ``Last-Modified`` (RFC 9110 §13.1.1-13.1.3). ``fail_with`` makes every answer
an error status; stopping the server makes the port refuse connections.
"""

import datetime as dt
import hashlib
import http.server
import threading
from dataclasses import dataclass
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent / "data"
FIXTURE_DIR = Path(__file__).resolve().parents[2] / "kle" / "fixtures"
OLDER_EMNEPLAN = FIXTURE_DIR / "KLE-Emneplan_fixture.xml"
NEWER_EMNEPLAN = DATA / "KLE-Emneplan_fixture_2016-01-01.xml"
FACETS = FIXTURE_DIR / "KLE-Handlingsfacetter_fixture.xml"


@dataclass
class Published:
    body: bytes
    last_modified: dt.datetime

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:20]}"'


@dataclass
class Seen:
    path: str
    if_none_match: str | None
    if_modified_since: str | None
    status: int


class _Server(http.server.ThreadingHTTPServer):
    published: dict[str, Published]
    seen: list[Seen]
    fail_with: int | None


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        server: _Server = self.server
        path = self.path.split("?", 1)[0]
        etag_asked = self.headers.get("If-None-Match")
        since_asked = self.headers.get("If-Modified-Since")
        published = server.published.get(path)
        if server.fail_with:
            status, body, headers = server.fail_with, b"unavailable", {}
        elif published is None:
            status, body, headers = 404, b"not found", {}
        else:
            headers = {
                "ETag": published.etag,
                "Last-Modified": format_datetime(published.last_modified, usegmt=True),
            }
            if _not_modified(published, etag_asked, since_asked):
                status, body = 304, b""
            else:
                status, body = 200, published.body
        server.seen.append(Seen(path, etag_asked, since_asked, status))
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def log_message(self, format, *args):  # keep test output quiet
        pass


def _not_modified(published: Published, etag: str | None, since: str | None) -> bool:
    if etag is not None:
        return published.etag in [tag.strip() for tag in etag.split(",")]
    if since:
        try:
            return published.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


@dataclass
class KleOnline:
    """The running server: ``publish()`` a release, read ``seen``, ``stop()`` it."""

    server: _Server
    thread: threading.Thread
    base_url: str
    stopped: bool = False

    @property
    def seen(self) -> list[Seen]:
        return self.server.seen

    def publish(self, kind_path: str, path: Path, *, on: dt.date) -> Published:
        """Serve ``path`` at ``/<kind_path>`` as published on ``on`` (Last-Modified, noon UTC)."""
        published = Published(
            body=path.read_bytes(),
            last_modified=dt.datetime(on.year, on.month, on.day, 12, tzinfo=dt.UTC),
        )
        self.server.published[f"/{kind_path}"] = published
        return published

    def fail_with(self, status: int | None) -> None:
        self.server.fail_with = status

    def stop(self) -> None:
        if not self.stopped:
            self.server.shutdown()
            self.server.server_close()
            self.stopped = True


@pytest.fixture
def kle_online():
    """KLE-online's stand-in, serving the fixture release of 2015-08-01 (both kinds)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.published, server.seen, server.fail_with = {}, [], None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    online = KleOnline(server, thread, f"http://127.0.0.1:{server.server_address[1]}")
    online.publish("emneplan", OLDER_EMNEPLAN, on=dt.date(2015, 8, 1))
    online.publish("handlingsfacetter", FACETS, on=dt.date(2015, 8, 1))
    yield online
    online.stop()
