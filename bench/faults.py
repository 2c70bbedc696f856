"""Fault drills: kill, stop and restart the parts of ingestion while it runs, then count.

Every drill runs against PRIVATE services (tests/faults/services.py): its own
PostgreSQL cluster (initdb + pg_ctl, a temporary directory, a free port) and
its own redis-server, real gunicorn on loopback, real ``celery worker``s and a
real ``celery beat`` whose inbox sweep runs every 5 s for batches not enqueued
for 15 s (INDEXES_INBOX_SWEEP_EVERY/_AFTER), or with ``--production-sweep`` the
production defaults (every 15 s, 30 s). worker-kill and redis-stop measure the
recovery: from the fault until every batch in flight at it is applied. Several
client threads post bulk batches as source systems do: on a connection error or
a 5xx they retry the same body with the same Idempotency-Key.

Scenarios:

  worker-kill       SIGKILL a worker (and its pool) mid-batches, twice; restart it
  redis-stop        stop Redis (no persistence: queued tasks are lost) for
                    --redis-down seconds while clients keep posting; start it again
  postgres-restart  ``pg_ctl restart -m fast`` (or --pg-mode immediate) twice during
                    ingestion; clients get
                    503 problem+json with Retry-After and retry
  replay            --replay-messages messages (cases with status history, their
                    documents, older versions of both) delivered twice in shuffled
                    order; a document that arrives before its case is rejected
                    and the sender delivers it again afterwards, as a real one would
  polls             the four simulated feeds (FASIT, SBSYS, Nexus, KMD Ydelse)
                    polled by beat every 2 s while a worker is killed and Redis is
                    stopped; the feeds must end read exactly once

Each ends by counting the index and the inbox exactly (tests/faults/workload.py
``index_count``; for polls, every change of every feed exactly once) and prints
PASS/FAIL with the figures and durations. Exit code 1 when any scenario fails.

Usage (nothing shared is touched; everything it starts is stopped at exit):

    .venv/bin/python bench/faults.py --scenario all
    .venv/bin/python bench/faults.py --scenario redis-stop --redis-down 60 --cases 6000
    .venv/bin/python bench/faults.py --production-sweep --scenario worker-kill

Figures: docs/performance.md, section "Faults".
"""

import argparse
import os
import random
import signal
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults.services import Stack, services_missing, wait_for  # noqa: E402


def source_system_create(name: str, product: str = "SBSYS"):
    from tests.faults.workload import source_system_create as create

    return create(name, product)


SCENARIOS = ("worker-kill", "redis-stop", "postgres-restart", "replay", "polls")


class Drill:
    """One scenario's figures, printed as it goes and summed up at the end."""

    def __init__(self, name: str):
        self.name = name
        self.started = time.monotonic()
        self.events: list[tuple[float, str]] = []
        self.figures: dict[str, object] = {}
        self.counts = []
        self.error = ""

    def event(self, text: str) -> None:
        at = time.monotonic() - self.started
        self.events.append((at, text))
        print(f"  [{self.name} {at:6.1f} s] {text}", flush=True)

    @property
    def ok(self) -> bool:
        return not self.error and bool(self.counts) and all(c.ok for c in self.counts)

    def report(self) -> None:
        seconds = time.monotonic() - self.started
        print(f"\n== {self.name}: {'PASS' if self.ok else 'FAIL'} ({seconds:.1f} s)")
        for name, value in self.figures.items():
            print(f"   {name}: {value}")
        for count in self.counts:
            mark = "ok  " if count.ok else "FAIL"
            print(f"   {mark} {count.name}: expected {count.expected}, found {count.actual}")
        if self.error:
            print(f"   ERROR {self.error}")
        print(flush=True)


# --- set-up in the private database --------------------------------------------------------


def django_setup(stack: Stack) -> None:
    for name in (
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "OVERBLIK_CPR_HMAC_KEY",
        "DJANGO_ALLOWED_HOSTS",
    ):
        os.environ[name] = stack.env[name]
    for name in ("DJANGO_SECURE_SSL_REDIRECT", "DATABASE_URL", "CELERY_BROKER_URL"):
        os.environ[name] = stack.env[name]
    import django

    django.setup()
    from tests.feeds.conftest import kle_fixture_load

    kle_fixture_load()


def processes_start(stack: Stack, drill: Drill, *, workers: int = 2) -> None:
    stack.start_all(web_workers=2, workers=workers)
    drill.event(f"gunicorn (2), {workers} worker(s) and beat up")


def processes_stop(stack: Stack) -> None:
    for process in list(stack.processes):
        process.stop()
        stack.processes.remove(process)


def wait_applied(drill: Drill, system, timeout: float) -> float:
    """Seconds until the system's inbox is drained (bounded by ``timeout``)."""
    from tests.faults.workload import db_retry, inbox_drained

    started = time.monotonic()
    wait_for(
        lambda: db_retry(lambda: inbox_drained(system)),
        timeout=timeout,
        interval=0.25,
        what="every batch applied",
    )
    return time.monotonic() - started


def wait_progress(system, fraction: float, total: int, timeout: float) -> None:
    from tests.faults.workload import db_retry, inbox_progress

    wait_for(
        lambda: db_retry(lambda: inbox_progress(system)[0]) >= fraction * total,
        timeout=timeout,
        interval=0.05,
        what=f"{fraction:.0%} of the records applied",
    )


def posting_figures(drill: Drill, poster, deliveries) -> None:
    drill.figures["deliveries (bodies) / records"] = (
        f"{len(deliveries)} / {sum(len(d.records) for d in deliveries)}"
    )
    drill.figures["answers (all attempts)"] = dict(poster.answers)
    for phase, answers in poster.answers_by_phase.items():
        drill.figures[f"answers {phase}"] = dict(answers)
    drill.figures["slowest POST answer"] = f"{poster.slowest:.2f} s"
    drill.figures["deliveries retried"] = sum(1 for d in deliveries if d.attempts > 1)
    if poster.failures:
        drill.figures["delivery failures"] = poster.failures[:5]
    rejected = [r for d in deliveries for r in d.rejected]
    if rejected:
        drill.figures["rejected at POST (first)"] = rejected[0]


def counts_check(drill: Drill, system, expected, deliveries) -> None:
    from tests.faults.workload import Tally, db_retry, index_count

    drill.counts = db_retry(
        lambda: index_count(source_system=system, expected=expected, batches=len(deliveries))
    )
    accepted = sum(d.accepted for d in deliveries)
    drill.counts.append(
        Tally(
            "records accepted (202) = records sent",
            sum(len(d.records) for d in deliveries),
            accepted,
        )
    )
    drill.counts.append(
        Tally("deliveries that failed for good", 0, len([d for d in deliveries if not d.batch_id]))
    )
    from django.db.models import Max

    from indexes.models import InboxBatch

    batches = InboxBatch.objects.filter(source_system=system)
    drill.figures["batches enqueued again by the sweeper / most attempts"] = (
        f"{batches.filter(attempts__gt=1).count()} / {batches.aggregate(m=Max('attempts'))['m']}"
    )


def recovery_watch(drill: Drill, system, label: str) -> threading.Thread:
    """Time from now until every batch of ``system`` pending now is applied, in a thread.

    The figure "recovery after <label>" is what a source system waits, after the
    fault, for a delivery that was in flight: with a killed worker its task stays
    unacknowledged, with a lost Redis it is gone, and the sweeper must find it.
    """
    from django.db import connection

    from indexes.models import InboxBatch
    from tests.faults.workload import db_retry

    started = time.monotonic()
    pending = set(
        db_retry(
            lambda: list(
                InboxBatch.objects.filter(source_system=system, status="pending").values_list(
                    "id", flat=True
                )
            )
        )
    )

    def left() -> int:
        return InboxBatch.objects.filter(pk__in=pending, status="pending").count()

    def watch() -> None:
        try:
            wait_for(lambda: db_retry(left) == 0, timeout=900, interval=0.5, what=label)
            seconds = time.monotonic() - started
            drill.figures[f"recovery after {label} ({len(pending)} batches in flight)"] = (
                f"{seconds:.1f} s"
            )
            drill.event(f"every batch in flight at {label} applied after {seconds:.1f} s")
        except Exception as exc:
            drill.figures[f"recovery after {label}"] = f"not measured ({exc})"
        finally:
            connection.close()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


# --- scenarios -----------------------------------------------------------------------------


def ingest_under(stack: Stack, drill: Drill, args, fault, *, spread: float = 0.0) -> None:
    """Post the waves of ``args.cases`` cases with ``fault(poster, total)`` running beside,
    spread over at least ``spread`` seconds."""
    from tests.faults.workload import Delivery, Poster, waves

    run = uuid.uuid4().hex[:8]
    system, key = source_system_create(f"{drill.name}-{run}")
    bodies, expected = waves(run, args.cases)
    deliveries = [Delivery(records=body) for body in bodies]
    total = sum(len(d.records) for d in deliveries)
    processes_start(stack, drill)
    pace = spread * args.clients / len(deliveries)
    poster = Poster(port=stack.web_port, key=key, clients=args.clients, pace=pace)
    poster.start(deliveries)
    drill.event(f"posting {len(deliveries)} bodies ({total} records) with {args.clients} clients")
    fault(system, poster, total)
    poster.join(timeout=args.timeout)
    drill.event(f"posting done ({poster.posted} deliveries answered 202)")
    drill.figures["drain after posting"] = f"{wait_applied(drill, system, args.timeout):.1f} s"
    drill.event("inbox drained")
    posting_figures(drill, poster, deliveries)
    counts_check(drill, system, expected, deliveries)


def scenario_worker_kill(stack: Stack, drill: Drill, args) -> None:
    watchers: list[threading.Thread] = []

    def fault(system, poster, total):
        for round_, fraction in enumerate((0.15, 0.5), start=1):
            wait_progress(system, fraction, total, timeout=args.timeout)
            victim = next(p for p in stack.processes if p.name.startswith("w") and p.alive())
            victim.kill(signal.SIGKILL)
            drill.event(f"SIGKILL {victim.name} (round {round_}) at {fraction:.0%} applied")
            watchers.append(recovery_watch(drill, system, f"kill {round_}"))
            stack.processes.remove(victim)
            time.sleep(1.0)
            stack.worker(f"{victim.name}r")
            drill.event(f"{victim.name} replaced")
        drill.figures["workers killed"] = 2

    ingest_under(stack, drill, args, fault)
    for watcher in watchers:
        watcher.join(timeout=args.timeout)


def scenario_redis_stop(stack: Stack, drill: Drill, args) -> None:
    def fault(system, poster, total):
        wait_progress(system, 0.05, total, timeout=args.timeout)
        stack.redis.stop()
        poster.phase = "while Redis is down"
        drill.event(f"Redis stopped for {args.redis_down:.0f} s; clients keep posting")
        down = time.monotonic()
        time.sleep(args.redis_down)
        stack.redis.start()
        poster.phase = "after Redis is back"
        drill.figures["Redis down"] = f"{time.monotonic() - down:.1f} s"
        drill.event("Redis started again (empty: every queued task was lost)")
        watchers.append(recovery_watch(drill, system, "Redis restart"))

    watchers: list[threading.Thread] = []
    # Clients post before, during and after the outage.
    ingest_under(stack, drill, args, fault, spread=args.redis_down + 15)
    for watcher in watchers:
        watcher.join(timeout=args.timeout)


def scenario_postgres_restart(stack: Stack, drill: Drill, args) -> None:
    def fault(system, poster, total):
        took = []
        for round_, fraction in enumerate((0.15, 0.5), start=1):
            wait_progress(system, fraction, total, timeout=args.timeout)
            poster.phase = f"around restart {round_}"
            took.append(stack.postgres.restart(mode=args.pg_mode))
            drill.event(f"pg_ctl restart -m {args.pg_mode} (round {round_}) took {took[-1]:.1f} s")
            time.sleep(2.0)
            poster.phase = f"after restart {round_}"
        drill.figures["PostgreSQL restarts"] = ", ".join(f"{t:.1f} s" for t in took)

    ingest_under(stack, drill, args, fault)


def scenario_replay(stack: Stack, drill: Drill, args) -> None:
    from indexes.models import InboxRecord
    from tests.faults.workload import (
        Delivery,
        Poster,
        Tally,
        db_retry,
        index_count,
        replay_messages,
    )

    run = uuid.uuid4().hex[:8]
    system, key = source_system_create(f"replay-{run}")
    cases = args.replay_messages * 2 // 5
    messages, expected = replay_messages(run, cases)
    twice = messages + messages
    random.Random(run).shuffle(twice)
    deliveries = [Delivery(records=twice[i : i + 1000]) for i in range(0, len(twice), 1000)]
    drill.figures["messages / delivered"] = f"{len(messages)} / {len(twice)} (twice, shuffled)"
    processes_start(stack, drill)
    poster = Poster(port=stack.web_port, key=key, clients=args.clients).start(deliveries)
    poster.join(timeout=args.timeout)
    wait_applied(drill, system, args.timeout)
    drill.event(f"{len(deliveries)} deliveries posted and applied")
    # A document that named a case not yet delivered was rejected; the sender
    # delivers it again (at most 5 rounds), as a real source system would.
    all_deliveries, latest = list(deliveries), deliveries
    for round_ in range(1, 6):
        again = _rejected_documents(system, latest)
        if not again:
            break
        retry = [Delivery(records=again[i : i + 1000]) for i in range(0, len(again), 1000)]
        drill.event(f"round {round_}: {len(again)} rejected documents delivered again")
        Poster(port=stack.web_port, key=key, clients=1).start(retry).join(timeout=args.timeout)
        wait_applied(drill, system, args.timeout)
        all_deliveries += retry
        latest = retry
        drill.figures[f"redelivered in round {round_}"] = len(again)
    posting_figures(drill, poster, deliveries)

    drill.counts = [
        c
        for c in db_retry(
            lambda: index_count(
                source_system=system, expected=expected, batches=len(all_deliveries)
            )
        )
        if c.name != "records rejected"
    ]
    drill.counts.append(
        Tally(
            "rejections other than 'case not yet delivered'",
            0,
            sum(
                1
                for problems in InboxRecord.objects.filter(
                    batch__source_system=system, outcome="rejected"
                ).values_list("problems", flat=True)
                if not _names_missing_case(problems)
            ),
        )
    )


def _names_missing_case(problems: list[dict]) -> bool:
    return bool(problems) and all(p.get("code") == "unknown_case" for p in problems)


def _rejected_documents(system, deliveries) -> list[dict]:
    """The records of ``deliveries`` rejected for naming a case not (yet) in the index."""
    from indexes.models import InboxRecord

    again = []
    for delivery in deliveries:
        at_post = {r["index"] for r in delivery.rejected if _names_missing_case(r["problems"])}
        at_apply = {
            position
            for position, problems in InboxRecord.objects.filter(
                batch_id=delivery.batch_id, outcome="rejected"
            ).values_list("position", "problems")
            if _names_missing_case(problems)
        }
        again += [delivery.records[i] for i in sorted(at_post | at_apply)]
    return again


def scenario_polls(stack: Stack, drill: Drill, args) -> None:
    from django.db.models import Count

    from indexes.models import FeedPoll
    from simulators.http import simulator_server_start
    from tests.faults.workload import (
        Tally,
        db_retry,
        feed_count,
        feed_simulator,
        feeds_finished,
        feeds_read,
        feeds_register,
    )

    # The simulated systems, served over HTTP from this process (the drill's workers poll it).
    os.environ["SIMULATORS_URL"] = simulator_server_start().base_url
    feeds = feeds_register(citizens=args.poll_citizens, every_seconds=2)
    changes = sum(len(feed_simulator(feed).log) for feed in feeds)
    drill.figures["feeds / changes in their logs"] = f"{len(feeds)} / {changes}"
    processes_start(stack, drill)

    def read() -> int:
        return db_retry(lambda: feeds_read(feeds))

    wait_for(lambda: read() >= 0.2 * changes, timeout=args.timeout, what="20 % read")
    victim = next(p for p in stack.processes if p.name.startswith("w") and p.alive())
    victim.kill(signal.SIGKILL)
    stack.processes.remove(victim)
    drill.event(f"SIGKILL {victim.name} at {read()} of {changes} changes read")
    time.sleep(1.0)
    stack.worker(f"{victim.name}r")
    wait_for(lambda: read() >= 0.5 * changes, timeout=args.timeout, what="50 % read")
    stack.redis.stop()
    drill.event(f"Redis stopped for {args.poll_redis_down:.0f} s at {read()} changes read")
    time.sleep(args.poll_redis_down)
    stack.redis.start()
    drill.event("Redis started again")
    started = time.monotonic()
    wait_for(
        lambda: db_retry(lambda: feeds_finished(feeds)),
        timeout=args.timeout,
        interval=0.5,
        what="every feed read to its end",
    )
    drill.figures["read to the end after Redis returned"] = f"{time.monotonic() - started:.1f} s"
    processes_stop(stack)
    drill.figures["polls by status"] = dict(
        FeedPoll.objects.filter(feed__in=feeds).values_list("status").annotate(n=Count("id"))
    )
    drill.counts = [tally for feed in feeds for tally in feed_count(feed)]
    drill.counts.append(Tally("changes read (all feeds)", changes, read()))


RUNNERS = {
    "worker-kill": scenario_worker_kill,
    "redis-stop": scenario_redis_stop,
    "postgres-restart": scenario_postgres_restart,
    "replay": scenario_replay,
    "polls": scenario_polls,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=(*SCENARIOS, "all"), default="all")
    parser.add_argument("--cases", type=int, default=4000, help="cases per ingestion drill")
    parser.add_argument("--clients", type=int, default=4, help="posting client threads")
    parser.add_argument("--redis-down", type=float, default=60.0, help="seconds")
    parser.add_argument(
        "--pg-mode",
        choices=("fast", "immediate"),
        default="fast",
        help="pg_ctl restart mode (immediate: a crash, recovery from the WAL)",
    )
    parser.add_argument("--replay-messages", type=int, default=10000)
    parser.add_argument("--poll-citizens", type=int, default=120)
    parser.add_argument("--poll-redis-down", type=float, default=20.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=600.0, help="bound of every wait")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--production-sweep",
        action="store_true",
        help="keep the inbox sweep's production defaults (config/settings/base.py: every "
        "15 s, batches not enqueued for 30 s) instead of the drills' 5 s / 15 s, to measure "
        "recovery as production sees it",
    )
    args = parser.parse_args()

    missing = services_missing()
    if missing:
        print(f"FAIL: {missing}")
        return 2
    names = SCENARIOS if args.scenario == "all" else (args.scenario,)
    if args.production_sweep:
        stack = Stack(sweep_every=None, sweep_after=None)
    else:
        stack = Stack(sweep_every=5.0, sweep_after=15)
    print(f"Private services and logs under {stack.root}", flush=True)
    sweep = "production defaults" if args.production_sweep else "every 5 s, batches older than 15 s"
    print(f"Inbox sweep: {sweep}", flush=True)
    drills = []
    # A SIGTERM (e.g. from `timeout`) still stops every child via the finally below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        started = time.monotonic()
        stack.start_services()
        migrated = stack.migrate()
        print(
            f"PostgreSQL on :{stack.postgres.port}, Redis on :{stack.redis.port}, "
            f"migrated in {migrated:.1f} s ({time.monotonic() - started:.1f} s in all)",
            flush=True,
        )
        django_setup(stack)
        for name in names:
            drill = Drill(name)
            drills.append(drill)
            print(f"\n-- {name}", flush=True)
            try:
                RUNNERS[name](stack, drill, args)
            except Exception as exc:  # a drill that breaks is a FAIL, the next one still runs
                drill.error = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            finally:
                processes_stop(stack)
                if not stack.redis.process:
                    stack.redis.start()
            drill.report()
    finally:
        stack.close()
        if not args.keep:
            stack.remove()
    print("SUMMARY")
    for drill in drills:
        print(f"  {drill.name:18} {'PASS' if drill.ok else 'FAIL'}")
    return 0 if drills and all(d.ok for d in drills) else 1


if __name__ == "__main__":
    threading.excepthook = lambda hook: traceback.print_exception(hook.exc_value)
    sys.exit(main())
