"""Queues: does one source system's backlog delay another's deliveries? (docs/scaling.md)

Private services (tests/faults/services.py: PostgreSQL, Redis, gunicorn, a Celery worker),
run twice in one go on fresh databases from one migrated template:

  one queue   INDEXES_QUEUES_SPLIT=false: every batch on `celery`, first in first out
  split       the default: small deliveries on `ingest.single`, big ones on their source
              system's `ingest.bulk.<n>` shard

Each run: vendor A's backlog (--backlog records in batches of 1,000) is posted while no
worker runs; then one worker (--concurrency) starts and vendor B, every --every seconds,
PUTs one case (synchronous: answered when it is in the index) and posts a one-record
delivery (asynchronous: timed from the 202 until GET /api/v1/batches/{id} says done).
Printed per run: B's PUT latency, B's delivery latency (202 → applied), and how long A's
backlog took to drain.

    .venv/bin/python bench/queues.py                      # 50,000 records, as documented
    .venv/bin/python bench/queues.py --backlog 10000 --probes 10

Figures: docs/performance.md, "Queues".
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.services import HOST, Stack, services_missing, wait_for  # noqa: E402
from tests.faults.workload import case_record as case  # noqa: E402

TEMPLATE = "queues_template"


class Api:
    def __init__(self, port: int, key: str):
        self.port, self.key = port, key
        self.connection = http.client.HTTPConnection(HOST, port, timeout=120)

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        if method != "GET":
            headers["Idempotency-Key"] = str(uuid.uuid4())
        payload = json.dumps(body) if body is not None else None
        self.connection.request(method, f"/api/v1/{path}", body=payload, headers=headers)
        response = self.connection.getresponse()
        data = response.read()
        return response.status, (json.loads(data) if data else {})


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def one_run(stack: Stack, label: str, split: bool, args) -> dict:
    database = f"queues_{label.replace(' ', '_')}"
    stack.postgres.sql(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE}"')
    stack.database = database
    os.environ["INDEXES_QUEUES_SPLIT"] = "true" if split else "false"
    a = probe(stack, "setup", "vendor-a")
    b = probe(stack, "setup", "vendor-b")
    stack.gunicorn(workers=2)
    vendor_a, vendor_b = Api(stack.web_port, a["key"]), Api(stack.web_port, b["key"])
    started = time.monotonic()
    run = uuid.uuid4().hex[:6]
    batches = 0
    for first in range(0, args.backlog, 1000):
        records = [
            {"kind": "case", "record": case(f"a{run}", n)}
            for n in range(first, min(first + 1000, args.backlog))
        ]
        status, _ = vendor_a.call("POST", "batches", {"records": records})
        assert status == 202, status
        batches += 1
    posted = time.monotonic() - started
    worker = stack.worker("w", concurrency=args.concurrency)
    t0 = time.monotonic()
    put_ms, delivery_s = [], []
    pending = []
    for n in range(args.probes):
        began = time.monotonic()
        record = case(f"b{run}", n)
        status, _ = vendor_b.call("PUT", f"cases/{record['external_id']}", record)
        assert status in (200, 201), status
        put_ms.append((time.monotonic() - began) * 1000)
        status, body = vendor_b.call(
            "POST", "batches", {"records": [{"kind": "case", "record": case(f"s{run}", n)}]}
        )
        assert status == 202, status
        pending.append((time.monotonic(), body["id"]))
        time.sleep(args.every)

    def done(batch_id: str) -> bool:
        return vendor_b.call("GET", f"batches/{batch_id}")[1].get("status") == "done"

    for sent, batch_id in pending:
        wait_for(lambda b=batch_id: done(b), timeout=900, interval=0.1, what="B's delivery")
        delivery_s.append(time.monotonic() - sent)  # an upper bound: polled in order

    def backlog_drained() -> bool:
        count = stack.postgres.sql(
            "SELECT count(*) FROM indexes_inboxbatch WHERE status <> 'done'", database=database
        )
        return int(count) == 0

    wait_for(backlog_drained, timeout=1800, interval=0.5, what="A's backlog")
    drained = time.monotonic() - t0
    worker.stop()
    stack.kill_all()
    return {
        "label": label,
        "batches": batches,
        "posted_s": posted,
        "put_ms": put_ms,
        "delivery_s": delivery_s,
        "drained_s": drained,
    }


def probe(stack: Stack, *args: str) -> dict:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "tests.faults.probe", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=50_000, help="vendor A's records")
    parser.add_argument("--probes", type=int, default=20, help="vendor B's PUTs and deliveries")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between B's probes")
    parser.add_argument("--concurrency", type=int, default=2, help="the worker's processes")
    args = parser.parse_args()
    missing = services_missing()
    if missing:
        print(f"cannot run: {missing}")
        return 2
    stack = Stack(database=TEMPLATE, sweep_every=None, sweep_after=None)
    results = []
    try:
        stack.start_services()
        stack.migrate()
        probe(stack, "kle")
        for label, split in (("one queue", False), ("split", True)):
            results.append(one_run(stack, label, split, args))
    finally:
        stack.close()
        stack.remove()
    print(
        f"\nvendor A: {args.backlog:,} records in {results[0]['batches']} batches; vendor B: "
        f"{args.probes} PUTs and {args.probes} one-record deliveries, one each every "
        f"{args.every} s; one worker, concurrency {args.concurrency}\n"
    )
    header = (
        f"{'queues':<10} {'B PUT p50':>10} {'B PUT p95':>10} {'B delivery p50':>15} "
        f"{'B delivery p95':>15} {'B delivery max':>15} {'A drained':>10}"
    )
    print(header)
    for r in results:
        print(
            f"{r['label']:<10} {statistics.median(r['put_ms']):>8.0f}ms "
            f"{percentile(r['put_ms'], 95):>8.0f}ms "
            f"{statistics.median(r['delivery_s']):>14.2f}s "
            f"{percentile(r['delivery_s'], 95):>14.2f}s {max(r['delivery_s']):>14.2f}s "
            f"{r['drained_s']:>9.1f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
