"""Benchmark: importing the real KLE emneplan, against raw lxml and PostgreSQL COPY baselines.

Run (PostgreSQL required; a scratch database ``<name>_kle_bench`` is created and dropped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik .venv/bin/python bench/kle_import.py

Every phase runs in its own child process, so its peak RSS (``ru_maxrss``) is its own;
timings are medians of ``--repeat`` runs without tracemalloc, and the Python heap peak
comes from one extra run with tracemalloc on. Phases:

    startup    Django set up, nothing else (the RSS floor of every child)
    parse      baseline: raw lxml parse of the file and a walk over every item
    validate   lxml parse + validation against the official XSD
    records    parse + validate + building the import records (titles, guidance via nh3, …)
    copy       baseline: PostgreSQL COPY of the same rows into a scratch copy of kle_subject
    import     kle_import of the file into empty KLE tables (what `import_kle` does)
    select     baseline: fetching every kle_subject row with psycopg (the floor of a re-import)
    reimport   kle_import of the same file again (no changes)
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml"
PHASES = ["startup", "parse", "validate", "records", "copy", "import", "select", "reimport"]
TARGETS = {"import": 10.0, "reimport": 5.0}  # seconds, on the 2-core reference machine
KLE_TABLES = [
    "kle_keyword",
    "kle_succession",
    "kle_subject",
    "kle_facet",
    "kle_facetcategory",
    "kle_publication",
]


# --- child: one measured phase ------------------------------------------------


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "false")  # DEBUG keeps every query in memory
    import django

    django.setup()


def _records(path: Path):
    from kle.services.importer import kle_file_load

    return kle_file_load(source=str(path)).records.records


def _phase(name: str, path: Path):
    """Return a function running the phase, after any untimed preparation."""
    from django.db import connection
    from lxml import etree

    if name == "startup":
        return lambda: None
    if name == "parse":

        def parse():
            root = etree.parse(str(path)).getroot()
            return sum(
                1
                for tag in ("Hovedgruppe", "Gruppe", "Emne")
                for element in root.iter(tag)
                if element.findtext(f"{tag}Nr") and element.findtext(f"{tag}Titel")
            )

        return parse
    if name == "validate":
        from kle.services.documents import kle_document_load

        return lambda: kle_document_load(source=str(path), timeout=1)
    if name == "records":
        return lambda: _records(path)
    if name == "copy":
        rows = _copy_rows(_records(path))
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_kle_subject")
            cursor.execute("CREATE TABLE bench_kle_subject (LIKE kle_subject INCLUDING ALL)")

        def copy():
            columns = ", ".join(COPY_COLUMNS)
            with connection.cursor() as cursor:
                raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
                with raw.copy(f"COPY bench_kle_subject ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            return len(rows)

        return copy
    if name == "select":

        def select():
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM kle_subject")
                return len(cursor.fetchall())

        return select
    if name in ("import", "reimport"):
        from kle.services.importer import kle_import

        return lambda: kle_import(source=str(path), allow_older=True)
    raise ValueError(name)


COPY_COLUMNS = [
    "id",
    "number",
    "level",
    "parent_id",
    "title",
    "guidance_html",
    "created_on",
    "corrected_on",
    "expired_on",
    "moved_on",
    "successor_numbers",
    "retention_code",
    "deletion_period",
    "filters",
    "legal_references",
]


def _copy_rows(records) -> list[tuple]:
    ids = {record.key: index for index, record in enumerate(records, start=1)}
    rows = []
    for record in records:
        values = record.fields
        rows.append(
            (
                ids[record.key],
                record.key,
                record.level,
                ids.get(record.parent_key),
                values["title"],
                values["guidance_html"],
                values["created_on"],
                json.dumps(values["corrected_on"]),
                values["expired_on"],
                values["moved_on"],
                json.dumps(values["successor_numbers"]),
                values["retention_code"],
                values["deletion_period"],
                json.dumps(values["filters"]),
                json.dumps(values["legal_references"]),
            )
        )
    return rows


def child(name: str, path: Path, trace: bool) -> None:
    _setup_django()
    run = _phase(name, path)
    if trace:
        tracemalloc.start()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    peak = tracemalloc.get_traced_memory()[1] if trace else None
    summary = result.summary() if hasattr(result, "summary") else result
    print(
        json.dumps(
            {
                "phase": name,
                "wall": wall,
                "cpu": cpu,
                "traced_peak": peak,
                "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                "result": str(summary)[:200] if summary is not None else None,
            }
        )
    )


# --- parent: scratch database, repeats, report -----------------------------------


def _run_child(env: dict, name: str, path: Path, trace: bool) -> dict:
    command = [sys.executable, __file__, "--child", name, "--file", str(path)]
    if trace:
        command.append("--trace")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"phase {name} failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _truncate(env: dict) -> None:
    script = (
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        f"    c.execute('TRUNCATE {', '.join(KLE_TABLES)} RESTART IDENTITY CASCADE')\n"
        "    c.execute('DROP TABLE IF EXISTS bench_kle_subject')\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        env=env,
        cwd=ROOT,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=PHASES)
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.trace)
        return
    if not args.file.exists():
        raise SystemExit(f"{args.file} not found (pass --file)")
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (the COPY baseline needs it)")
    url = urlparse(database_url)
    scratch = f"{url.path.lstrip('/') or 'overblik'}_kle_bench"
    admin_env = os.environ | {
        "PGDATABASE": "postgres",
        "PGOPTIONS": "-c client_min_messages=warning",
    }
    host_args = ["-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432)]
    host_args += ["-U", url.username or "postgres"]
    subprocess.run(["dropdb", "--if-exists", *host_args, scratch], env=admin_env, check=True)
    subprocess.run(["createdb", *host_args, scratch], env=admin_env, check=True)
    env = os.environ | {
        "DATABASE_URL": urlunparse(url._replace(path=f"/{scratch}")),
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "CELERY_BROKER_URL": "",
    }
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
            env=env,
            cwd=ROOT,
            check=True,
        )
        runs: dict[str, list[dict]] = {phase: [] for phase in PHASES}
        traced: dict[str, dict] = {}
        for repeat in range(args.repeat + 1):
            trace = repeat == args.repeat  # the last round measures the Python heap
            _truncate(env)
            for phase in PHASES:
                measured = _run_child(env, phase, args.file, trace)
                if trace:
                    traced[phase] = measured
                else:
                    runs[phase].append(measured)
        _report(args.file, runs, traced, env)
    finally:
        subprocess.run(["dropdb", "--if-exists", *host_args, scratch], env=admin_env, check=False)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _report(path: Path, runs: dict, traced: dict, env: dict) -> None:
    query = (
        "from django.db import connection; v = connection.cursor().connection.info.server_version;"
        " print(f'{v // 10000}.{v % 10000}')"
    )
    version = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", query],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    print(f"# KLE import benchmark — {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    print(
        f"machine: {os.cpu_count()} CPUs ({_cpu_model()}), load average {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}, PostgreSQL {version}, "
        f"{len(runs['import'])} timed runs (median, min)"
    )
    print()
    print("| phase | wall s (median) | wall s (min) | CPU s | Python heap peak MB | max RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    for phase in PHASES:
        walls = [run["wall"] for run in runs[phase]]
        cpus = [run["cpu"] for run in runs[phase]]
        rss = max(run["maxrss_kib"] for run in runs[phase]) / 1024
        peak = traced[phase]["traced_peak"] / 1e6
        print(
            f"| {phase} | {statistics.median(walls):.3f} | {min(walls):.3f} | "
            f"{statistics.median(cpus):.3f} | {peak:.1f} | {rss:.0f} |"
        )
    print()
    for phase in ("import", "reimport"):
        print(f"{phase}: {runs[phase][-1]['result']}")
    copy_floor = statistics.median(r["wall"] for r in runs["parse"]) + statistics.median(
        r["wall"] for r in runs["copy"]
    )
    read_floor = statistics.median(r["wall"] for r in runs["parse"]) + statistics.median(
        r["wall"] for r in runs["select"]
    )
    imported = statistics.median(r["wall"] for r in runs["import"])
    reimported = statistics.median(r["wall"] for r in runs["reimport"])
    print(
        f"import   {imported:.2f} s = {imported / copy_floor:.1f}x the baseline "
        f"(raw parse + COPY {copy_floor:.2f} s); target < {TARGETS['import']:.0f} s: "
        f"{'met' if imported < TARGETS['import'] else 'MISSED'}"
    )
    print(
        f"reimport {reimported:.2f} s = {reimported / read_floor:.1f}x the baseline "
        f"(raw parse + SELECT {read_floor:.2f} s); target < {TARGETS['reimport']:.0f} s: "
        f"{'met' if reimported < TARGETS['reimport'] else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
