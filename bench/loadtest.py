"""Load test: 200 concurrent citizens on the portal, locust headless against gunicorn (loopback).

On the database bench/portal.py filled (``--cases``, default 1,000,000; grown
when smaller), it makes ``--visitors`` citizens with a server-side session each
(as the OIDC callback leaves it), starts gunicorn (loopback only) and runs
locust headless (bench/locustfile.py) with ``--users`` simulated citizens for
``--seconds``, each opening the overview, the case list, one of their cases
and their benefits with ``--wait-min``..``--wait-max`` seconds between pages.
Every process is bounded by ``timeout``. Prints the requests per second, p50,
p95 and p99 per page and overall, and the error rate.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_portal_bench \\
    .venv/bin/python bench/loadtest.py --users 200 --seconds 150

Figures: docs/performance.md, section "Portal and national scale".
"""

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portal  # noqa: E402 - after sys.path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--municipalities", type=int, default=98)
    parser.add_argument("--users", type=int, default=200, help="concurrent citizens")
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--seconds", type=int, default=150)
    parser.add_argument("--visitors", type=int, default=1000, help="distinct citizens")
    parser.add_argument("--wait-min", type=float, default=5.0)
    parser.add_argument("--wait-max", type=float, default=15.0)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--seed", type=int, default=3)
    portal.flags_add(parser, database="overblik_portal_bench")
    args = parser.parse_args()
    portal.PORT = portal.flags_apply(args)

    load_start = portal.load_average()
    portal.database_ensure()
    portal.django_setup()
    portal.population_grow(cases=args.cases, municipalities=args.municipalities, seed=1)
    portal.sheets_ensure()
    from django.conf import settings

    visitors = portal.visitors_make(args.visitors, args.seed)
    var = ROOT / "var"
    var.mkdir(exist_ok=True)
    visitors_file = var / "loadtest-visitors.json"
    visitors_file.write_text(json.dumps([{"session": v["session"], "case": v["case"]}
                                         for v in visitors]))  # fmt: skip
    csv_prefix = var / "loadtest"
    server = portal.Server(workers=args.workers, threads=args.threads, log_name="bench-loadtest")
    try:
        server.wait_ready()
        env = os.environ | {
            "BENCH_VISITORS": str(visitors_file),
            "BENCH_SESSION_COOKIE": settings.SESSION_COOKIE_NAME,
            "BENCH_WAIT_MIN": str(args.wait_min),
            "BENCH_WAIT_MAX": str(args.wait_max),
        }
        subprocess.run(
            ["timeout", str(args.seconds + 90), sys.executable, "-m", "locust",
             "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
             "--run-time", f"{args.seconds}s", "--stop-timeout", "10",
             "--host", f"http://{portal.HOST}:{portal.PORT}", "--csv", str(csv_prefix),
             "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=env, check=False,
        )  # fmt: skip
    finally:
        server.stop()
    visitors_file.unlink(missing_ok=True)  # session keys: not kept after the run

    with open(f"{csv_prefix}_stats.csv") as stats_file:
        rows = list(csv.DictReader(stats_file))
    print(
        f"\nmachine: {os.cpu_count()} cores, load average {load_start} at start, "
        f"{portal.load_average()} at end (1/5/15 min; locust, gunicorn and PostgreSQL share "
        f"the cores with other processes)"
    )
    print(
        f"{args.users} citizens (of {len(visitors)} sessions) for {args.seconds} s, "
        f"{args.wait_min:g}-{args.wait_max:g} s between pages; gunicorn {args.workers} workers x "
        f"{args.threads} threads; index {portal.cases_count():,} cases"
    )
    print(f"{'page':12}{'requests':>9}{'errors':>8}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}"
          f"{'p99 ms':>8}{'max ms':>9}")  # fmt: skip
    for row in rows:
        print(
            f"{row['Name']:12}{int(row['Request Count']):9}{int(row['Failure Count']):8}"
            f"{float(row['Requests/s']):8.1f}{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}"
            f"{float(row['Max Response Time']):9.0f}"
        )
    total = next(row for row in rows if row["Name"] == "Aggregated")
    requests, failures = int(total["Request Count"]), int(total["Failure Count"])
    print(
        f"overall: p95 {total['95%']} ms, error rate {failures / max(requests, 1):.2%} "
        f"({failures} of {requests})"
    )


if __name__ == "__main__":
    main()
