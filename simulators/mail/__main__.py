"""Serve the mail stand-in: ``python -m simulators.mail`` (see the package docstring)."""

import argparse
import asyncio
import email
import email.policy
import html
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

LOCK = threading.Lock()
MESSAGES: list[dict] = []
SEEN_IDS: set[str] = set()
DUPLICATES = {"count": 0}
DELAY = {"seconds": float(os.environ.get("SIMULATORS_MAIL_DELAY", "0") or 0)}


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@", 1)[0].lower().startswith("bounce"):
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if DELAY["seconds"]:
            # A slow server (PUT /delay): a test kills the sender while it waits here.
            await asyncio.sleep(DELAY["seconds"])
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message_id = str(parsed.get("Message-ID", ""))
        text = parsed.get_body(preferencelist=("plain",))
        rich = parsed.get_body(preferencelist=("html",))
        with LOCK:
            if message_id and message_id in SEEN_IDS:
                DUPLICATES["count"] += 1
                return "250 OK (duplicate Message-ID, kept once)"
            SEEN_IDS.add(message_id)
            MESSAGES.append(
                {
                    "message_id": message_id,
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "subject": str(parsed.get("Subject", "")),
                    "headers": {k: str(v) for k, v in parsed.items()},
                    "text": text.get_content() if text else "",
                    "html": rich.get_content() if rich else "",
                    "received_at": time.time(),
                }
            )
        return "250 OK"


class Page(BaseHTTPRequestHandler):
    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with LOCK:
            messages = list(MESSAGES)
            duplicates = DUPLICATES["count"]
        if self.path.startswith("/messages"):
            body = json.dumps({"messages": messages, "duplicates": duplicates}).encode()
            return self._send(200, body, "application/json")
        rows = "".join(
            f"<article><h2>{html.escape(m['subject'])}</h2>"
            f"<p>Til: {html.escape(', '.join(m['to']))} · Message-ID: "
            f"{html.escape(m['message_id'])}</p><pre>{html.escape(m['text'])}</pre></article>"
            for m in reversed(messages)
        )
        page = (
            '<!DOCTYPE html><html lang="da"><head><meta charset="utf-8">'
            "<title>Demo-post - Mit Overblik</title></head><body><main>"
            "<h1>Demo-post modtaget af den lokale mailserver</h1>"
            f"<p>{len(messages)} e-mails (kun under make run).</p>{rows}</main></body></html>"
        )
        return self._send(200, page.encode(), "text/html; charset=utf-8")

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        DELAY["seconds"] = float(self.rfile.read(length) or 0)
        self._send(204, b"", "text/plain")

    def do_DELETE(self):
        with LOCK:
            MESSAGES.clear()
            SEEN_IDS.clear()
            DUPLICATES["count"] = 0
            DELAY["seconds"] = 0.0
        self._send(204, b"", "text/plain")

    def log_message(self, format, *args):
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=9425)
    parser.add_argument("--http-port", type=int, default=9427)
    args = parser.parse_args()
    controller = Controller(Handler(), hostname=args.host, port=args.smtp_port)
    controller.start()
    server = ThreadingHTTPServer((args.host, args.http_port), Page)
    print(
        f"mail stand-in: SMTP {args.host}:{args.smtp_port}, page http://{args.host}:{args.http_port}/",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
