"""Events back (issue 18): the outbox, signed CloudEvents webhooks to a real local HTTP
receiver, at least once, in order per record, dead letters and replay, the cursor API."""

import datetime as dt
import json
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from indexes.models import (
    EventType,
    InboxRecord,
    OutboxEvent,
    SourceSystem,
    WebhookDelivery,
    WebhookSubscription,
)
from indexes.services import webhooks
from indexes.services.inbox import inbox_batch_process, inbox_batch_receive
from indexes.services.ingestion import record_apply, record_retract
from tests.indexes import api_support as api

pytestmark = [pytest.mark.django_db]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    """A real HTTP server in a thread: verifies each signature, answers 2xx (an
    acknowledgement) or, at ``fail_rate``, 500; can be stopped and started on its port."""

    def __init__(self, secret: str, port: int, fail_rate: float = 0.0, seed: int = 1):
        self.secret = secret
        self.port = port
        self.fail_rate = fail_rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.received: list[dict] = []  # every request, answered or not
        self.acked: dict[str, float] = {}  # webhook-id → when acknowledged
        self.after_ack: list[str] = []  # ids received again after their acknowledgement
        self.bad_signatures = 0
        self.server = None

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                except Exception:
                    receiver.bad_signatures += 1
                    self._answer(400)
                    return
                event = json.loads(body)
                msg_id = self.headers["webhook-id"]
                with receiver.lock:
                    if msg_id in receiver.acked:
                        receiver.after_ack.append(msg_id)
                    ok = receiver.rng.random() >= receiver.fail_rate
                    receiver.received.append(event)
                    if ok:
                        receiver.acked[msg_id] = time.monotonic()
                        receiver.acked_events.append(event)
                self._answer(204 if ok else 500)

            def _answer(self, status):
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.acked_events = getattr(self, "acked_events", [])
        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"


@pytest.fixture
def fast_backoff(settings):
    settings.INDEXES_WEBHOOK_BACKOFF_BASE = 0.02
    settings.INDEXES_WEBHOOK_BACKOFF_CAP = 0.2
    settings.INDEXES_WEBHOOK_MAX_ATTEMPTS = 1000
    settings.INDEXES_WEBHOOK_TIMEOUT = 2.0
    settings.INDEXES_EVENTS_CURSOR_SETTLE = 0
    return settings


@pytest.fixture
def system():
    api.kle_minimal()
    return SourceSystem.objects.create(
        municipality=api.municipality_ensure("461"), product="SBSYS", name="SBSYS"
    )


def subscribe(system, url, types=None) -> WebhookSubscription:
    return WebhookSubscription.objects.create(
        source_system=system,
        url=url,
        event_types=types
        if types is not None
        else [EventType.RECORD_APPLIED, EventType.RECORD_REJECTED, EventType.BATCH_COMPLETED],
    )


def three_versions(system, ids):
    """Each record created, updated and retracted: versions 1, 2, 3."""
    for n, external_id in enumerate(ids):
        record = api.case_record(external_id, minutes=n)
        record_apply(source_system=system, kind="case", payload=record)
        newer = dict(record, title=f"Afgørelse om hjælp {n}", source_timestamp=api.timestamp(100))
        record_apply(source_system=system, kind="case", payload=newer)
        record_retract(
            source_system=system,
            kind="case",
            external_id=external_id,
            source_timestamp=api.timestamp(200),
        )


def dispatch_until_done(subscription, *, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        webhooks.webhooks_dispatch(subscription_id=subscription.pk, max_seconds=2)
        if not WebhookDelivery.objects.filter(
            subscription=subscription, status=WebhookDelivery.Status.PENDING
        ).exists():
            return
        time.sleep(0.02)
    pytest.fail("deliveries still pending")


def test_signature_matches_the_standard_webhooks_specification_example():
    # The example of the Standard Webhooks specification (spec/standard-webhooks.md).
    signature = webhooks.webhook_sign(
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        msg_id="msg_p5jXN8AQM9LWM0D4loKWxJek",
        timestamp=dt.datetime.fromtimestamp(1614265330, tz=dt.UTC),
        body='{"test": 2432232314}',
    )
    assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_events_are_written_with_their_change_and_roll_back_with_it(system):
    subscribe(system, "http://127.0.0.1:9/")
    with pytest.raises(RuntimeError), transaction.atomic():
        record_apply(source_system=system, kind="case", payload=api.case_record("gone"))
        assert OutboxEvent.objects.filter(subject="case/gone").count() == 1
        raise RuntimeError
    assert not OutboxEvent.objects.filter(subject="case/gone").exists()
    assert not WebhookDelivery.objects.exists()


def test_record_applied_only_when_a_subscription_asks_for_it(system):
    subscribe(system, "http://127.0.0.1:9/", types=[EventType.BATCH_COMPLETED])
    record_apply(source_system=system, kind="case", payload=api.case_record("a"))
    assert not OutboxEvent.objects.filter(type=EventType.RECORD_APPLIED).exists()
    subscribe(system, "http://127.0.0.1:9/")
    record_apply(source_system=system, kind="case", payload=api.case_record("b"))
    assert OutboxEvent.objects.filter(type=EventType.RECORD_APPLIED).count() == 1


def test_the_body_is_a_cloudevent_and_carries_no_record_content(system):
    subscribe(system, "http://127.0.0.1:9/")
    record_apply(source_system=system, kind="case", payload=api.case_record("c-1"))
    event = OutboxEvent.objects.get()
    body = webhooks.cloudevent(event)
    assert body["specversion"] == "1.0" and body["type"] == "dk.overblik.record.applied"
    assert body["id"] == str(event.event_id) and body["subject"] == "case/c-1"
    assert body["source"] == f"/overblik/source-systems/{system.pk}"
    assert body["data"]["outcome"] == "created" and body["data"]["version"] == 1
    assert api.CPR not in json.dumps(body)


def test_receiver_down_then_up_every_event_arrives_in_order_none_after_its_ack(
    system, fast_backoff
):
    receiver = Receiver("", free_port())
    subscription = subscribe(system, receiver.url)
    receiver.secret = subscription.secret
    ids = [f"rec-{n}" for n in range(12)]
    three_versions(system, ids)
    # A bulk batch with a rejected record: record.rejected, then batch.completed.
    batch, _ = inbox_batch_receive(
        source_system=system,
        items=[
            {"kind": "case", "record": api.case_record("bulk-1")},
            {"kind": "document", "record": api.document_record("no-such-case", "doc-x")},
        ],
    )
    inbox_batch_process(batch_id=batch.pk)
    assert InboxRecord.objects.filter(outcome="rejected").count() == 1
    expected = set(
        WebhookDelivery.objects.filter(subscription=subscription).values_list(
            "event__event_id", flat=True
        )
    )
    assert len(expected) == 12 * 3 + 1 + 1 + 1

    # Down: nothing arrives, every delivery is tried and waits for its next try.
    for _ in range(3):
        webhooks.webhooks_dispatch(subscription_id=subscription.pk, max_seconds=0.3)
        time.sleep(0.05)
    assert WebhookDelivery.objects.filter(status="delivered").count() == 0
    assert WebhookDelivery.objects.filter(attempts__gte=1).exists()
    assert not WebhookDelivery.objects.filter(status="dead").exists()

    # Up again, failing a third of the requests: everything arrives.
    receiver.fail_rate = 0.33
    receiver.start()
    try:
        dispatch_until_done(subscription)
    finally:
        receiver.stop()
    assert receiver.bad_signatures == 0
    assert {str(i) for i in expected} == set(receiver.acked)
    assert receiver.after_ack == []  # none twice after its acknowledgement
    assert WebhookDelivery.objects.filter(status="delivered").count() == len(expected)
    # In order per record: each record's versions are acknowledged (and first sent) 1, 2, 3.
    for external_id in ids:
        acked = [
            e["data"]["version"]
            for e in receiver.acked_events
            if e["subject"] == f"case/{external_id}"
        ]
        assert acked == [1, 2, 3], (external_id, acked)
        sent = [
            e["data"]["version"] for e in receiver.received if e["subject"] == f"case/{external_id}"
        ]
        assert sent == sorted(sent)
    types = [e["type"] for e in receiver.acked_events]
    assert "dk.overblik.record.rejected" in types and "dk.overblik.batch.completed" in types


def test_a_delivery_that_keeps_failing_is_dead_and_replayed_in_order(system, fast_backoff):
    fast_backoff.INDEXES_WEBHOOK_MAX_ATTEMPTS = 2
    receiver = Receiver("", free_port())
    subscription = subscribe(system, receiver.url)
    receiver.secret = subscription.secret
    record_apply(source_system=system, kind="case", payload=api.case_record("d-1"))
    for _ in range(20):
        webhooks.webhooks_dispatch(subscription_id=subscription.pk, max_seconds=0.2)
        if WebhookDelivery.objects.filter(status="dead").exists():
            break
        time.sleep(0.05)
    dead = WebhookDelivery.objects.get()
    assert dead.status == "dead" and dead.attempts == 2 and dead.last_error
    # A later event of the same record while the first is dead, then the replay.
    newer = api.case_record("d-1", title="Afgørelse om noget andet", minutes=5)
    record_apply(source_system=system, kind="case", payload=newer)
    later = WebhookDelivery.objects.exclude(pk=dead.pk).get()
    assert webhooks.webhook_deliveries_replay(delivery_ids=[dead.pk, later.pk]) == 1
    receiver.start()
    try:
        dispatch_until_done(subscription)
    finally:
        receiver.stop()
    assert [e["data"]["version"] for e in receiver.acked_events] == [1, 2]


def test_backoff_grows_exponentially_with_jitter_and_a_cap(settings):
    settings.INDEXES_WEBHOOK_BACKOFF_BASE = 5
    settings.INDEXES_WEBHOOK_BACKOFF_CAP = 3600
    rng = random.Random(7)
    waits = [webhooks.backoff_seconds(attempts=n, rng=rng) for n in range(1, 15)]
    for n, wait in enumerate(waits, start=1):
        ceiling = min(3600, 5 * 2 ** (n - 1))
        assert ceiling / 2 <= wait <= ceiling
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered


def test_cursor_api_returns_missed_events_of_the_caller_only(system, fast_backoff):
    other = SourceSystem.objects.create(
        municipality=api.municipality_ensure("101"), product="SBSYS", name="SBSYS Kbh"
    )
    subscribe(system, "http://127.0.0.1:9/")
    subscribe(other, "http://127.0.0.1:9/")
    for n in range(3):
        record_apply(source_system=system, kind="case", payload=api.case_record(f"e-{n}"))
    record_apply(
        source_system=other,
        kind="case",
        payload=api.case_record("theirs", municipality="101"),
    )
    client = api.client_for(system)
    page = client.get("/api/v1/events", {"after": 0, "limit": 2}).json()
    assert [e["subject"] for e in page["events"]] == ["case/e-0", "case/e-1"]
    rest = client.get("/api/v1/events", {"after": page["next_after"]}).json()
    assert [e["subject"] for e in rest["events"]] == ["case/e-2"]
    assert client.get("/api/v1/events", {"after": rest["next_after"]}).json()["events"] == []
    bad = client.get("/api/v1/events", {"after": "-1"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "invalid_after"
    assert client.get("/api/v1/events", {"type": "nope"}).status_code == 400


def test_sheet_changes_reach_every_system_of_the_municipality(system):
    from borgerblikket.services.sheets import sheet_row_save
    from tests.borgerblikket import factories as f

    subscription = subscribe(system, "http://127.0.0.1:9/", types=[])
    elsewhere = SourceSystem.objects.create(
        municipality=api.municipality_ensure("101"), product="SBSYS", name="Kbh"
    )
    subscribe(elsewhere, "http://127.0.0.1:9/", types=[])
    sheet_row_save(
        municipality=system.municipality,
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        values={"show_from": dt.date(2024, 1, 1)},
        user=None,
    )
    deliveries = WebhookDelivery.objects.filter(event__type=EventType.SHEET_CHANGED)
    assert [d.subscription_id for d in deliveries] == [subscription.pk]
