"""National-scale benchmark: the growth curve of the index from 100,000 to 10,000,000 cases.

On a database of its own (created and migrated when missing), for each step
(default 100,000, 300,000, 1,000,000, 3,000,000 and 10,000,000 cases; the
index grows from one step to the next, new citizens each time) it:

1. grows the index with ``manage.py simulate``'s generator (bench/portal.py's
   ``population_grow``: cases with progress, documents and links, grants,
   benefits, payment plans and payments, written with COPY; the tables'
   secondary indexes and foreign keys are dropped and rebuilt over the whole
   table, as the generator does): cases/s and rows/s;
2. the ceiling, in the same run: a bare PostgreSQL ``COPY`` of exactly the
   rows step 1 wrote (read back with ``COPY … TO STDOUT`` into a file first)
   into empty copies of the same tables with the same indexes (``LIKE …
   INCLUDING ALL``), one table at a time (so the disk holds one copy at most);
3. table and index sizes (``pg_relation_size``, ``pg_indexes_size``);
4. the portal at that size (bench/portal.py's ``measure``): overview and case
   page p50/p95 over real gunicorn, the same pages' SQL with psycopg, an empty
   Django view, and EXPLAIN (ANALYZE, BUFFERS) of each page query.

Usage (every loop is bounded; ``--max`` stops earlier; the database keeps its
data, so a re-run continues from the size it holds):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_scale \\
    .venv/bin/python bench/scale.py --out var/scale.jsonl

Disk: about 3 GB per 1,000,000 cases with their rows and indexes (measured
here), so 10,000,000 cases need about 30 GB plus the largest table twice for
step 2. Figures and how to read them: docs/performance.md, section
"Portal and national scale".
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import portal  # noqa: E402 - after sys.path and the environment

TABLES = (
    "indexes_case",
    "indexes_caseprogress",
    "indexes_document",
    "indexes_casedocument",
    "indexes_grant",
    "indexes_grantedbenefit",
    "indexes_paymentplan",
    "indexes_payment",
)
STEPS = "100000,300000,1000000,3000000,10000000"


def last_ids() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        result = {}
        for table in TABLES:
            cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            result[table] = cursor.fetchone()[0]
        return result


def copy_ceiling(after: dict[str, int], scratch: Path) -> dict:
    """Bare COPY of the rows with ids above ``after`` into empty copies with the same indexes."""
    from django.db import connection

    seconds, rows, per_table = 0.0, 0, {}
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        for table in TABLES:
            with tempfile.TemporaryFile(dir=scratch) as data:
                with cursor.copy(
                    f"COPY (SELECT * FROM {table} WHERE id > {int(after[table])}) TO STDOUT"
                ) as out:
                    for block in out:
                        data.write(block)
                size = data.tell()
                data.seek(0)
                cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
                cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
                begin = time.perf_counter()
                with cursor.copy(f"COPY bench_{table} FROM STDIN") as into:
                    while block := data.read(1 << 20):
                        into.write(block)
                elapsed = time.perf_counter() - begin
                cursor.execute(f"SELECT count(*) FROM bench_{table}")
                count = cursor.fetchone()[0]
                cursor.execute(f"DROP TABLE bench_{table}")
            seconds += elapsed
            rows += count
            per_table[table] = {"rows": count, "seconds": elapsed, "bytes": size}
    return {"seconds": seconds, "rows": rows, "tables": per_table}


def step_print(step: dict) -> None:
    print(f"\n=== {step['cases']:,} cases (load average {step['load_average']['start']} → "
          f"{step['load_average']['end']}) ===")  # fmt: skip
    grown, ceiling = step.get("grown"), step.get("copy")
    if grown:
        print(f"generated: {grown['summary']}")
        print(
            f"  generate + COPY {grown['generate_copy_seconds']:.1f} s, indexes + constraints "
            f"(whole tables) + ANALYZE {grown['rebuild_seconds']:.1f} s"
        )
    if ceiling:
        cases = grown["cases"] if grown else ceiling["tables"]["indexes_case"]["rows"]
        print(
            f"bare COPY of the same {ceiling['rows']:,} rows into empty indexed copies: "
            f"{ceiling['seconds']:.1f} s — {cases / ceiling['seconds']:,.0f} cases/s, "
            f"{ceiling['rows'] / ceiling['seconds']:,.0f} rows/s"
        )
    total_table = sum(s["table"] for s in step["sizes"].values())
    total_index = sum(s["indexes"] for s in step["sizes"].values())
    print(f"sizes: tables {total_table / 2**30:.2f} GiB, indexes {total_index / 2**30:.2f} GiB")
    for name, s in step["sizes"].items():
        print(
            f"  {name:24}{s['rows']:>13,} rows  table {s['table'] / 2**20:9,.0f} MiB  "
            f"indexes {s['indexes'] / 2**20:8,.0f} MiB"
        )
    portal.report_print(step["portal"])


def summary_print(steps: list[dict]) -> None:
    print("\n=== growth curve ===")
    print(
        f"{'cases':>12}{'gen c/s':>9}{'COPY c/s':>10}{'ov p50':>8}{'ov p95':>8}{'sql p95':>8}"
        f"{'case p50':>9}{'case p95':>9}{'sql p95':>8}{'empty p95':>10}{'tables GiB':>11}"
        f"{'idx GiB':>8}"
    )
    for step in steps:
        t = step["portal"]["times"]
        grown, ceiling = step.get("grown"), step.get("copy")
        gen = f"{grown['cases'] / grown['seconds']:,.0f}" if grown else "-"
        cop = f"{grown['cases'] / ceiling['seconds']:,.0f}" if grown and ceiling else "-"
        tables = sum(s["table"] for s in step["sizes"].values()) / 2**30
        indexes = sum(s["indexes"] for s in step["sizes"].values()) / 2**30
        print(
            f"{step['cases']:>12,}{gen:>9}{cop:>10}{t['overview']['p50']:8.1f}"
            f"{t['overview']['p95']:8.1f}{t['overview_sql']['p95']:8.1f}{t['case']['p50']:9.1f}"
            f"{t['case']['p95']:9.1f}{t['case_sql']['p95']:8.1f}{t['empty']['p95']:10.1f}"
            f"{tables:11.2f}{indexes:8.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default=STEPS, help="comma-separated case counts")
    parser.add_argument("--max", type=int, default=None, help="stop after this many cases")
    parser.add_argument("--municipalities", type=int, default=98)
    parser.add_argument("--samples", type=int, default=200, help="citizens per step")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-copy", action="store_true", help="skip the COPY ceiling")
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "scale.jsonl")
    portal.flags_add(parser, database="overblik_scale")
    args = parser.parse_args()
    portal.PORT = portal.flags_apply(args)

    steps = [int(s) for s in args.steps.split(",")]
    if args.max:
        steps = [s for s in steps if s <= args.max]
    portal.database_ensure()
    portal.django_setup()
    portal.sheets_ensure()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    scratch = args.out.parent
    results = []
    for target in steps:
        load_start = portal.load_average()
        before = last_ids()
        grown = portal.population_grow(
            cases=target, municipalities=args.municipalities, seed=args.seed
        )
        ceiling = copy_ceiling(before, scratch) if grown and not args.no_copy else None
        step = {
            "target": target,
            "cases": portal.cases_count(),
            "grown": grown,
            "copy": ceiling,
            "sizes": portal.sizes(),
        }
        step["portal"] = portal.measure(samples=args.samples, seed=args.seed + target)
        step["load_average"] = {"start": load_start, "end": portal.load_average()}
        with args.out.open("a") as out:
            out.write(json.dumps(step) + "\n")
        step_print(step)
        results.append(step)
        sys.stdout.flush()
    print(f"\nmachine: {os.cpu_count()} cores shared with other processes; figures in {args.out}")
    summary_print(results)


if __name__ == "__main__":
    main()
