"""Serve the SMS gateway stand-in (see the package docstring)."""

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
SENT: list[dict] = []
KEYS: dict[str, dict] = {}


class Gateway(BaseHTTPRequestHandler):
    def _json(self, status: int, data) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        if self.path != "/sms":
            return self._json(404, {"error": "not_found"})
        length = int(self.headers.get("Content-Length") or 0)
        try:
            data = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._json(400, {"error": "invalid_json"})
        key = self.headers.get("Idempotency-Key", "")
        to = str(data.get("to", ""))
        with LOCK:
            if key and key in KEYS:
                return self._json(200, KEYS[key])
            if to.endswith("0000"):
                return self._json(422, {"error": "invalid_number"})
            answer = {"id": len(SENT) + 1, "status": "queued"}
            SENT.append(
                {
                    "to": to,
                    "from": data.get("from"),
                    "text": data.get("text"),
                    "key": key,
                    "at": time.time(),
                }
            )
            if key:
                KEYS[key] = answer
        return self._json(202, answer)

    def do_GET(self):
        with LOCK:
            return self._json(200, {"messages": list(SENT)})

    def do_DELETE(self):
        with LOCK:
            SENT.clear()
            KEYS.clear()
        self.send_response(204)
        self.end_headers()

    def log_message(self, format, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9426)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Gateway)
    print(f"SMS gateway stand-in: http://{args.host}:{args.port}/sms", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
