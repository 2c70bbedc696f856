"""The simulated source systems over HTTP on loopback: the product polls them as real ones.

``GET /stand-in/<settings>/<municipality>/<product path>?<the product's own parameters>``
answers with the page of that product's simulator at that municipality, where
``<settings>`` is the simulator's settings (``SimulatorConfig``) in a URL-safe
token (``simulators.feeds.stand_in_token``). The server keeps no state of its
own and reads no database: any feed's address names everything it serves, so
one server answers every test, the demo and the benchmarks alike.

Only for development and tests: it binds to 127.0.0.1 unless told otherwise,
has no authentication and logs no query strings.
"""

import base64
import binascii
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from simulators.systems import SIMULATORS, SimulatorConfig, SimulatorRequestError, simulator_get

logger = logging.getLogger(__name__)

PREFIX = "stand-in"
# The product a path below /<municipality>/ belongs to.
_PRODUCT_OF_PATH = {simulator.path: product for product, simulator in SIMULATORS.items()}


def stand_in_token(config: SimulatorConfig) -> str:
    """``config`` as a URL path segment: its settings that differ from the defaults."""
    defaults = SimulatorConfig().as_dict()
    settings = {name: value for name, value in config.as_dict().items() if value != defaults[name]}
    if "faults" in settings:
        settings["faults"] = {name: rate for name, rate in settings["faults"].items() if rate}
    text = json.dumps(settings, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def stand_in_config(token: str) -> SimulatorConfig:
    """The settings a token names; ``ValueError`` when it names none."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        settings = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError("not a stand-in's settings") from None
    if not isinstance(settings, dict):
        raise ValueError("not a stand-in's settings")
    try:
        return SimulatorConfig.from_dict(settings)
    except TypeError as exc:
        raise ValueError(str(exc)) from None


class _Handler(BaseHTTPRequestHandler):
    server: "SimulatorServer"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        segments = parts.path.strip("/").split("/", 3)
        if len(segments) != 4 or segments[0] != PREFIX or segments[3] not in _PRODUCT_OF_PATH:
            self._send(404, b"ukendt feed\n", "text/plain; charset=utf-8")
            return
        _prefix, token, municipality, path = segments
        try:
            config = stand_in_config(token)
            simulator = simulator_get(
                product=_PRODUCT_OF_PATH[path], municipality=municipality, config=config
            )
        except ValueError:
            self._send(404, b"ukendt feed\n", "text/plain; charset=utf-8")
            return
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = simulator.page(params=params, now=timezone.now())
        except SimulatorRequestError as exc:
            self._send(400, f"{exc}\n".encode(), "text/plain; charset=utf-8")
            return
        if config.latency_ms:
            threading.Event().wait(config.latency_ms / 1000)
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

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def simulator_server(*, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """A server of every simulated system, bound but not serving yet (``serve_forever``)."""
    return SimulatorServer((host, port), _Handler)


def simulator_server_start(*, host: str = "127.0.0.1", port: int = 0) -> SimulatorServer:
    """Serve every simulated system in a background thread; ``port=0`` picks a free port."""
    server = simulator_server(host=host, port=port)
    thread = threading.Thread(target=server.serve_forever, name="simulator-http", daemon=True)
    thread.start()
    return server
