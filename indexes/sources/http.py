"""The simulators over HTTP on loopback, for realism: the index then polls a URL.

``GET /<municipality>/<product path>?<the product's own parameters>`` answers
with the page the simulator would serve in-process. Only for development and
tests: it binds to 127.0.0.1 unless told otherwise, has no authentication and
logs no query strings.
"""

import logging
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from indexes.sources.simulators import (
    SIMULATORS,
    SimulatorConfig,
    SimulatorRequestError,
    simulator_get,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    municipality: str
    product: str
    config: SimulatorConfig

    @property
    def path(self) -> str:
        return f"/{self.municipality}/{SIMULATORS[self.product].path}"


class _Handler(BaseHTTPRequestHandler):
    server: "SimulatorServer"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        route = self.server.routes.get(parts.path)
        if route is None:
            self._send(404, b"ukendt feed\n", "text/plain; charset=utf-8")
            return
        simulator = simulator_get(
            product=route.product, municipality=route.municipality, config=route.config
        )
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = simulator.page(params=params, now=timezone.now())
        except SimulatorRequestError as exc:
            self._send(400, f"{exc}\n".encode(), "text/plain; charset=utf-8")
            return
        if route.config.latency_ms:
            threading.Event().wait(route.config.latency_ms / 1000)
        self._send(200, body, simulator.media_type)

    def _send(self, status: int, body: bytes, media_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", media_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        # The default writes the request line (with cursors) to stderr; keep it quiet.
        logger.debug("simulator served %s", urlsplit(self.path).path)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, routes: list[Route]):
        super().__init__(address, _Handler)
        self.routes = {route.path: route for route in routes}

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def simulator_server_start(
    *, routes: list[Route], host: str = "127.0.0.1", port: int = 0
) -> SimulatorServer:
    """Serve ``routes`` in a background thread; ``port=0`` picks a free port."""
    server = SimulatorServer((host, port), routes)
    thread = threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True)
    thread.start()
    return server
