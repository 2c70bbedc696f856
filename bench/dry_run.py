"""Dry-run benchmark: ``PUT ?dry_run=true`` against the real ``PUT`` in the same run.

Runs the same gunicorn server as ``bench/ingest.py`` (loopback, its own database)
and measures client-side latency over one keep-alive connection, the two kinds
interleaved request by request so both see the same machine:

1. new cases: a dry run of a new case (outcome ``created``), then the real PUT
   of another new case (``created``, 201);
2. updates: a dry run of a change to a stored case (``updated``), then the real
   change of another stored case (``updated``);
3. a bulk dry run of 1,000 records (500 cases + 500 documents, synchronous
   outcomes) against the real bulk POST of the same size (validate + inbox, 202).

Goal (issue 18): dry-run p95 within 20 % of the real PUT's p95.

Usage (the database is created when missing; every loop is bounded):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_api_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/dry_run.py --samples 500

Figures: docs/performance.md, section "Dry run".
"""

import argparse
import http.client
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import ingest  # noqa: E402 - after sys.path (sets the environment)
from bench.support import database_ensure, load_average, percentile  # noqa: E402


def _request(connection, key: str, method: str, path: str, body: bytes, expected: int) -> float:
    started = time.perf_counter()
    connection.request(
        method,
        path,
        body=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    response = connection.getresponse()
    answer = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status != expected:
        raise RuntimeError(f"{method} {path} answered {response.status}: {answer[:300]!r}")
    return elapsed


def _put(connection, key, record, *, dry: bool, expected: int) -> float:
    path = f"/api/v1/cases/{record['external_id']}" + ("?dry_run=true" if dry else "")
    return _request(connection, key, "PUT", path, json.dumps(record).encode(), expected)


def _changed(record: dict) -> dict:
    return record | {"source_timestamp": "2024-05-02T10:00:00+02:00", "title": "Afslag"}


def _summary(name: str, timings: list[float]) -> str:
    return (
        f"{name}: p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
        f"max {max(timings):.1f} ms (n={len(timings)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=500, help="requests of each kind")
    parser.add_argument("--batches", type=int, default=10, help="bulk posts of each kind")
    parser.add_argument("--web-workers", type=int, default=2)
    ingest.flags_add(parser, database="overblik_api_bench")
    args = parser.parse_args()
    ingest.PORT = ingest.flags_apply(args)

    load_before = load_average()
    database_ensure()
    (ROOT / "var").mkdir(exist_ok=True)
    ingest.django_setup()
    ingest.tables_truncate()
    _, key, run = ingest.fixtures_create()
    server = ingest.Server(web_workers=args.web_workers, celery_concurrency=1, queue=f"bench-{run}")
    results: dict[str, list[float]] = {
        "dry new": [],
        "real new": [],
        "dry update": [],
        "real update": [],
        "dry bulk": [],
        "real bulk": [],
    }
    try:
        server.wait_ready()
        connection = http.client.HTTPConnection(ingest.HOST, ingest.PORT, timeout=60)
        # Warm up both paths (imports, connections, KLE caches) outside the clock.
        for n in range(20):
            _put(connection, key, ingest.case_record(f"{run}w", n), dry=True, expected=200)
            _put(connection, key, ingest.case_record(f"{run}w", n), dry=False, expected=201)
        for n in range(args.samples):
            results["dry new"].append(
                _put(connection, key, ingest.case_record(f"{run}d", n), dry=True, expected=200)
            )
            results["real new"].append(
                _put(connection, key, ingest.case_record(f"{run}r", n), dry=False, expected=201)
            )
        # The real PUTs above created "{run}r-c{n}": change the even ones for real and
        # rehearse changing the odd ones, so each request meets a stored, unchanged case.
        for n in range(0, args.samples - 1, 2):
            results["dry update"].append(
                _put(
                    connection,
                    key,
                    _changed(ingest.case_record(f"{run}r", n + 1)),
                    dry=True,
                    expected=200,
                )
            )
            results["real update"].append(
                _put(
                    connection,
                    key,
                    _changed(ingest.case_record(f"{run}r", n)),
                    dry=False,
                    expected=200,
                )
            )
        for n in range(args.batches):
            dry_body = ingest.batch_bodies(f"{run}bd{n}", 500)[0]
            real_body = ingest.batch_bodies(f"{run}br{n}", 500)[0]
            results["dry bulk"].append(
                _request(
                    connection, key, "POST", "/api/v1/batches?dry_run=true", dry_body, expected=200
                )
            )
            results["real bulk"].append(
                _request(connection, key, "POST", "/api/v1/batches", real_body, expected=202)
            )
    finally:
        server.stop()

    print(
        f"machine: {os.cpu_count()} cores, load average {load_before} at start, "
        f"{load_average()} at end; gunicorn x{args.web_workers}, one keep-alive client"
    )
    for name, timings in results.items():
        print(_summary(name, timings))
    for what in ("new", "update"):
        dry = percentile(results[f"dry {what}"], 95)
        real = percentile(results[f"real {what}"], 95)
        verdict = "within" if dry <= real * 1.2 else "NOT within"
        print(f"{what}: dry-run p95 / real p95 = {dry / real:.2f} ({verdict} the 20 % goal)")
    print(
        f"bulk of 1,000 records: dry run (synchronous outcomes) p50 "
        f"{percentile(results['dry bulk'], 50):.0f} ms vs real accept (202) p50 "
        f"{percentile(results['real bulk'], 50):.0f} ms"
    )


if __name__ == "__main__":
    main()
