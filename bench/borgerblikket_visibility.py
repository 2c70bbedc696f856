"""Benchmark: the visibility rule (one citizen's page of cases) at index scale, against raw SQL.

Fills a database of its own with ``--cases`` cases (default 1,000,000) spread over the
98 municipalities, two source systems each, 12 KLE emner and ``--cases / 10`` citizens,
plus sheet rows (half the emner per municipality, some with a source-system filter),
using ``INSERT … SELECT generate_series`` (the load is not what is measured). Then, for
``--samples`` random citizens, it times:

    selector   list(cases_visible_to_citizen(cpr=…)[:20]) — every rule, one SQL query
    baseline   the same page with no rule at all: SELECT … WHERE party_cpr = %s
               ORDER BY last_changed_at DESC LIMIT 20 (the partial index's floor)

and prints medians and p95 in milliseconds, the query count per page and the plan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_bb_bench \\
    .venv/bin/python bench/borgerblikket_visibility.py --cases 1000000 --samples 300

Figures: docs/performance.md, section "Borgerblikket: the visibility rule".
"""

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

KLE_NUMBERS = [f"32.24.{n:02d}" for n in range(1, 7)] + [f"15.17.{n:02d}" for n in range(1, 7)]


def django_setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(cases: int) -> None:
    from django.db import connection

    from borgerblikket.models import Sheet, SheetRow
    from indexes.models import Case, Municipality, SourceSystem
    from kle.models import Facet, FacetCategory, Subject

    if Case.objects.count() == cases:
        print(f"data present: {cases:,} cases")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE indexes_case, borgerblikket_sheetrow, borgerblikket_sheet CASCADE")
    for number in KLE_NUMBERS:
        main, group = number[:2], number[:5]
        m, _ = Subject.objects.get_or_create(
            number=main, defaults={"level": "hovedgruppe", "title": main}
        )
        g, _ = Subject.objects.get_or_create(
            number=group, defaults={"level": "gruppe", "title": group, "parent": m}
        )
        Subject.objects.get_or_create(
            number=number, defaults={"level": "emne", "title": number, "parent": g}
        )
    category, _ = FacetCategory.objects.get_or_create(code="G", defaults={"title": "G"})
    facet, _ = Facet.objects.get_or_create(
        code="G01", defaults={"title": "G01", "category": category}
    )
    for municipality in Municipality.objects.all():
        for name in ("FASIT", "SBSYS"):
            SourceSystem.objects.get_or_create(
                municipality=municipality, name=name, defaults={"product": name}
            )
    subjects = list(Subject.objects.filter(number__in=KLE_NUMBERS).order_by("number"))
    systems = list(
        SourceSystem.objects.filter(name__in=("FASIT", "SBSYS")).order_by("municipality", "name")
    )
    rows = []
    for index, municipality in enumerate(Municipality.objects.order_by("code")):
        Sheet.objects.create(
            municipality=municipality, show_active_cases_before_show_from=index % 2 == 0
        )
        own = [s for s in systems if s.municipality_id == municipality.code]
        for k, subject in enumerate(subjects):
            if (k + index) % 2 == 0:
                rows.append(
                    SheetRow(
                        municipality=municipality,
                        kle_subject=subject,
                        source_system=own[0] if k % 3 == 0 else None,
                        show_from="2021-01-01",
                    )
                )
    SheetRow.objects.bulk_create(rows)
    citizens = max(cases // 10, 1)
    subject_ids = [s.pk for s in subjects]
    system_ids = [s.pk for s in systems]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO indexes_case (source_system_id, municipality_id, external_id, source_timestamp,
                received_at, version, case_number, title, alternative_title, description,
                source_status_text, sensitivity, hidden_from_citizen, kle_subject_id, facet_id,
                responsible_unit, primary_caseworker, party_cpr, decision_class, created_on, status,
                last_changed_at, awaiting_party_reason)
            SELECT s.id, s.municipality_id, 'c' || i, now(), now(), 1, 'S-' || i, 'Sag ' || i, '', '',
                '', 'FORTROLIGE_PERSONOPLYSNINGER', i %% 20 = 0, (%(subjects)s)[1 + (i * 7) %% %(nsub)s],
                %(facet)s, '', 'sb', lpad(((i::bigint * 7919) %% %(citizens)s + 1010000000)::text, 10, '0'),
                '', date '2019-01-01' + (i %% 1500),
                (ARRAY['Opstaaet','Oplyst','Afgjort','Afsluttet'])[1 + i %% 4],
                now() - (i %% 1000) * interval '1 hour', ''
            FROM generate_series(1, %(cases)s) AS i
            JOIN LATERAL (SELECT id, municipality_id FROM indexes_sourcesystem
                          WHERE id = (%(systems)s)[1 + i %% %(nsys)s]) s ON true
            """,
            {
                "subjects": subject_ids,
                "nsub": len(subject_ids),
                "facet": facet.pk,
                "citizens": citizens,
                "cases": cases,
                "systems": system_ids,
                "nsys": len(system_ids),
            },
        )
        cursor.execute(
            "ANALYZE indexes_case; ANALYZE borgerblikket_sheetrow; ANALYZE borgerblikket_sheet"
        )
    print(
        f"filled {cases:,} cases for {citizens:,} citizens in {time.perf_counter() - started:.1f} s"
    )


def measure(samples: int, seed: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from borgerblikket.selectors import cases_visible_to_citizen

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT party_cpr FROM indexes_case TABLESAMPLE SYSTEM (1) LIMIT 5000"
        )
        cprs = [row[0] for row in cursor.fetchall()]
    rng = random.Random(seed)
    picks = [rng.choice(cprs) for _ in range(samples)]

    def selector(cpr):
        return [(c.pk, c.display_title) for c in cases_visible_to_citizen(cpr=cpr)[:20]]

    def baseline(cpr):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, case_number, title FROM indexes_case WHERE party_cpr = %s "
                "ORDER BY last_changed_at DESC LIMIT 20",
                [cpr],
            )
            return cursor.fetchall()

    def selector_sql(cpr):
        # The selector's own SQL, executed without the ORM: the database's share of its time.
        sql, params = cases_visible_to_citizen(cpr=cpr)[:20].query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def orm_baseline(cpr):
        from indexes.models import Case

        return list(
            Case.objects.filter(party_cpr=cpr)
            .order_by("-last_changed_at")
            .values_list("id", "case_number", "title")[:20]
        )

    functions = (
        ("selector", selector),
        ("sql-only", selector_sql),
        ("orm-base", orm_baseline),
        ("baseline", baseline),
    )
    for _name, fn in functions:  # warm all
        for cpr in picks[:20]:
            fn(cpr)
    timings = {name: [] for name, _ in functions}
    shown = 0
    for cpr in picks:
        for name, fn in functions:
            started = time.perf_counter()
            result = fn(cpr)
            timings[name].append((time.perf_counter() - started) * 1000)
            if name == "selector":
                shown += len(result)
    with CaptureQueriesContext(connection) as queries:
        selector(picks[0])
    for name, values in timings.items():
        values.sort()
        p95 = values[int(len(values) * 0.95) - 1]
        print(
            f"{name:9s} median {statistics.median(values):6.2f} ms   p95 {p95:6.2f} ms   ({len(values)} pages)"
        )
    print(
        f"queries per page: {len(queries)}; cases shown per page on average: {shown / len(picks):.1f}"
    )
    print(cases_visible_to_citizen(cpr=picks[0])[:20].explain(analyze=True, buffers=True))


def measure_reports() -> None:
    """The data-quality report of one municipality: every check and the invisibility breakdown."""
    from django.db import connection

    from borgerblikket.selectors import quality, rollout
    from indexes.models import Municipality

    municipality = Municipality.objects.get(code="101")
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(
            "SELECT source_system_id, count(*) FROM indexes_case "
            "WHERE municipality_id = %s AND retracted_at IS NULL GROUP BY 1",
            ["101"],
        )
        cases = sum(n for _, n in cursor.fetchall())
        baseline = (time.perf_counter() - started) * 1000
    print(f"reports for 101 København ({cases:,} cases):")
    print(f"  baseline  count(*) GROUP BY source system   {baseline:7.1f} ms")
    total = 0.0
    for key in quality.CHECKS:
        started = time.perf_counter()
        quality.check_counts(municipality=municipality, key=key)
        elapsed = (time.perf_counter() - started) * 1000
        total += elapsed
        print(f"  check     {key:32s} {elapsed:7.1f} ms")
    started = time.perf_counter()
    quality.invisibility_counts(municipality=municipality)
    elapsed = (time.perf_counter() - started) * 1000
    print(f"  invisible cases by reason                  {elapsed:7.1f} ms")
    print(f"  whole report (10 queries)                  {total + elapsed:7.1f} ms")
    started = time.perf_counter()
    rollout.rollout_status()
    print(
        f"roll-out status of 98 municipalities          {(time.perf_counter() - started) * 1000:7.1f} ms"
    )
    for key in ("32", "15.17", "etape:etape-1"):
        area = rollout.rollout_area(key=key)
        started = time.perf_counter()
        rollout.rollout_status(area=area)
        elapsed = (time.perf_counter() - started) * 1000
        print(f"roll-out status in area {key:22s} {elapsed:7.1f} ms")
    from borgerblikket.services.rollout import rollout_snapshot_take

    started = time.perf_counter()
    result = rollout_snapshot_take()
    elapsed = (time.perf_counter() - started) * 1000
    print(f"roll-out snapshot: {result.areas} areas, {result.rows} rows     {elapsed:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    flags_add(parser, database="overblik_bb_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)
    database_ensure()
    django_setup()
    fill(args.cases)
    measure(args.samples, args.seed)
    measure_reports()


if __name__ == "__main__":
    main()
