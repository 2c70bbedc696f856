"""Benchmark: the retention run deleting N due cases with their documents, against raw SQL.

Fills a database of its own with ``--cases`` due cases (closed in 2010 on a KLE emne with
an 1,800-day deletion period), as many open cases that stay, two documents per case (one
of every tenth due case's documents shared with an open case, so it stays), two progress
periods per case and a history row per case and document — ``INSERT … SELECT
generate_series`` (the load is not what is measured). Then, in each round, on a fresh fill:

    service    borgerblikket.services.retention.retention_run(): the rule's SQL, batches of
               ``--batch-size`` cases, FOR UPDATE SKIP LOCKED, the audit rows
    baseline   raw SQL knowing the answer: one transaction of DELETE … WHERE case_id IN
               (SELECT id FROM indexes_case WHERE status = 'Afsluttet') per table — the
               floor any implementation of the rule pays for the rows themselves

and prints the seconds, rows per second and the ratio. Both must leave the same rows.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_retention_bench \\
    .venv/bin/python bench/retention.py --cases 100000 --rounds 2

Figures: docs/performance.md, section "Retention".
"""

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply, load_average  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

KLE = "32.18.02"


def django_setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(cases: int) -> dict[str, int]:
    """``cases`` due and ``cases`` open cases with documents, progress and history."""
    import datetime as dt

    from django.db import connection

    from indexes.models import Municipality, SourceSystem
    from kle.models import Facet, FacetCategory, Subject

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE indexes_case, indexes_document, indexes_change, "
            "borgerblikket_retentionrun CASCADE"
        )
    parent = None
    for number, level in ((KLE[:2], "hovedgruppe"), (KLE[:5], "gruppe"), (KLE, "emne")):
        parent, _ = Subject.objects.get_or_create(
            number=number, defaults={"level": level, "title": number, "parent": parent}
        )
    Subject.objects.filter(number=KLE).update(deletion_period=dt.timedelta(days=1800))
    category, _ = FacetCategory.objects.get_or_create(code="G", defaults={"title": "G"})
    facet, _ = Facet.objects.get_or_create(
        code="G01", defaults={"title": "G01", "category": category}
    )
    systems = []
    for municipality in Municipality.objects.order_by("code")[:10]:
        system, _ = SourceSystem.objects.get_or_create(
            municipality=municipality, name="FASIT", defaults={"product": "FASIT"}
        )
        systems.append(system.pk)
    subject = Subject.objects.get(number=KLE).pk
    params = {"n": 2 * cases, "due": cases, "systems": systems, "ns": len(systems)}
    params |= {"subject": subject, "facet": facet.pk}
    with connection.cursor() as cursor:
        # Cases 1..due are closed in 2010 (due); due+1..2*due are open (stay).
        cursor.execute(
            """
            INSERT INTO indexes_case (source_system_id, municipality_id, external_id,
                source_timestamp, received_at, version, case_number, title, alternative_title,
                description, source_status_text, sensitivity, hidden_from_citizen, kle_subject_id,
                facet_id, responsible_unit, primary_caseworker, party_cpr, decision_class,
                created_on, status, last_changed_at)
            SELECT s.id, s.municipality_id, 'c' || i, now(), now(), 1, 'S-' || i, 'Sag ' || i,
                '', '', '', 'FORTROLIGE_PERSONOPLYSNINGER', false, %(subject)s, %(facet)s, '', '',
                lpad((1010000000 + i)::text, 10, '0'), '', date '2009-01-01',
                CASE WHEN i <= %(due)s THEN 'Afsluttet' ELSE 'Oplyst' END, now()
            FROM generate_series(1, %(n)s) AS i
            JOIN indexes_sourcesystem s ON s.id = (%(systems)s)[1 + i %% %(ns)s]
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO indexes_caseprogress (case_id, status, valid_from, valid_to)
            SELECT id, 'Opstaaet', timestamptz '2009-01-01 09:00+01',
                   timestamptz '2010-01-01 09:00+01' FROM indexes_case
            UNION ALL
            SELECT id, CASE WHEN status = 'Afsluttet' THEN 'Afsluttet' ELSE 'Oplyst' END,
                   timestamptz '2010-01-01 09:00+01', NULL FROM indexes_case
            """
        )
        cursor.execute(
            """
            INSERT INTO indexes_document (source_system_id, municipality_id, external_id,
                source_timestamp, received_at, version, title, letter_date, type, status,
                sensitivity, hidden_from_citizen)
            SELECT c.source_system_id, c.municipality_id, c.external_id || '-d' || k, now(),
                now(), 1, 'Brev ' || k, date '2009-02-01', 'Brev, udgaaende', 'Endeligt',
                'FORTROLIGE_PERSONOPLYSNINGER', false
            FROM indexes_case c CROSS JOIN generate_series(1, 2) AS k
            """
        )
        cursor.execute(
            """
            INSERT INTO indexes_casedocument (case_id, document_id, role)
            SELECT c.id, d.id, 'Tilakteret' FROM indexes_document d
            JOIN indexes_case c ON c.source_system_id = d.source_system_id
                AND c.external_id = split_part(d.external_id, '-', 1)
            """
        )
        # Every tenth due case shares its first document with an open case: it stays.
        cursor.execute(
            """
            INSERT INTO indexes_casedocument (case_id, document_id, role)
            SELECT o.id, cd.document_id, 'Vedlagt'
            FROM indexes_case c
            JOIN indexes_casedocument cd ON cd.case_id = c.id
            JOIN indexes_document d ON d.id = cd.document_id AND d.external_id LIKE '%%-d1'
            JOIN indexes_case o ON o.external_id = 'c' || (substr(c.external_id, 2)::int
                 + %(due)s) AND o.source_system_id = c.source_system_id
            WHERE c.status = 'Afsluttet' AND substr(c.external_id, 2)::int %% 10 = 0
            """,
            params,
        )
        cursor.execute(
            """
            INSERT INTO indexes_change (record_type, record_id, action, version, received_at, diff)
            SELECT 'case', id, 'created', 1, now(), '{}'::jsonb FROM indexes_case
            UNION ALL
            SELECT 'document', id, 'created', 1, now(), '{}'::jsonb FROM indexes_document
            """
        )
        cursor.execute(
            "ANALYZE indexes_case; ANALYZE indexes_caseprogress; ANALYZE indexes_document; "
            "ANALYZE indexes_casedocument; ANALYZE indexes_change"
        )
    return counts()


def counts() -> dict[str, int]:
    from django.db import connection

    out = {}
    with connection.cursor() as cursor:
        for table in ("case", "document", "casedocument", "caseprogress", "change"):
            cursor.execute(f"SELECT count(*) FROM indexes_{table}")
            out[table] = cursor.fetchone()[0]
    return out


BASELINE = [
    # The history of due cases and of documents only they hold, then the rows themselves.
    """CREATE TEMP TABLE due AS SELECT id FROM indexes_case WHERE status = 'Afsluttet'""",
    """CREATE TEMP TABLE due_docs AS SELECT DISTINCT cd.document_id AS id
       FROM indexes_casedocument cd JOIN due ON due.id = cd.case_id
       WHERE NOT EXISTS (SELECT 1 FROM indexes_casedocument o
                         WHERE o.document_id = cd.document_id
                           AND o.case_id NOT IN (SELECT id FROM due))""",
    """DELETE FROM indexes_change WHERE record_type = 'case'
       AND record_id IN (SELECT id FROM due)""",
    """DELETE FROM indexes_change WHERE record_type = 'document'
       AND record_id IN (SELECT id FROM due_docs)""",
    """DELETE FROM indexes_casedocument WHERE document_id IN (SELECT id FROM due_docs)
       OR case_id IN (SELECT id FROM due)""",
    """DELETE FROM indexes_document WHERE id IN (SELECT id FROM due_docs)""",
    """DELETE FROM indexes_caseprogress WHERE case_id IN (SELECT id FROM due)""",
    """DELETE FROM indexes_caserelation WHERE case_id IN (SELECT id FROM due)
       OR related_id IN (SELECT id FROM due)""",
    """DELETE FROM indexes_case WHERE id IN (SELECT id FROM due)""",
    """DROP TABLE due, due_docs""",
]


def run_service(batch_size: int) -> float:
    from borgerblikket.services.retention import retention_run

    started = time.perf_counter()
    run = retention_run(trigger="command", batch_size=batch_size)
    elapsed = time.perf_counter() - started
    print(f"  service: {run.batches} batches")
    return elapsed


def run_baseline() -> float:
    from django.db import connection, transaction

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in BASELINE:
            cursor.execute(statement)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000, help="due cases (as many stay)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=1000)
    flags_add(parser, database="overblik_retention_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)
    database_ensure()
    django_setup()
    print(f"load average {load_average()}; {args.cases:,} due cases, batch {args.batch_size}")
    results: dict[str, list[float]] = {"service": [], "baseline": []}
    left: dict[str, dict[str, int]] = {}
    for round_ in range(args.rounds):
        for name in ("service", "baseline") if round_ % 2 == 0 else ("baseline", "service"):
            started = time.perf_counter()
            before = fill(args.cases)
            print(
                f"round {round_ + 1} {name}: filled {before} in {time.perf_counter() - started:.1f} s"
            )
            seconds = run_service(args.batch_size) if name == "service" else run_baseline()
            after = counts()
            left[name] = after
            deleted = before["case"] - after["case"] + before["document"] - after["document"]
            print(
                f"  {name}: {seconds:.2f} s, {deleted / seconds:,.0f} cases+documents/s, "
                f"left {after}",
                flush=True,
            )
            results[name].append(seconds)
    assert left["service"] == left["baseline"], "service and baseline left different rows"
    service, baseline = min(results["service"]), min(results["baseline"])
    print(
        f"best of {args.rounds}: service {service:.2f} s, baseline {baseline:.2f} s, "
        f"ratio {service / baseline:.2f}; load average {load_average()}"
    )


if __name__ == "__main__":
    main()
