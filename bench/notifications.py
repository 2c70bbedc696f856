"""Notifications benchmark (issue 14): what the outbox costs ingestion, and how fast
outbox events become queued messages, against bare writes of the same rows.

On a database of its own:

1. seed: ``--citizens`` citizens (login user, ``Citizen`` with the keyed hash of a CPR
   number, ``NotificationSettings`` with a confirmed e-mail) written with ``COPY``;
2. ingest: ``--changes`` new cases of those citizens through ``records_apply_many``
   (the engine the inbox worker runs) in chunks of ``--chunk``, alternately with
   notifications off and on (``OVERBLIK_NOTIFICATIONS_ENABLED``), so both modes meet
   the same table sizes; the overhead is on/off throughput (goal: at most 10 %);
3. dispatch: ``outbox_dispatch`` until the outbox is empty — events turned into
   pending messages per second (goal: at least 5,000/s);
4. bare: ``COPY`` of exactly the message rows step 3 wrote into an empty copy of the
   table with the same indexes, and a bare multi-row ``INSERT`` of the outbox rows
   step 2 wrote, in the same run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_notify_bench \\
    .venv/bin/python bench/notifications.py --citizens 1000000 --changes 100000

Figures: docs/performance.md, section "Notifications".
"""

import argparse
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply, load_average  # noqa: E402 - after sys.path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.pop("CELERY_BROKER_URL", None)  # nothing is sent: the bench stops at the queue


def cpr_of(i: int) -> str:
    """The i-th bench CPR number: a real date (1-28 of a month, 1900s) and a sequence."""
    dates, seq = divmod(i, 10000)
    day, rest = 1 + dates % 28, dates // 28
    month, year = 1 + rest % 12, (rest // 12) % 100
    return f"{day:02d}{month:02d}{year:02d}{seq:04d}"


def copy_rows(cursor, table: str, columns: list[str], rows) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buffer.seek(0)
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        while chunk := buffer.read(1 << 20):
            copy.write(chunk)


def seed(citizens: int) -> float:
    from django.db import connection
    from django.utils import timezone

    from overblik.services import citizen_cpr_digest

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM overblik_notificationsettings")
        if cursor.fetchone()[0] == citizens:
            return 0.0
        cursor.execute(
            "TRUNCATE overblik_notificationmessage, overblik_notificationsettings, "
            "overblik_citizen, indexes_notificationevent CASCADE"
        )
        cursor.execute("DELETE FROM auth_user WHERE username LIKE 'bench-%%'")
        cursor.execute("SELECT coalesce(max(id), 0) FROM auth_user")
        first = cursor.fetchone()[0] + 1
        now = timezone.now().isoformat()
        pg = cursor.cursor if hasattr(cursor, "cursor") else cursor
        copy_rows(
            pg,
            "auth_user",
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
            ],
            (
                (first + i, "!", "f", f"bench-{i}", "", "", "", "f", "t", now)
                for i in range(citizens)
            ),
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('auth_user', 'id'), %s)", [first + citizens]
        )
        copy_rows(
            pg,
            "overblik_citizen",
            ["id", "user_id", "cpr_digest", "created_at"],
            (
                (first + i, first + i, citizen_cpr_digest(cpr=cpr_of(i)), now)
                for i in range(citizens)
            ),
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('overblik_citizen', 'id'), %s)",
            [first + citizens],
        )
        import uuid

        copy_rows(
            pg,
            "overblik_notificationsettings",
            [
                "id",
                "citizen_id",
                "email",
                "email_confirmed_at",
                "email_pending",
                "email_code",
                "email_code_attempts",
                "mobile",
                "mobile_pending",
                "mobile_code",
                "mobile_code_attempts",
                "topic_status",
                "topic_awaiting",
                "topic_deadline",
                "topic_document",
                "topic_payment",
                "language",
                "paused",
                "updated_at",
            ],
            (
                (
                    uuid.uuid4(),
                    first + i,
                    f"b{i}@example.dk",
                    now,
                    "",
                    "",
                    0,
                    "",
                    "",
                    "",
                    0,
                    "t",
                    "t",
                    "t",
                    "t",
                    "t",
                    "da",
                    "f",
                    now,
                )
                for i in range(citizens)
            ),
        )
        cursor.execute("ANALYZE auth_user, overblik_citizen, overblik_notificationsettings")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--citizens", type=int, default=1_000_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=1000)
    flags_add(parser, database="overblik_notify_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)
    database_ensure()

    from bench.ingest_services import case_record, setup, truncate

    system, run = setup()
    from django.conf import settings
    from django.db import connection, transaction

    from indexes.services.ingestion import records_apply_many
    from overblik.models import NotificationMessage
    from overblik.notifications.dispatch import outbox_dispatch

    print(f"load average at start: {load_average()}")
    seconds = seed(args.citizens)
    print(f"seed: {args.citizens:,} citizens with settings by COPY in {seconds:.1f} s")
    truncate()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE indexes_notificationevent, overblik_notificationmessage")

    # 2. ingest, alternating off/on per chunk.
    spent = {False: 0.0, True: 0.0}
    count = {False: 0, True: 0}
    step = max(1, args.citizens // max(1, args.changes))
    for start in range(0, args.changes, args.chunk):
        numbers = range(start, min(start + args.chunk, args.changes))
        items = []
        for n in numbers:
            record = case_record(run, n)
            record["party"] = {"cpr": cpr_of((n * step) % args.citizens)}
            items.append(("case", record))
        enabled = (start // args.chunk) % 2 == 1
        settings.OVERBLIK_NOTIFICATIONS_ENABLED = enabled
        began = time.perf_counter()
        with transaction.atomic():
            records_apply_many(source_system=system, items=items)
        spent[enabled] += time.perf_counter() - began
        count[enabled] += len(items)
    off, on = count[False] / spent[False], count[True] / spent[True]
    print(
        f"ingest, notifications off: {count[False]:,} cases in {spent[False]:.1f} s = {off:,.0f}/s"
    )
    print(f"ingest, notifications on:  {count[True]:,} cases in {spent[True]:.1f} s = {on:,.0f}/s")
    print(f"outbox overhead: {(1 - on / off) * 100:.1f} % of ingest throughput (goal <= 10 %)")

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM indexes_notificationevent")
        events = cursor.fetchone()[0]
        # The bare comparison for the outbox: the same event rows by plain INSERT.
        cursor.execute(
            "CREATE TEMP TABLE bench_events (LIKE indexes_notificationevent INCLUDING ALL)"
        )
        began = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_events (topic, record_type, record_id, created_at) "
            "SELECT topic, record_type, record_id, created_at FROM indexes_notificationevent"
        )
        bare_events = time.perf_counter() - began
    print(
        f"outbox rows: {events:,}; bare INSERT of the same rows: {bare_events:.2f} s "
        f"({events / max(bare_events, 1e-9):,.0f}/s)"
    )

    # 3. dispatch until empty.
    began = time.perf_counter()
    taken = 0
    while True:
        n = outbox_dispatch(limit=5000)
        if not n:
            break
        taken += n
    dispatch = time.perf_counter() - began
    messages = NotificationMessage.objects.count()
    print(
        f"dispatch: {taken:,} events -> {messages:,} queued messages in {dispatch:.1f} s = "
        f"{taken / dispatch:,.0f} events/s (goal >= 5,000/s)"
    )

    # 4. bare COPY of the very message rows.
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_messages (LIKE overblik_notificationmessage INCLUDING ALL)"
        )
        columns = [
            "settings_id",
            "channel",
            "status",
            "send_after",
            "due_at",
            "items",
            "topics",
            "idempotency_key",
            "attempts",
            "last_error",
            "created_at",
        ]
        cursor.execute(f"SELECT {', '.join(columns)} FROM overblik_notificationmessage")
        rows = cursor.fetchall()
        import json

        rows = [
            [
                json.dumps(v)
                if isinstance(v, list)
                else (v.isoformat() if isinstance(v, dt.datetime) else v)
                for v in row
            ]
            for row in rows
        ]
        began = time.perf_counter()
        copy_rows(
            cursor.cursor if hasattr(cursor, "cursor") else cursor, "bench_messages", columns, rows
        )
        bare = time.perf_counter() - began
    print(
        f"bare COPY of the same {len(rows):,} message rows: {bare:.2f} s = {len(rows) / max(bare, 1e-9):,.0f}/s"
    )
    print(f"load average at end: {load_average()}")


if __name__ == "__main__":
    main()
