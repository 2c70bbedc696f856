"""Webhook dispatch benchmark: outbox deliveries → signed CloudEvents → a local receiver.

Writes ``--events`` outbox events (``record.applied`` of ``--records`` records, so each
record has events/records events that must arrive in order) with one subscription's
deliveries, in one transaction as ingestion would, then runs
``indexes.services.webhooks.webhooks_dispatch`` — what the Celery task calls — until
every delivery is acknowledged. The receiver is a real HTTP server in a process of its
own (``ThreadingHTTPServer`` on loopback) that verifies every Standard Webhooks
signature and checks the order per record; it answers 204.

Reported: events/s of the dispatch (clock from the first send until the last delivery
is marked delivered), and the receiver's counts (received, signature failures, events
out of order per record). The floor of issue 18: 1,000 events/s.

Usage (the database is created when missing):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_webhooks_bench \\
    .venv/bin/python bench/webhooks.py --events 20000 --records 5000

Figures: docs/performance.md, section "Webhook dispatch".
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply, load_average  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.pop("CELERY_BROKER_URL", None)  # dispatch runs in this process; nothing queued

RECEIVER = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from standardwebhooks.webhooks import Webhook
secret, port = sys.argv[1], int(sys.argv[2])
hook = Webhook(secret)
lock = threading.Lock()
state = {"received": 0, "bad": 0, "out_of_order": 0, "versions": {}}
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            hook.verify(body, dict(self.headers.items()))
        except Exception:
            with lock:
                state["bad"] += 1
            self._answer(400)
            return
        event = json.loads(body)
        with lock:
            state["received"] += 1
            last = state["versions"].get(event["subject"], 0)
            if event["data"]["version"] <= last:
                state["out_of_order"] += 1
            state["versions"][event["subject"]] = event["data"]["version"]
        self._answer(204)
    def do_GET(self):
        with lock:
            body = json.dumps({k: v for k, v in state.items() if k != "versions"}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def _answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 256
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
"""


def receiver_counts(port: int) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/")
    return json.loads(connection.getresponse().read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    flags_add(parser, database="overblik_webhooks_bench")
    args = parser.parse_args()
    port = flags_apply(args)

    load_before = load_average()
    database_ensure()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0)
    settings.INDEXES_WEBHOOK_CONCURRENCY = args.concurrency
    from indexes.models import (
        EventType,
        Municipality,
        OutboxEvent,
        SourceSystem,
        WebhookDelivery,
        WebhookSubscription,
    )
    from indexes.services import events as events_service
    from indexes.services.events import EventSpec, events_emit, record_ordering_key
    from indexes.services.webhooks import webhooks_dispatch

    WebhookDelivery.objects.all().delete()
    OutboxEvent.objects.all().delete()
    system, _ = SourceSystem.objects.get_or_create(
        municipality=Municipality.objects.get(code="461"),
        name="bench-webhooks",
        defaults={"product": "SBSYS"},
    )
    WebhookSubscription.objects.filter(source_system=system).delete()
    subscription = WebhookSubscription.objects.create(
        source_system=system,
        url=f"http://127.0.0.1:{port}/hooks",
        event_types=[EventType.RECORD_APPLIED],
    )
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, subscription.secret, str(port)])
    try:
        for _ in range(100):
            try:
                receiver_counts(port)
                break
            except OSError:
                time.sleep(0.05)
        per_record = max(args.events // args.records, 1)
        specs = []
        for version in range(1, per_record + 1):
            for n in range(args.records):
                external_id = f"bench-{n}"
                specs.append(
                    EventSpec(
                        type=EventType.RECORD_APPLIED,
                        subject=f"case/{external_id}",
                        source_system_id=system.pk,
                        ordering_key=record_ordering_key(
                            source_system_id=system.pk, kind="case", external_id=external_id
                        ),
                        data={"kind": "case", "external_id": external_id, "version": version},
                    )
                )
        # Without a broker the commit's enqueue would run the dispatch inside the write's
        # clock (eager tasks): the write is timed alone, the dispatch below.
        events_service._dispatch_enqueue = lambda ids: None
        started = time.perf_counter()
        with transaction.atomic():
            events_emit(events=specs)
        written = time.perf_counter() - started
        total = len(specs)
        started = time.perf_counter()
        while WebhookDelivery.objects.filter(
            subscription=subscription, status=WebhookDelivery.Status.PENDING
        ).exists():
            webhooks_dispatch(subscription_id=subscription.pk, max_seconds=600)
        elapsed = time.perf_counter() - started
        counts = receiver_counts(port)
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
    delivered = WebhookDelivery.objects.filter(
        subscription=subscription, status=WebhookDelivery.Status.DELIVERED
    ).count()
    print(f"load average before: {load_before}; after: {load_average()}")
    print(
        f"outbox: {total} events ({args.records} records x {per_record}) and their deliveries "
        f"written in {written:.2f} s ({total / written:,.0f}/s)"
    )
    print(
        f"dispatch: {delivered} delivered in {elapsed:.2f} s = {delivered / elapsed:,.0f} "
        f"events/s (concurrency {args.concurrency})"
    )
    print(f"receiver: {counts}")


if __name__ == "__main__":
    main()
