"""Load-data benchmark: `manage.py simulate` against bare COPY and the ingestion path.

On a database of its own (created and migrated when missing, KLE imported by
kle_ensure), in one run:

1. ``population_load``: N citizens' cases, progress, documents and links,
   grants, benefits, plans and payments, generated and written with COPY (the
   tables' secondary indexes and foreign keys rebuilt at the end);
2. the ceiling: a bare ``COPY`` of exactly the rows step 1 wrote (read back
   with ``COPY … TO STDOUT``) into empty copies of the same tables with the
   same indexes (``LIKE … INCLUDING ALL``, no foreign keys), maintained row by
   row as a plain COPY would;
3. the ingestion path for comparison: a simulated FASIT and KMD Ydelse feed
   (served over HTTP on loopback from this process, as the product polls every
   feed) polled through ``records_apply_many`` (what the REST API and the
   cursor service use), records per second.

Usage (every loop is bounded; the database keeps what step 1 wrote):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_load_bench \\
    .venv/bin/python bench/load_data.py --citizens 455000 --municipalities 10

Figures and how to read them: docs/performance.md, section "Load data".
"""

import argparse
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.pop("CELERY_BROKER_URL", None)  # polls run in-process here


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--citizens", type=int, default=455_000)
    parser.add_argument("--municipalities", type=int, default=10)
    parser.add_argument("--ingest-citizens", type=int, default=300)
    flags_add(parser, database="overblik_load_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)

    database_ensure()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("kle_ensure", verbosity=0)

    from simulators.bulk import population_load

    started = time.perf_counter()
    phases: list[tuple[float, str]] = []
    report = population_load(
        citizens=args.citizens,
        municipalities=args.municipalities,
        progress=lambda message: phases.append((time.perf_counter() - started, message)),
    )
    rebuild_start = next((t for t, m in phases if m.startswith("rebuilding")), report.seconds)
    print(f"1. simulate: {report.summary()}")
    print(f"   generate + COPY {rebuild_start:.1f} s; indexes, constraints, ANALYZE "
          f"{report.seconds - rebuild_start:.1f} s")  # fmt: skip

    # 2. The ceiling: a bare COPY of the same rows into copies with the same indexes.
    prefix = _latest_prefix(connection)
    tables = [
        ("indexes_case", f"external_id LIKE '{prefix}-S%%'"),
        ("indexes_caseprogress", f"case_id IN (SELECT id FROM indexes_case WHERE external_id LIKE '{prefix}-S%%')"),
        ("indexes_document", f"external_id LIKE '{prefix}-D%%'"),
        ("indexes_casedocument", f"document_id IN (SELECT id FROM indexes_document WHERE external_id LIKE '{prefix}-D%%')"),
        ("indexes_grant", f"external_id LIKE '{prefix}-%%'"),
        ("indexes_grantedbenefit", f"external_id LIKE '{prefix}-%%'"),
        ("indexes_paymentplan", f"benefit_id IN (SELECT id FROM indexes_grantedbenefit WHERE external_id LIKE '{prefix}-%%')"),
        ("indexes_payment", f"external_id LIKE '{prefix}-U%%'"),
    ]  # fmt: skip
    copy_seconds, copy_rows = 0.0, 0
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor
        for table, where in tables:
            buffer = io.BytesIO()
            with cursor.copy(f"COPY (SELECT * FROM {table} WHERE {where}) TO STDOUT") as out:
                for block in out:
                    buffer.write(block)
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")
            data = buffer.getvalue()
            begin = time.perf_counter()
            with cursor.copy(f"COPY bench_{table} FROM STDIN") as into:
                for start in range(0, len(data), 1 << 20):
                    into.write(data[start : start + (1 << 20)])
            copy_seconds += time.perf_counter() - begin
            copy_rows += data.count(b"\n")
            cursor.execute(f"DROP TABLE bench_{table}")
    print(
        f"2. bare COPY of the same {copy_rows:,} rows (indexes kept up row by row): "
        f"{copy_seconds:.1f} s — {report.cases / copy_seconds:,.0f} cases/s, "
        f"{copy_rows / copy_seconds:,.0f} rows/s"
    )

    # 3. The ingestion path: simulated feeds polled through records_apply_many.
    from indexes.feeds.services import feed_poll
    from indexes.models import FeedPoll, Municipality, SourceSystem
    from simulators.feeds import stand_in_feed_register
    from simulators.http import simulator_server_start
    from simulators.systems import SimulatorConfig

    # The simulated systems over HTTP on loopback, as the product always polls them.
    stand_ins = simulator_server_start().base_url

    municipality = Municipality.objects.get(code="101")
    records, seconds = 0, 0.0
    for product in ("FASIT", "KMD Ydelse"):
        system, _ = SourceSystem.objects.get_or_create(
            municipality=municipality, name=f"bench {product}", defaults={"product": product}
        )
        feed = stand_in_feed_register(
            source_system=system,
            config=SimulatorConfig(seed=int(time.time()), citizens=args.ingest_citizens),
            base_url=stand_ins,
            page_size=500,
        )
        feed.max_pages_per_poll = 10_000
        feed.save()
        begin = time.perf_counter()
        poll = feed_poll(feed_id=feed.pk, trigger=FeedPoll.Trigger.MANUAL)
        seconds += time.perf_counter() - begin
        records += poll.received
    rate = records / seconds
    print(
        f"3. ingestion path (feeds → records_apply_many): {records:,} records in {seconds:.1f} s "
        f"— {rate:,.0f} records/s"
    )
    population_records = sum(report.rows[name] for name in ("case", "document", "grant", "payment"))
    print(
        f"   the population's {population_records:,} records (cases, documents, grants, payments "
        f"with their parts) would take ≈ {population_records / rate / 60:,.0f} min that way; "
        f"simulate took {report.seconds / 60:.1f} min"
    )


def _latest_prefix(connection) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT split_part(external_id, '-', 1) FROM indexes_case "
            "WHERE external_id LIKE 'bulk%%' ORDER BY id DESC LIMIT 1"
        )
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
