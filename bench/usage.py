"""Usage counting's cost on the citizen pages (issue 16): p50 with and without, same run.

Every data page adds one view to the usage counters (``borgerblikket.services.usage.
usage_count``: one INSERT … ON CONFLICT DO UPDATE). This bench builds the portal's test
citizen (Kim Borgersen: ``--cases`` cases in two municipalities, ``--payments``
payments) on a database of its own, logs in a session as the OIDC callback does, and
requests each page ``--rounds`` times in-process (Django's test client: the whole
middleware stack, view and template, no network), alternating
``OVERBLIK_USAGE_COUNTING`` off and on request by request, so both see the same machine.
It prints p50/p95 per page with and without, the difference, the queries per page, and
the counting statement alone (p50, hot rows: the same counters each time, as in a month).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/overblik_usage_bench \\
    .venv/bin/python bench/usage.py --rounds 200

Figures: docs/performance.md, section "Usage counting".
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.support import database_ensure, flags_add, flags_apply, load_average, percentile  # noqa: E402 - after sys.path

os.environ["DJANGO_SETTINGS_MODULE"] = "bench.portal_settings"
os.environ.pop("CELERY_BROKER_URL", None)  # the pages do not queue tasks


def setup(*, cases: int, payments: int):
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from tests.overblik import data as portal_data

    return portal_data.build(cases=cases, payments=payments)


def logged_in_client():
    """A client with Kim's session, as ``CitizenCallbackView.login_success`` writes it."""
    from django.test import Client

    from overblik import session as keys
    from overblik.services import citizen_get_or_create
    from tests.overblik.data import KIM

    citizen = citizen_get_or_create(cpr=KIM.cpr)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(citizen.user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    now = time.time()
    session.update(
        {
            keys.CPR: KIM.cpr,
            keys.NAME: KIM.name,
            keys.ASSURANCE: KIM.loa,
            keys.CITIZEN_ID: citizen.pk,
            keys.SINCE: None,
            keys.LOGIN_AT: now,
            keys.LAST_ACTIVITY: now,
        }
    )
    session.save()
    return client


def pages(data) -> dict[str, str]:
    return {
        "overview": "/overblik/",
        "cases": "/sager/",
        "case": f"/sager/{data.cases[0].pk}/",
        "benefits": "/ydelser/",
        "services": "/serviceydelser/",
        "service": f"/serviceydelser/{data.service.pk}/",
    }


def measure(client, urls: dict[str, str], rounds: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    times = {(name, on): [] for name in urls for on in (False, True)}
    queries = {}
    for name, url in urls.items():  # warm up, and count the queries once each way
        for on in (False, True):
            with override_settings(OVERBLIK_USAGE_COUNTING=on):
                with CaptureQueriesContext(connection) as captured:
                    assert client.get(url).status_code == 200, url
                queries[(name, on)] = len(captured)
    for index in range(rounds):
        for name, url in urls.items():
            # Alternate which goes first, so neither always follows the other.
            for on in (index % 2 == 0, index % 2 == 1):
                with override_settings(OVERBLIK_USAGE_COUNTING=on):
                    started = time.perf_counter()
                    response = client.get(url)
                    times[(name, on)].append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, url
    return {"times": times, "queries": queries}


def statement_alone(rounds: int) -> list[float]:
    from borgerblikket.models import UsageCount
    from borgerblikket.services.usage import usage_count

    shown = [("461", "32.24.04"), ("101", "27.24.06"), ("461", "27.24.06")]
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        usage_count(page_kind=UsageCount.PageKind.OVERVIEW, shown=shown)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--cases", type=int, default=25)
    parser.add_argument("--payments", type=int, default=14)
    flags_add(parser, database="overblik_usage_bench", port=False)
    args = parser.parse_args()
    flags_apply(args)
    database_ensure()
    data = setup(cases=args.cases, payments=args.payments)
    client = logged_in_client()
    print(f"load average before: {load_average()}")
    result = measure(client, pages(data), args.rounds)
    alone = statement_alone(args.rounds)
    print(f"load average after:  {load_average()}")
    print(f"{args.rounds} rounds, Kim with {args.cases} cases and {args.payments} payments")
    print(
        f"{'page':10} {'queries off/on':>15} {'p50 off':>8} {'p50 on':>8} {'diff':>7} "
        f"{'diff %':>7} {'p95 off':>8} {'p95 on':>8}"
    )
    diffs = []
    for name in pages(data):
        off, on = result["times"][(name, False)], result["times"][(name, True)]
        p50_off, p50_on = statistics.median(off), statistics.median(on)
        diffs.append(p50_on - p50_off)
        print(
            f"{name:10} {result['queries'][(name, False)]:>7}/{result['queries'][(name, True)]:<7}"
            f" {p50_off:8.2f} {p50_on:8.2f} {p50_on - p50_off:7.2f}"
            f" {100 * (p50_on - p50_off) / p50_off:6.1f}% {percentile(off, 95):8.2f}"
            f" {percentile(on, 95):8.2f}"
        )
    print(f"counting statement alone: p50 {statistics.median(alone):.2f} ms, "
          f"p95 {percentile(alone, 95):.2f} ms")  # fmt: skip
    print(f"median page difference: {statistics.median(diffs):.2f} ms")


if __name__ == "__main__":
    main()
