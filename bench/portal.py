"""Portal benchmark: the citizen's overview and case page at index scale, against raw SQL.

On a database of its own (created and migrated when missing, KLE imported by
kle_ensure), the index is grown to ``--cases`` cases (default 1,000,000) with
``manage.py simulate``'s generator (PostgreSQL COPY; new citizens are added to
what is there, never duplicated) and every municipality gets a Borgerblikket
sheet that exposes the generated cases' KLE emner. Then a real gunicorn
(loopback only, ``bench.portal_settings``: the production URLs plus one empty
view) serves ``--samples`` random citizens, each with a server-side session made
as the OIDC callback makes it, and the run times, interleaved, per citizen:

    overview   GET /overblik/ (a logged-in citizen's overview page)
    case       GET /sager/<id>/ (one of that citizen's visible cases)
    empty      GET /bench/empty/ with the same session: the middleware stack
               (session, user, sliding session) and no page — Django's request overhead
    raw SQL    the very SQL statements each page sent (captured per citizen), run
               with psycopg on one open connection: the database's share, no ORM
               and no template

Times are from sending the request to reading the last byte of the response
over a keep-alive loopback connection (gunicorn gthread), in milliseconds; p50,
p95 and max; next to them the worker's own wall time and the CPU time its
thread used for the request (a ``Server-Timing`` header that only the bench
settings add): on a shared machine the CPU time shows what a page costs when
the wall time also holds waiting for a core. Citizens are drawn at random over the cases (so citizens with
more cases are drawn more often) plus the citizens with the most cases in a
sample. It prints the queries per page and EXPLAIN (ANALYZE, BUFFERS) of each
page query for one citizen.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_portal_bench \\
    .venv/bin/python bench/portal.py --cases 1000000 --samples 300

``--json FILE`` also writes the figures (bench/scale.py uses it). Figures and
how to read them: docs/performance.md, section "Portal and national scale".
"""

import argparse
import http.client
import json
import math
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply, load_average, percentile  # noqa: E402 - after sys.path

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.portal_settings"
os.environ.pop("CELERY_BROKER_URL", None)  # the pages do not queue tasks
# Persistent database connections, as production runs (config/settings/production.py).
os.environ.setdefault("DJANGO_CONN_MAX_AGE", "60")

HOST = "127.0.0.1"
PORT = 0  # main() sets it from --port (default: a free port)
CASES_PER_CITIZEN = 2.2  # simulators.bulk.CASES_PER_CITIZEN's mean
# Queries of the request machinery, not of the page (session, user, citizen touch).
MACHINERY_TABLES = ('"django_session"', '"auth_user"', '"overblik_citizen"')


def django_setup() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("kle_ensure", verbosity=0)


# --- the population ------------------------------------------------------------------------


def _steps_table_ensure(cursor) -> None:
    cursor.execute(
        """
        CREATE TABLE IF NOT EXISTS bench_population_step (
            id serial PRIMARY KEY, cpr_base bigint NOT NULL, citizens bigint NOT NULL,
            cases bigint NOT NULL, rows bigint NOT NULL, seconds double precision NOT NULL,
            generate_seconds double precision NOT NULL, prefix text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now())
        """
    )


def cases_count() -> int:
    """Cases in the index (the planner's estimate first; exact when it is small)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = 'indexes_case'")
        estimate = cursor.fetchone()[0]
        if estimate > 2_000_000:
            return estimate
        cursor.execute("SELECT count(*) FROM indexes_case")
        return cursor.fetchone()[0]


def population_grow(*, cases: int, municipalities: int, seed: int) -> dict | None:
    """Add citizens until the index holds about ``cases`` cases; the generator's report.

    The generator (simulators/bulk.py, as ``manage.py simulate``) numbers its
    citizens from ``BULK_CPR_BASE``; each step starts after the citizens of the
    steps before it (kept in ``bench_population_step``), so a step adds new
    citizens instead of more cases to the same ones. It drops the tables'
    secondary indexes and foreign keys and rebuilds them over the whole table.
    """
    from django.db import connection

    from simulators import bulk

    have = cases_count()
    if have >= cases * 0.98:
        return None
    with connection.cursor() as cursor:
        _steps_table_ensure(cursor)
        cursor.execute(
            "SELECT coalesce(sum(citizens), 0)::bigint, count(*) FROM bench_population_step"
        )
        citizens_before, steps_before = cursor.fetchone()
        if have and not steps_before:
            # Loaded by a plain `manage.py simulate`: its citizens are the first ones.
            cursor.execute(
                "SELECT count(DISTINCT party_cpr) FROM indexes_case WHERE external_id LIKE 'bulk%%'"
            )
            citizens_before = cursor.fetchone()[0]
    citizens = math.ceil((cases - have) / CASES_PER_CITIZEN)
    original_base = bulk.BULK_CPR_BASE
    # Only this process's generator sees the moved base: the next citizens, not the same ones.
    bulk.BULK_CPR_BASE = original_base + citizens_before
    phases: list[tuple[float, str]] = []
    started = time.perf_counter()
    try:
        report = bulk.population_load(
            citizens=citizens,
            municipalities=municipalities,
            seed=seed + steps_before,
            progress=lambda message: phases.append((time.perf_counter() - started, message)),
        )
    finally:
        bulk.BULK_CPR_BASE = original_base
    rebuild = next((t for t, m in phases if m.startswith("rebuilding")), report.seconds)
    prefix = _latest_prefix()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_population_step (cpr_base, citizens, cases, rows, seconds, "
            "generate_seconds, prefix) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [bulk.BULK_CPR_BASE + citizens_before, citizens, report.cases, report.total_rows,
             report.seconds, rebuild, prefix],
        )  # fmt: skip
    return {
        "citizens": citizens,
        "cases": report.cases,
        "rows": report.rows,
        "total_rows": report.total_rows,
        "seconds": report.seconds,
        "generate_copy_seconds": rebuild,
        "rebuild_seconds": report.seconds - rebuild,
        "prefix": prefix,
        "summary": report.summary(),
    }


def _latest_prefix() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT split_part(external_id, '-', 1) FROM indexes_case "
            "WHERE external_id LIKE 'bulk%%' ORDER BY id DESC LIMIT 1"
        )
        return cursor.fetchone()[0]


def sheets_ensure() -> int:
    """Every municipality shows the generated kinds' KLE emner (its sheet and rows).

    Fradato 2019-01-01 (the generator's first case date) for most emner and a
    later one for a few, so both branches of the rule are exercised; document
    titles shown by every other municipality, titles from the case or from KLE.
    """
    from borgerblikket.models import Sheet, SheetRow, TitleSource
    from indexes.models import Municipality
    from kle.models import Subject
    from simulators.catalogue import KINDS, SERVICES, kle_overrides_for

    subjects = dict(Subject.objects.values_list("number", "id"))
    overrides = kle_overrides_for(present=set(subjects))
    numbers = set()
    for key, kind in KINDS.items():
        numbers.add(overrides.get(key, kind.kle))
        if kind.benefit:
            numbers.add(kind.benefit.kle)
    numbers.update(service.kle for service in SERVICES.values())
    numbers = sorted(n for n in numbers if n in subjects)
    rows = []
    for index, municipality in enumerate(Municipality.objects.order_by("code")):
        Sheet.objects.update_or_create(
            municipality=municipality,
            defaults={
                "show_document_titles": index % 2 == 0,
                "show_active_cases_before_show_from": index % 3 == 0,
                "title_source": TitleSource.CASE if index % 2 else TitleSource.KLE,
            },
        )
        for k, number in enumerate(numbers):
            rows.append(
                SheetRow(
                    municipality=municipality,
                    kle_subject_id=subjects[number],
                    show_from="2021-06-01" if (k + index) % 7 == 0 else "2019-01-01",
                    contact_department=f"{municipality.name} Kommune, Borgerservice",
                    contact_phone="70101010",
                )
            )
    SheetRow.objects.bulk_create(rows, ignore_conflicts=True)
    return len(numbers)


# --- citizens and their sessions -------------------------------------------------------------


def citizens_pick(count: int, seed: int) -> list[str]:
    """CPR numbers: random cases' primary parties, plus the ones with the most cases."""
    from django.db import connection

    rng = random.Random(seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM indexes_case")
        low, high = cursor.fetchone()
        ids = [rng.randint(low, high) for _ in range(count * 20)]
        cursor.execute(
            "SELECT party_cpr FROM indexes_case WHERE id = ANY(%s) AND party_cpr IS NOT NULL",
            [ids],
        )
        drawn = list(dict.fromkeys(row[0] for row in cursor.fetchall()))
        rng.shuffle(drawn)
        cursor.execute(
            "SELECT party_cpr FROM indexes_case WHERE party_cpr = ANY(%s) "
            "GROUP BY party_cpr ORDER BY count(*) DESC LIMIT %s",
            [drawn, max(1, count // 10)],
        )
        most = [row[0] for row in cursor.fetchall()]
    picked = list(dict.fromkeys(most + drawn))
    return picked[: count * 3]  # some have no visible case; the caller drops those


def session_create(cpr: str) -> str:
    """A server-side session as the OIDC callback leaves it (overblik/auth.py)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from overblik import session as keys
    from overblik.services import citizen_get_or_create

    citizen = citizen_get_or_create(cpr=cpr)
    user = citizen.user
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = time.time()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "overblik.auth.CitizenOIDCBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store[keys.CPR] = cpr
    store[keys.NAME] = "Benchmark Borger"
    store[keys.CITIZEN_ID] = citizen.pk
    store[keys.SINCE] = None
    store[keys.LOGIN_AT] = now
    store[keys.LAST_ACTIVITY] = now
    store.set_expiry(settings.OVERBLIK_SESSION_IDLE_SECONDS + keys.TOUCH_INTERVAL)
    store.create()
    return store.session_key


def visitors_make(count: int, seed: int) -> list[dict]:
    """``count`` citizens with a session and one visible case each."""
    from borgerblikket.selectors import cases_visible_to_citizen

    rng = random.Random(seed + 1)
    visitors = []
    for cpr in citizens_pick(count, seed):
        case_ids = list(cases_visible_to_citizen(cpr=cpr).values_list("id", flat=True)[:50])
        if not case_ids:
            continue
        visitors.append(
            {"cpr": cpr, "session": session_create(cpr), "case": rng.choice(case_ids),
             "cases": len(case_ids)}
        )  # fmt: skip
        if len(visitors) == count:
            break
    return visitors


# --- the server -----------------------------------------------------------------------------


class Server:
    """gunicorn (gthread, keep-alive) on loopback, stopped by ``stop()``."""

    def __init__(self, *, workers: int = 2, threads: int = 4, log_name: str = "bench-portal"):
        (ROOT / "var").mkdir(exist_ok=True)
        log = open(ROOT / "var" / f"{log_name}.log", "ab")  # noqa: SIM115
        env = os.environ | {"PYTHONUNBUFFERED": "1", "DJANGO_DEBUG": "false"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"{HOST}:{PORT}",
             "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
             "--keep-alive", "30", "--timeout", "60", "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip

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
        raise RuntimeError("gunicorn did not answer; see var/bench-portal.log")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)


class Browser:
    """One keep-alive connection; times a GET from sending to the last byte."""

    def __init__(self):
        from django.conf import settings

        self.cookie_name = settings.SESSION_COOKIE_NAME
        self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)

    def get(self, path: str, session: str) -> tuple[float, int, dict[str, float]]:
        """Milliseconds to the last byte, the status, and the Server-Timing durations."""
        headers = {"Cookie": f"{self.cookie_name}={session}", "Host": HOST}
        started = time.perf_counter()
        try:
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        except (http.client.HTTPException, OSError):
            self.connection.close()
            self.connection = http.client.HTTPConnection(HOST, PORT, timeout=30)
            started = time.perf_counter()
            self.connection.request("GET", path, headers=headers)
            response = self.connection.getresponse()
            body = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        del body
        timing = {}
        for part in (response.getheader("Server-Timing") or "").split(","):
            name, _, duration = part.strip().partition(";dur=")
            if duration:
                timing[name] = float(duration)
        return elapsed, response.status, timing


# --- raw SQL: the page's own statements -------------------------------------------------------


def page_statements(path: str, session: str) -> list[str]:
    """The SQL a page sends for its data (not session/user), captured in-process."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST=HOST)
    client.cookies[settings.SESSION_COOKIE_NAME] = session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    if response.status_code != 200:
        raise RuntimeError(f"{path} answered {response.status_code} in-process")
    return [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].lstrip().upper().startswith("SELECT")
        and not any(table in query["sql"].split(" WHERE ")[0] for table in MACHINERY_TABLES)
    ]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "max": max(values),
    }


def _plan_nodes(node: dict, depth: int = 0) -> list[str]:
    name = node["Node Type"]
    if "Index Name" in node:
        name += f" using {node['Index Name']}"
    elif "Relation Name" in node:
        name += f" on {node['Relation Name']}"
    if node.get("Parent Relationship") == "SubPlan" or node.get("Subplan Name"):
        name = f"[{node.get('Subplan Name', 'SubPlan')}] " + name
    lines = [f"{'  ' * depth}{name} (rows {node.get('Actual Rows', 0)}, "
             f"loops {node.get('Actual Loops', 1)})"]  # fmt: skip
    for child in node.get("Plans", []):
        lines += _plan_nodes(child, depth + 1)
    return lines


def _outer_table(sql: str) -> str:
    """The table the statement's outermost FROM names (not a subquery's)."""
    depth = 0
    for n, char in enumerate(sql):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and sql.startswith(' FROM "', n):
            return sql[n + 7 :].split('"', 1)[0]
    return "?"


def explain(statements: list[str], dsn: str) -> list[dict]:
    """EXPLAIN (ANALYZE, BUFFERS) of each statement: time, buffers and the plan's nodes."""
    import psycopg

    plans = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for sql in statements:
            plan = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}").fetchone()[0]
            top = plan[0]
            root = top["Plan"]
            table = _outer_table(sql)
            plans.append({
                "table": table,
                "execution_ms": top["Execution Time"],
                "planning_ms": top["Planning Time"],
                "shared_hit": root.get("Shared Hit Blocks", 0),
                "shared_read": root.get("Shared Read Blocks", 0),
                "nodes": _plan_nodes(root),
            })  # fmt: skip
    return plans


def _dsn() -> str:
    from django.db import connection

    params = connection.get_connection_params()
    return " ".join(
        f"{key}={params[key]}"
        for key in ("host", "port", "dbname", "user", "password")
        if params.get(key)
    )


# --- the run --------------------------------------------------------------------------------


def measure(*, samples: int, seed: int, warmup: int = 20) -> dict:
    """Overview, case page, empty view and raw SQL for ``samples`` citizens, interleaved."""
    import psycopg

    visitors = visitors_make(samples, seed)
    if not visitors:
        raise RuntimeError("no citizen with a visible case: are the sheets there?")
    dsn = _dsn()
    statements = {}
    for visitor in visitors:
        statements[visitor["cpr"]] = {
            "overview": page_statements("/overblik/", visitor["session"]),
            "case": page_statements(f"/sager/{visitor['case']}/", visitor["session"]),
        }
    server = Server()
    kinds = ("overview", "case", "empty")
    times: dict[str, list[float]] = {
        name: []
        for name in (*kinds, *(f"{k}_{t}" for k in kinds for t in ("app", "cpu")),
                     "overview_sql", "case_sql")
    }  # fmt: skip
    errors = 0
    try:
        server.wait_ready()
        browser = Browser()
        raw = psycopg.connect(dsn, autocommit=True)
        rng = random.Random(seed + 2)

        def run_raw(sqls: list[str]) -> float:
            started = time.perf_counter()
            for sql in sqls:
                raw.execute(sql).fetchall()
            return (time.perf_counter() - started) * 1000

        for n, visitor in enumerate(visitors[:warmup] + visitors):
            counted = n >= min(warmup, len(visitors))
            session = visitor["session"]
            work = [
                ("overview", lambda s=session: browser.get("/overblik/", s)),
                ("case", lambda s=session, v=visitor: browser.get(f"/sager/{v['case']}/", s)),
                ("empty", lambda s=session: browser.get("/bench/empty/", s)),
                ("overview_sql", lambda v=visitor: run_raw(statements[v["cpr"]]["overview"])),
                ("case_sql", lambda v=visitor: run_raw(statements[v["cpr"]]["case"])),
            ]
            rng.shuffle(work)
            for name, call in work:
                result = call()
                if isinstance(result, tuple):
                    elapsed, status, timing = result
                    if status != 200:
                        errors += 1
                        continue
                    if counted:
                        times[f"{name}_app"].append(timing.get("app", 0.0))
                        times[f"{name}_cpu"].append(timing.get("cpu", 0.0))
                else:
                    elapsed = result
                if counted:
                    times[name].append(elapsed)
        raw.close()
    finally:
        server.stop()
    heavy = max(visitors, key=lambda v: v["cases"])
    return {
        "citizens": len(visitors),
        "max_visible_cases": heavy["cases"],
        "errors": errors,
        "times": {name: summary(values) for name, values in times.items() if values},
        "queries": {
            "overview": len(statements[heavy["cpr"]]["overview"]),
            "case": len(statements[heavy["cpr"]]["case"]),
        },
        "plans": {
            "overview": explain(statements[heavy["cpr"]]["overview"], dsn),
            "case": explain(statements[heavy["cpr"]]["case"], dsn),
        },
    }


def sizes() -> dict:
    """Rows (estimated), table and index sizes of the index's tables, in bytes."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.reltuples::bigint, pg_relation_size(c.oid),
                   pg_indexes_size(c.oid), pg_total_relation_size(c.oid)
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r'
              AND c.relname IN ('indexes_case', 'indexes_caseprogress', 'indexes_document',
                  'indexes_casedocument', 'indexes_grant', 'indexes_grantedbenefit',
                  'indexes_paymentplan', 'indexes_payment')
            ORDER BY pg_total_relation_size(c.oid) DESC
            """
        )
        return {
            name: {"rows": rows, "table": table, "indexes": indexes, "total": total}
            for name, rows, table, indexes, total in cursor.fetchall()
        }


def report_print(result: dict) -> None:
    t = result["times"]
    print(
        f"{result['citizens']} citizens (at most {result['max_visible_cases']} visible cases "
        f"each), {t['overview']['n']} requests per kind, {result['errors']} errors"
    )
    print(
        f"{'milliseconds':14}{'p50':>8}{'p95':>8}{'max':>8}   in the worker: "
        f"{'p50':>6}{'p95':>7}   its CPU: {'p50':>6}{'p95':>7}"
    )
    for name, label in (
        ("overview", "overview page"),
        ("overview_sql", "  its raw SQL"),
        ("case", "case page"),
        ("case_sql", "  its raw SQL"),
        ("empty", "empty view"),
    ):
        s = t[name]
        line = f"{label:14}{s['p50']:8.1f}{s['p95']:8.1f}{s['max']:8.1f}"
        if f"{name}_app" in t:
            app, cpu = t[f"{name}_app"], t[f"{name}_cpu"]
            line += (
                f"   {'':14}{app['p50']:6.1f}{app['p95']:7.1f}   {'':8}{cpu['p50']:6.1f}"
                f"{cpu['p95']:7.1f}"
            )
        print(line)
    q = result["queries"]
    print(f"page queries (besides session and user): overview {q['overview']}, case {q['case']}")
    for page, plans in result["plans"].items():
        print(f"EXPLAIN (ANALYZE, BUFFERS), {page} page, citizen with the most cases:")
        for plan in plans:
            print(
                f"  {plan['table']}: {plan['execution_ms']:.2f} ms (+{plan['planning_ms']:.2f} "
                f"planning), buffers hit {plan['shared_hit']} read {plan['shared_read']}"
            )
            for line in plan["nodes"][:8]:
                print(f"      {line}")
            if len(plan["nodes"]) > 8:
                print(f"      … {len(plan['nodes']) - 8} more nodes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--municipalities", type=int, default=98)
    parser.add_argument("--samples", type=int, default=300, help="citizens (requests per kind)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    flags_add(parser, database="overblik_portal_bench")
    args = parser.parse_args()
    global PORT
    PORT = flags_apply(args)

    load_start = load_average()
    database_ensure()
    django_setup()
    grown = population_grow(cases=args.cases, municipalities=args.municipalities, seed=args.seed)
    if grown:
        print(f"generated: {grown['summary']}")
    emner = sheets_ensure()
    result = measure(samples=args.samples, seed=args.seed)
    result["cases"] = cases_count()
    result["sizes"] = sizes()
    result["load_average"] = {"start": load_start, "end": load_average()}
    print(
        f"machine: {os.cpu_count()} cores, load average {load_start} at start, "
        f"{load_average()} at end (1/5/15 min; other processes share the cores); "
        f"gunicorn 2 workers x 4 threads; index {result['cases']:,} cases, "
        f"sheets expose {emner} KLE emner in every municipality"
    )
    report_print(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
