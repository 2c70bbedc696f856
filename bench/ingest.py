"""Ingestion benchmark: HTTP → inbox → Celery worker → index, against PostgreSQL COPY.

Runs a real gunicorn server (loopback only) and real Celery workers on a
database of its own, then measures:

1. end-to-end bulk throughput: cases with a status history (3 progress
   periods) and one document each, posted as batches of 1,000 records
   (500 cases + their 500 documents) by a few client threads; the clock runs
   from the first POST until the last batch is applied;
2. the ceiling: PostgreSQL ``COPY`` of the very rows that run produced
   (cases, progress, documents, case links, change history) into empty copies
   of the same tables with the same indexes, in the same run;
3. single ``PUT`` latency (p50/p95) of new cases, one at a time.

Usage (the database is created when missing; every loop is bounded):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_api_bench \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/ingest.py --cases 20000 --put-samples 500

Figures and how to read them: docs/performance.md, section "Ingestion".
"""

import argparse
import http.client
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, percentile  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/overblik_api_bench")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")
# Persistent database connections, as a deployment should run (a new PostgreSQL
# connection per request costs more than the PUT itself).
os.environ.setdefault("DJANGO_CONN_MAX_AGE", "60")

HOST, PORT = "127.0.0.1", 8013
TABLES = [  # what one case + document delivery writes (COPY ceiling)
    "indexes_case",
    "indexes_caseprogress",
    "indexes_document",
    "indexes_casedocument",
    "indexes_change",
]


def django_setup():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixtures_create():
    """A source system, its key and the few KLE items the records use (hand-written)."""
    import datetime

    from indexes.models import SourceSystem
    from indexes.services.credentials import credential_create
    from kle.models import Facet, FacetCategory, Subject

    main, _ = Subject.objects.get_or_create(
        number="15", defaults={"level": "hovedgruppe", "title": "Social service"}
    )
    group, _ = Subject.objects.get_or_create(
        number="15.62", defaults={"level": "gruppe", "title": "Hjælpemidler", "parent": main}
    )
    Subject.objects.get_or_create(
        number="15.62.10",
        defaults={
            "level": "emne",
            "title": "Hjælpemidler",
            "parent": group,
            "created_on": datetime.date(1990, 1, 1),
        },
    )
    category, _ = FacetCategory.objects.get_or_create(code="G", defaults={"title": "Generelle"})
    Facet.objects.get_or_create(code="G01", defaults={"title": "Generelle", "category": category})
    run = uuid.uuid4().hex[:8]
    system = SourceSystem.objects.create(
        municipality_id="461", product="SBSYS", name=f"bench-{run}"
    )
    _, key = credential_create(source_system=system, label="bench")
    return system, key, run


def tables_truncate():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE indexes_change, indexes_casedocument, indexes_caseprogress, "
            "indexes_caserelation, indexes_document, indexes_case, indexes_inboxrecord, "
            "indexes_inboxbatch, indexes_dataaccess CASCADE"
        )


def case_record(run: str, n: int) -> dict:
    day = 1 + n % 28
    return {
        "external_id": f"{run}-c{n}",
        "source_timestamp": "2024-05-01T10:00:00+02:00",
        "municipality": "461",
        "case_number": f"{run}-{n}",
        "title": "Bevilling af hjælpemiddel",
        "description": "Ansøgning om rollator",
        "kle_number": "15.62.10",
        "facet": "G01",
        "responsible_unit": "Hjælpemiddelcentret",
        "primary_caseworker": "jens",
        "party": {"cpr": f"{day:02d}0170{n % 10000:04d}"},
        "created_on": "2024-04-01",
        "progress": [
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
        ],
    }


def document_record(run: str, n: int) -> dict:
    return {
        "external_id": f"{run}-d{n}",
        "source_timestamp": "2024-05-01T10:00:00+02:00",
        "municipality": "461",
        "title": "Afgørelse om hjælpemiddel",
        "letter_date": "2024-04-20",
        "type": "Brev, udgaaende",
        "status": "Endeligt",
        "kle_number": "15.62.10",
        "cases": [{"case_external_id": f"{run}-c{n}", "role": "Tilakteret"}],
    }


def batch_bodies(run: str, cases: int, per_batch: int = 500) -> list[bytes]:
    bodies = []
    for start in range(0, cases, per_batch):
        numbers = range(start, min(start + per_batch, cases))
        records = [{"kind": "case", "record": case_record(run, n)} for n in numbers]
        records += [{"kind": "document", "record": document_record(run, n)} for n in numbers]
        bodies.append(json.dumps({"records": records}).encode())
    return bodies


class Server:
    """gunicorn on loopback and Celery workers, stopped by ``stop()`` (and at exit)."""

    def __init__(self, *, web_workers: int, celery_concurrency: int, queue: str):
        env = os.environ | {"PYTHONUNBUFFERED": "1"}
        log = open(ROOT / "var" / "bench-ingest.log", "ab")  # noqa: SIM115
        self.processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "config.wsgi",
                    "--bind",
                    f"{HOST}:{PORT}",
                    "--workers",
                    str(web_workers),
                    "--timeout",
                    "60",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            ),
            subprocess.Popen(
                # The default queue on the bench's own Redis database.
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "config",
                    "worker",
                    "--concurrency",
                    str(celery_concurrency),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "-n",
                    f"{queue}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            ),
        ]

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection(HOST, PORT, timeout=2)
                connection.request("GET", "/healthz/live")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer; see var/bench-ingest.log")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def post_batches(bodies: list[bytes], key: str, clients: int) -> list[str]:
    ids: list[str] = []
    errors: list[str] = []
    queue = iter(bodies)
    lock = threading.Lock()

    def run():
        connection = http.client.HTTPConnection(HOST, PORT, timeout=120)
        while True:
            with lock:
                body = next(queue, None)
            if body is None:
                return
            connection.request(
                "POST",
                "/api/v1/batches",
                body=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
            )
            response = connection.getresponse()
            payload = json.loads(response.read())
            with lock:
                if response.status != 202 or payload["rejected"]:
                    errors.append(f"{response.status} {str(payload)[:300]}")
                else:
                    ids.append(payload["id"])

    threads = [threading.Thread(target=run) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} batches failed, e.g. {errors[0]}")
    return ids


def batches_wait(ids: list[str], timeout: float) -> None:
    from indexes.models import InboxBatch

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if InboxBatch.objects.filter(pk__in=ids, status="done").count() == len(ids):
            return
        time.sleep(0.05)
    raise RuntimeError("batches not applied in time; is the worker running?")


def copy_ceiling() -> tuple[float, dict[str, int]]:
    """COPY the rows the run wrote into empty same-shaped tables; return seconds and counts."""
    from django.db import connection

    dumps, counts = {}, {}
    with connection.cursor() as cursor:
        raw = cursor.connection
        for table in TABLES:
            buffer = io.BytesIO()
            with raw.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                for chunk in copy:
                    buffer.write(chunk)
            dumps[table] = buffer.getvalue()
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            # Same columns, defaults, checks and indexes (incl. unique ones); no FKs.
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
        started = time.perf_counter()
        with raw.transaction():
            for table in TABLES:
                with raw.cursor().copy(f"COPY bench_{table} FROM STDIN") as copy:
                    copy.write(dumps[table])
        seconds = time.perf_counter() - started
        for table in TABLES:
            cursor.execute(f"DROP TABLE bench_{table}")
    return seconds, counts


def put_latencies(key: str, run: str, samples: int) -> list[float]:
    connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
    timings = []
    for n in range(samples):
        record = case_record(f"{run}p", n)
        body = json.dumps(record).encode()
        started = time.perf_counter()
        connection.request(
            "PUT",
            f"/api/v1/cases/{record['external_id']}",
            body=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        timings.append((time.perf_counter() - started) * 1000)
        if response.status != 201:
            raise RuntimeError(f"PUT answered {response.status}")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=20000)
    parser.add_argument("--clients", type=int, default=3, help="concurrent posting threads")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--celery-concurrency", type=int, default=2)
    parser.add_argument("--put-samples", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the rows (default: truncate)")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    database_ensure()
    (ROOT / "var").mkdir(exist_ok=True)
    django_setup()
    if not args.keep:
        tables_truncate()
    _, key, run = fixtures_create()
    bodies = batch_bodies(run, args.cases)
    queue = f"bench-{run}"
    server = Server(
        web_workers=args.web_workers, celery_concurrency=args.celery_concurrency, queue=queue
    )
    try:
        server.wait_ready()
        # Warm up both sides (imports, connections, KLE caches) outside the clock.
        warm = batch_bodies(f"{run}w", 10)
        batches_wait(post_batches(warm, key, 1), timeout=60)

        started = time.perf_counter()
        ids = post_batches(bodies, key, args.clients)
        posted = time.perf_counter() - started
        batches_wait(ids, timeout=max(120.0, args.cases / 100))
        total = time.perf_counter() - started

        timings = put_latencies(key, run, args.put_samples)
    finally:
        server.stop()

    copy_seconds, counts = copy_ceiling()
    rows = sum(counts.values())
    records = args.cases * 2
    print(
        f"machine: {os.cpu_count()} cores, load average {load_before:.1f} at start, "
        f"{os.getloadavg()[0]:.1f} at end (other processes share the cores); "
        f"gunicorn x{args.web_workers}, "
        f"celery concurrency {args.celery_concurrency}, {args.clients} posting clients"
    )
    print(
        f"delivered: {args.cases} cases (3 progress periods each) + {args.cases} documents "
        f"= {records} records in {len(bodies)} batches of 1,000"
    )
    print(
        f"HTTP accept (validate + inbox, 202): {posted:.2f} s = {records / posted:,.0f} records/s"
    )
    print(
        f"end to end (HTTP -> inbox -> worker -> index): {total:.2f} s = "
        f"{args.cases / total:,.0f} cases/s = {records / total:,.0f} records/s"
    )
    print(
        f"COPY ceiling, same {rows:,} rows ({', '.join(f'{t[8:]} {c:,}' for t, c in counts.items())}): "
        f"{copy_seconds:.2f} s = {args.cases / copy_seconds:,.0f} cases/s"
    )
    print(f"end to end is {total / copy_seconds:.1f}x the COPY time")
    print(
        f"single PUT (new case, keep-alive, n={len(timings)}): "
        f"p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
        f"max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
