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
3. single ``PUT`` latency (p50/p95) of new cases, one at a time;
4. with ``--xml``: the same cases and documents as SF1470 v6 XML
   (``POST /api/v1/sf1470/v6/ImporterSagDokumentIndeks``, 500 ``SagIndeks`` + their 500
   ``DokumentIndeks`` per request, other ids), end to end in the same run, and its
   share of the JSON figure (issue 18 asks for at least 50 %).

Usage (the database is created when missing; every loop is bounded):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/3 \\
    .venv/bin/python bench/ingest.py --cases 20000 --put-samples 500 [--xml] \\
        [--database-url postgres://postgres@127.0.0.1:5432/overblik_api_bench] [--port N]

``--database-url`` defaults to ``DATABASE_URL``, else the database above; ``--port``
(gunicorn's) to a free loopback port.

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
from bench.support import database_ensure, flags_add, flags_apply, percentile  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/3")
# Persistent database connections, as a deployment should run (a new PostgreSQL
# connection per request costs more than the PUT itself).
os.environ.setdefault("DJANGO_CONN_MAX_AGE", "60")

HOST = "127.0.0.1"
PORT = 0  # main() sets it from --port (default: a free port)
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


SF1470_NAMESPACES = (
    'xmlns:sdi="urn:oio:sts:sagdok:sagdokumentindeks:6" xmlns:sag="urn:oio:sts:sagdok:sag:6" '
    'xmlns:di="urn:oio:sts:sagdok:dokumentindeks:6" xmlns:si="urn:oio:sts:sagdok:sagindeks:6" '
    'xmlns:sd="urn:oio:sagdok:3.0.0" xmlns:gd="urn:oio:sts:generelledefinitioner:6"'
)
ROLE = (
    "<gd:Rolle><sd:URNIdentifikator>urn:overblik:sf1470:rolle:{}</sd:URNIdentifikator></gd:Rolle>"
)
REF = "<gd:ReferenceID><sd:UUIDIdentifikator>{}</sd:UUIDIdentifikator></gd:ReferenceID>"
CLASS_REF = REF.format("aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee")


def _period(start: str, end: str | None) -> str:
    to = (
        f"<sd:TidsstempelDatoTid>{end}</sd:TidsstempelDatoTid>"
        if end
        else "<sd:GraenseIndikator>true</sd:GraenseIndikator>"
    )
    return (
        f"<sd:FraTidspunkt><sd:TidsstempelDatoTid>{start}</sd:TidsstempelDatoTid></sd:FraTidspunkt>"
        f"<sd:TilTidspunkt>{to}</sd:TilTidspunkt>"
    )


def sf1470_case_and_document(run: str, n: int) -> str:
    """The content of ``case_record`` and ``document_record`` as SF1470 v6 elements."""
    case = case_record(run, n)
    case_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}-c{n}"))
    document_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}-d{n}"))
    progress = "".join(
        f"<sag:Fremdrift><sag:Virkning>{_period(p['from'], p.get('to'))}</sag:Virkning>"
        f"<sag:FremdriftStatusKode>{p['status']}</sag:FremdriftStatusKode></sag:Fremdrift>"
        for p in case["progress"]
    )

    def klasse(role: str, key: str) -> str:
        return (
            f"<sag:Sagsklasse>{ROLE.format(role)}{CLASS_REF}<gd:LokalUdvidelseListe>"
            f"<si:SagsklasseLokalUdvidelse><si:BrugervendtNoegle>{key}</si:BrugervendtNoegle>"
            "</si:SagsklasseLokalUdvidelse></gd:LokalUdvidelseListe></sag:Sagsklasse>"
        )

    def aktoer(role: str, name: str) -> str:
        return (
            f"<sag:Sagsaktoer>{ROLE.format(role)}{CLASS_REF}<gd:LokalUdvidelseListe>"
            f"<si:SagsaktoerLokalUdvidelse><si:FuldtNavn>{name}</si:FuldtNavn>"
            "</si:SagsaktoerLokalUdvidelse></gd:LokalUdvidelseListe></sag:Sagsaktoer>"
        )

    return (
        f"<sdi:SagIndeks><sd:UUIDIdentifikator>{case_id}</sd:UUIDIdentifikator><sag:Registrering>"
        f"<sd:Tidspunkt>{case['source_timestamp']}</sd:Tidspunkt><sag:AttributListe>"
        f"<sag:Egenskaber><sag:Beskrivelse>{case['description']}</sag:Beskrivelse>"
        f"<sag:Sagsnummer>{case['case_number']}</sag:Sagsnummer>"
        f"<sag:Titel>{case['title']}</sag:Titel></sag:Egenskaber>"
        "<gd:LokalUdvidelseListe><si:SagIndeksEgenskaber>"
        "<si:OprettetTidspunkt>2024-04-01T09:00:00+02:00</si:OprettetTidspunkt>"
        "</si:SagIndeksEgenskaber></gd:LokalUdvidelseListe></sag:AttributListe>"
        f"<sag:TilstandListe>{progress}</sag:TilstandListe><sag:RelationListe>"
        + aktoer("ansvarlig", case["responsible_unit"])
        + aktoer("primaer-behandler", case["primary_caseworker"])
        + klasse("primaer-klasse", case["kle_number"])
        + klasse("handlingsklasse", case["facet"])
        + f"<sag:Sagspart>{ROLE.format('primaer-part')}<gd:ReferenceID><sd:URNIdentifikator>"
        f"urn:oio:cpr-nr:{case['party']['cpr']}</sd:URNIdentifikator></gd:ReferenceID></sag:Sagspart>"
        f"<sag:Journalpost>{ROLE.format('tilakteret')}<gd:Indeks>1</gd:Indeks>"
        f"{REF.format(document_id)}</sag:Journalpost>"
        "</sag:RelationListe></sag:Registrering></sdi:SagIndeks>",
        f"<sdi:DokumentIndeks><sd:UUIDIdentifikator>{document_id}</sd:UUIDIdentifikator>"
        f"<di:Registrering><sd:Tidspunkt>{case['source_timestamp']}</sd:Tidspunkt>"
        "<di:AttributListe><di:Egenskaber><di:Titel>Afgørelse om hjælpemiddel</di:Titel>"
        "<di:BrevDato>2024-04-20</di:BrevDato><di:Type>Brev, udgaaende</di:Type></di:Egenskaber>"
        "</di:AttributListe><di:TilstandListe><di:Fremdrift><di:Virkning>"
        + _period("2024-04-20T09:00:00+02:00", None)
        + "</di:Virkning><di:FremdriftStatusKode>Endeligt</di:FremdriftStatusKode></di:Fremdrift>"
        "</di:TilstandListe><di:RelationListe><di:Dokumentklasse>"
        + ROLE.format("primaer-klasse")
        + CLASS_REF
        + "<gd:LokalUdvidelseListe><di:DokumentklasseLokalUdvidelse>"
        "<di:BrugervendtNoegle>15.62.10</di:BrugervendtNoegle></di:DokumentklasseLokalUdvidelse>"
        "</gd:LokalUdvidelseListe></di:Dokumentklasse></di:RelationListe></di:Registrering>"
        "</sdi:DokumentIndeks>",
    )


def xml_bodies(run: str, cases: int, per_batch: int = 500) -> list[bytes]:
    """SF1470 ImporterSagDokumentIndeksInput documents of ``per_batch`` cases + documents."""
    bodies = []
    for start in range(0, cases, per_batch):
        pairs = [
            sf1470_case_and_document(run, n) for n in range(start, min(start + per_batch, cases))
        ]
        inner = "".join(case for case, _ in pairs) + "".join(doc for _, doc in pairs)
        bodies.append(
            f'<?xml version="1.0" encoding="UTF-8"?><sdi:ImporterSagDokumentIndeksInput '
            f"{SF1470_NAMESPACES}>{inner}</sdi:ImporterSagDokumentIndeksInput>".encode()
        )
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


def post_batches(
    bodies: list[bytes],
    key: str,
    clients: int,
    *,
    path: str = "/api/v1/batches",
    content_type: str = "application/json",
) -> list[str]:
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
                path,
                body=body,
                headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
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
    parser.add_argument(
        "--xml", action="store_true", help="also deliver the same content as SF1470 v6 XML"
    )
    flags_add(parser, database="overblik_api_bench")
    args = parser.parse_args()
    global PORT
    PORT = flags_apply(args)

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

        xml_total = None
        if args.xml:
            xml = {
                "path": "/api/v1/sf1470/v6/ImporterSagDokumentIndeks",
                "content_type": "application/xml",
            }
            batches_wait(post_batches(xml_bodies(f"{run}xw", 10), key, 1, **xml), timeout=60)
            xml_payloads = xml_bodies(f"{run}x", args.cases)
            started = time.perf_counter()
            xml_ids = post_batches(xml_payloads, key, args.clients, **xml)
            xml_posted = time.perf_counter() - started
            batches_wait(xml_ids, timeout=max(120.0, args.cases / 100))
            xml_total = time.perf_counter() - started

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
    if xml_total is not None:
        size = sum(len(body) for body in xml_payloads) / len(xml_payloads) / 1024
        print(
            f"SF1470 XML, same content ({len(xml_payloads)} documents of 1,000 records, "
            f"{size:,.0f} KiB each): HTTP accept (parse + XSD + map + validate + inbox) "
            f"{xml_posted:.2f} s = {records / xml_posted:,.0f} records/s; end to end "
            f"{xml_total:.2f} s = {records / xml_total:,.0f} records/s = "
            f"{total / xml_total:.0%} of the JSON figure"
        )
    print(
        f"single PUT (new case, keep-alive, n={len(timings)}): "
        f"p50 {percentile(timings, 50):.1f} ms, p95 {percentile(timings, 95):.1f} ms, "
        f"max {max(timings):.1f} ms"
    )


if __name__ == "__main__":
    main()
