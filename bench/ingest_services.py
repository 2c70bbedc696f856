"""Ingestion services benchmark: ``records_apply_many`` in-process, against PostgreSQL COPY.

Measures the domain layer alone (no HTTP, no inbox, no Celery) on a database
of its own, so its figures say how much of the end-to-end budget
(``bench/ingest.py``) the services take:

1. validate: ``records_validate_many`` of cases (3 progress periods, a CPR
   party) and one document per case, in chunks as the inbox worker applies them;
2. create: ``records_apply_many`` of the same records into empty tables;
3. replay: the same records again (every one ``unchanged``);
4. update: a newer version of every case (title and status history changed)
   and of every document (title changed);
5. baseline: PostgreSQL ``COPY`` of exactly the rows step 2 wrote (cases,
   progress, documents, links, change history) into empty copies of the tables
   with the same indexes (``LIKE … INCLUDING ALL``);
6. single: ``record_apply`` of new cases one at a time (latency p50/p95).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_svc_bench \\
    .venv/bin/python bench/ingest_services.py --cases 20000 --chunk 500 --singles 300

Figures: docs/performance.md, section "Ingestion services (domain layer)".
"""

import argparse
import io
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

TABLES = [
    "indexes_case",
    "indexes_caseprogress",
    "indexes_document",
    "indexes_casedocument",
    "indexes_change",
]


def setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from indexes.models import SourceSystem
    from kle.models import Facet, FacetCategory, Subject

    # Hand-written KLE test items (KL's data is not used here).
    main, _ = Subject.objects.get_or_create(
        number="15", defaults={"level": "hovedgruppe", "title": "Testgruppe"}
    )
    group, _ = Subject.objects.get_or_create(
        number="15.62", defaults={"level": "gruppe", "title": "Testgruppe", "parent": main}
    )
    Subject.objects.get_or_create(
        number="15.62.10", defaults={"level": "emne", "title": "Testemne", "parent": group}
    )
    category, _ = FacetCategory.objects.get_or_create(code="G", defaults={"title": "Test"})
    Facet.objects.get_or_create(code="G01", defaults={"title": "Test", "category": category})
    run = uuid.uuid4().hex[:8]
    system = SourceSystem.objects.create(
        municipality_id="461", product="SBSYS", name=f"bench-{run}"
    )
    return system, run


def truncate():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE indexes_change, indexes_casedocument, indexes_caseprogress, "
            "indexes_caserelation, indexes_document, indexes_case CASCADE"
        )


def case_record(run: str, n: int, *, version: int = 1) -> dict:
    day = 1 + n % 28
    progress = [
        {
            "status": "Opstaaet",
            "from": "2024-04-01T09:00:00+02:00",
            "to": "2024-04-10T09:00:00+02:00",
        },
        {
            "status": "Oplyst",
            "from": "2024-04-10T09:00:00+02:00",
            "to": "2024-04-20T09:00:00+02:00",
        },
        {"status": "Afgjort", "from": "2024-04-20T09:00:00+02:00"},
    ]
    if version > 1:
        progress[-1]["to"] = "2024-05-02T09:00:00+02:00"
        progress.append({"status": "Afsluttet", "from": "2024-05-02T09:00:00+02:00"})
    return {
        "external_id": f"{run}-c{n}",
        "source_timestamp": f"2024-05-0{version}T10:00:00+02:00",
        "municipality": "461",
        "case_number": f"{run}-{n}",
        "title": "Bevilling af hjælpemiddel" if version == 1 else "Afslag på hjælpemiddel",
        "description": "Ansøgning om rollator",
        "kle_number": "15.62.10",
        "facet": "G01",
        "responsible_unit": "Hjælpemiddelcentret",
        "primary_caseworker": "jens",
        "party": {"cpr": f"{day:02d}0170{n % 10000:04d}"},
        "created_on": "2024-04-01",
        "progress": progress,
    }


def document_record(run: str, n: int, *, version: int = 1) -> dict:
    return {
        "external_id": f"{run}-d{n}",
        "source_timestamp": f"2024-05-0{version}T10:00:00+02:00",
        "municipality": "461",
        "title": "Afgørelse om hjælpemiddel" if version == 1 else "Afgørelse (rettet)",
        "letter_date": "2024-04-20",
        "type": "Brev, udgaaende",
        "status": "Endeligt",
        "kle_number": "15.62.10",
        "cases": [{"case_external_id": f"{run}-c{n}", "role": "Tilakteret"}],
    }


def chunks(run: str, cases: int, chunk: int, *, version: int = 1) -> list[list[tuple]]:
    """Chunks of ``chunk`` records: half cases, half their documents (as the inbox applies)."""
    half = max(1, chunk // 2)
    out = []
    for start in range(0, cases, half):
        numbers = range(start, min(start + half, cases))
        items = [("case", case_record(run, n, version=version)) for n in numbers]
        items += [("document", document_record(run, n, version=version)) for n in numbers]
        out.append(items)
    return out


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(label: str, function, cases: int) -> float:
    """Wall time, this process's CPU and the database backend's CPU; wall on a shared
    machine depends on the load, the two CPU figures much less."""
    db_before = backend_cpu()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    function()
    wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
    db = backend_cpu() - db_before
    print(
        f"{label:<10} {wall:7.2f} s wall {cpu:6.2f} s cpu {db:6.2f} s db-cpu  "
        f"{cases / wall:7.0f} cases/s  {cases / (cpu + db):7.0f} cases per CPU-s"
    )
    return wall


def apply_all(system, batches, expect: str):
    from indexes.services.ingestion import records_apply_many

    def run():
        for items in batches:
            results = records_apply_many(source_system=system, items=items)
            wrong = [r for r in results if getattr(r, "outcome", None) != expect]
            assert not wrong, wrong[:3]

    return run


def validate_all(system, batches):
    from indexes.services.ingestion import records_validate_many

    def run():
        for items in batches:
            results = records_validate_many(source_system=system, items=items)
            assert all(isinstance(r, dict) for r in results)

    return run


def copy_baseline(cases: int) -> float:
    """COPY the rows the create step wrote into empty look-alike tables; seconds."""
    from django.db import connection

    raw = connection.connection
    buffers = {}
    with raw.cursor() as cursor:
        for table in TABLES:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY {table} TO STDOUT") as copy:
                for data in copy:
                    buffer.write(data)
            buffers[table] = buffer.getvalue()
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
    raw.commit()
    started = time.perf_counter()
    with raw.cursor() as cursor:
        for table in TABLES:
            with cursor.copy(f"COPY bench_{table} FROM STDIN") as copy:
                copy.write(buffers[table])
    raw.commit()
    wall = time.perf_counter() - started
    rows = sum(buffer.count(b"\n") for buffer in buffers.values())
    print(f"{'COPY':<10} {wall:7.2f} s wall  {cases / wall:8.0f} cases/s  ({rows:,} rows)")
    with raw.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DROP TABLE bench_{table}")
    raw.commit()
    return wall


def singles(system, run: str, count: int) -> None:
    from indexes.services.ingestion import record_apply

    latencies = []
    for n in range(count):
        record = case_record(f"{run}s", n)
        started = time.perf_counter()
        outcome = record_apply(source_system=system, kind="case", payload=record)
        latencies.append((time.perf_counter() - started) * 1000)
        assert outcome.outcome == "created"
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(
        f"{'single':<10} p50 {statistics.median(latencies):6.1f} ms  p95 {p95:6.1f} ms  ({count} new cases)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument(
        "--chunk", type=int, default=500, help="records per records_apply_many call"
    )
    parser.add_argument("--singles", type=int, default=300)
    parser.add_argument("--profile", help="write a cProfile of the create step to this file")
    flags_add(parser, database="overblik_svc_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)
    database_ensure()
    system, run = setup()
    truncate()
    print(f"{args.cases:,} cases + {args.cases:,} documents, chunks of {args.chunk} records")
    first = chunks(run, args.cases, args.chunk)
    timed("validate", validate_all(system, first), args.cases)
    if args.profile:
        import cProfile

        cProfile.runctx("apply_all(system, first, 'created')()", globals(), locals(), args.profile)
        print(f"profile of the create step written to {args.profile}")
        return
    create = timed("create", apply_all(system, first, "created"), args.cases)
    copy = copy_baseline(args.cases)
    print(f"{'':<10} create is {create / copy:.1f}x COPY")
    timed("replay", apply_all(system, first, "unchanged"), args.cases)
    timed(
        "update",
        apply_all(system, chunks(run, args.cases, args.chunk, version=2), "updated"),
        args.cases,
    )
    singles(system, run, args.singles)
    truncate()


if __name__ == "__main__":
    main()
