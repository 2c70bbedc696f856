"""Stand-ins for Digital Fuldmagt and the CPR relations service (issue 15).

One small stdlib HTTP server answers both doors the product's client
(``borgerblikket.relations``) uses, with the demo's relations:

- ``POST /fuldmagt/fuldmagter`` ``{"holder_cpr"}`` → the holder's powers of attorney;
- ``POST /fuldmagt/tilbagekald`` ``{"holder_cpr", "principal_cpr"}`` → revokes one (the
  demo and the tests show a revocation taking effect within the cache time);
- ``POST /cpr/boern`` ``{"parent_cpr"}`` → the parent's children.

CPR numbers only ever arrive in a POST body, never in the path or a query. The
state lives in the server object (``RelationsServer.powers``/``children``), so a
test can change it. Only for development and tests: loopback, no authentication,
nothing logged but the path.
"""

import datetime as dt
import json
import logging
import threading
from copy import deepcopy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from simulators.demo_citizens import DEMO_CHILDREN, DEMO_CITIZENS

logger = logging.getLogger(__name__)

FULDMAGT_PATH = "/fuldmagt"
CPR_PATH = "/cpr"


def _cpr(key: str) -> str:
    return next(c.cpr for c in DEMO_CITIZENS + DEMO_CHILDREN if c.key == key)


def demo_powers() -> list[dict]:
    """Kim Borgersen's daughter Sofie holds a power of attorney for his elder care only."""
    return [
        {
            "holder_cpr": _cpr("demo-sofie"),
            "principal_cpr": _cpr("demo-kim"),
            "principal_name": "Kim Borgersen",
            "relation": "datter",
            # Home help and visitation (27.36) and aids (27.60); not his pension (32).
            "scope": ["27.36", "27.60"],
            "valid_from": "2024-01-01",
            "valid_to": None,
            "revoked_at": None,
        }
    ]


def demo_children() -> list[dict]:
    """Hans Emil Hansen has custody of his son Emil (born 2016)."""
    return [
        {
            "parent_cpr": _cpr("demo-hans"),
            "cpr": _cpr("demo-barn-emil"),
            "name": "Emil Hansen",
            "birth_date": "2016-04-09",
            "custody": True,
        }
    ]


class _Handler(BaseHTTPRequestHandler):
    server: "RelationsServer"

    def do_POST(self) -> None:
        try:
            length = min(int(self.headers.get("Content-Length") or 0), 100_000)
            body = json.loads(self.rfile.read(length) or b"{}")
            if not isinstance(body, dict):
                raise ValueError
        except ValueError:
            self._send(400, {"error": "body must be a JSON object"})
            return
        server = self.server
        with server.lock:
            server.paths.append(self.path)
            if self.path == f"{FULDMAGT_PATH}/fuldmagter":
                holder = str(body.get("holder_cpr", ""))
                powers = [
                    {k: v for k, v in p.items() if k != "holder_cpr"}
                    for p in server.powers
                    if p["holder_cpr"] == holder
                ]
                self._send(200, {"powers": powers})
            elif self.path == f"{FULDMAGT_PATH}/tilbagekald":
                now = dt.datetime.now(dt.UTC).isoformat()
                count = 0
                for power in server.powers:
                    if (power["holder_cpr"], power["principal_cpr"]) == (
                        body.get("holder_cpr"),
                        body.get("principal_cpr"),
                    ):
                        power["revoked_at"] = now
                        count += 1
                self._send(200, {"revoked": count})
            elif self.path == f"{CPR_PATH}/boern":
                parent = str(body.get("parent_cpr", ""))
                children = [
                    {k: v for k, v in c.items() if k != "parent_cpr"}
                    for c in server.children
                    if c["parent_cpr"] == parent
                ]
                self._send(200, {"children": children})
            else:
                self._send(404, {"error": "unknown path"})

    def _send(self, status: int, answer: dict) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        logger.debug("relations stand-in served %s", self.path)


class RelationsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, powers=None, children=None):
        super().__init__(address, _Handler)
        self.lock = threading.Lock()
        self.paths: list[str] = []  # what was asked, for tests: never a CPR number
        self.powers = deepcopy(demo_powers() if powers is None else powers)
        self.children = deepcopy(demo_children() if children is None else children)

    def reset(self) -> None:
        with self.lock:
            self.powers = demo_powers()
            self.children = demo_children()
            self.paths = []

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def fuldmagt_url(self) -> str:
        return self.base_url + FULDMAGT_PATH

    @property
    def cpr_url(self) -> str:
        return self.base_url + CPR_PATH


def relations_server_start(*, host: str = "127.0.0.1", port: int = 0) -> RelationsServer:
    """Serve the stand-ins in a background thread; ``port=0`` picks a free port."""
    server = RelationsServer((host, port))
    threading.Thread(target=server.serve_forever, name="relations-http", daemon=True).start()
    return server
