"""Runs inside a drill's private database (the child's DATABASE_URL): set-up and counting.

The test process's own Django is bound to the suite's database, so a drill's
database is read by this small command instead, one JSON document on stdout:

    python -m tests.faults.probe kle
    python -m tests.faults.probe setup NAME            -> {"system": id, "key": "..."}
    python -m tests.faults.probe count SYSTEM CASES DOCUMENTS BATCHES
                                                       -> [{"name", "expected", "actual"}]
    python -m tests.faults.probe polls-setup CITIZENS  -> {"feeds": [ids], "changes": n}
    python -m tests.faults.probe polls-count FEED...   -> [{"name", "expected", "actual"}]
    python -m tests.faults.probe portal                -> {"session", "cookie", "cases": [ids]}
"""

import json
import os
import sys


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
    import django

    django.setup()
    command, *args = argv
    if command == "kle":
        from tests.feeds.conftest import kle_fixture_load

        kle_fixture_load()
        print(json.dumps({"ok": True}))
    elif command == "setup":
        from tests.faults.workload import source_system_create

        system, key = source_system_create(args[0])
        print(json.dumps({"system": system.pk, "key": key}))
    elif command == "count":
        from indexes.models import SourceSystem
        from tests.faults.workload import Expected, index_count

        system = SourceSystem.objects.get(pk=int(args[0]))
        tallies = index_count(
            source_system=system,
            expected=Expected(cases=int(args[1]), documents=int(args[2])),
            batches=int(args[3]),
        )
        print(
            json.dumps(
                [{"name": t.name, "expected": t.expected, "actual": t.actual} for t in tallies]
            )
        )
    elif command == "polls-setup":
        from tests.faults.workload import feed_simulator, feeds_register

        feeds = feeds_register(citizens=int(args[0]), every_seconds=1, max_pages=3)
        print(
            json.dumps(
                {
                    "feeds": [f.pk for f in feeds],
                    "changes": sum(len(feed_simulator(f).log) for f in feeds),
                }
            )
        )
    elif command == "polls-count":
        from indexes.models import SourceFeed
        from tests.faults.workload import feed_count

        feeds = SourceFeed.objects.select_related("source_system").filter(pk__in=args)
        tallies = [t for feed in feeds for t in feed_count(feed)]
        print(
            json.dumps(
                [{"name": t.name, "expected": t.expected, "actual": t.actual} for t in tallies]
            )
        )
    elif command == "portal":
        from tests.faults.workload import portal_citizen

        print(json.dumps(portal_citizen()))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
