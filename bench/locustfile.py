"""Locust citizens for bench/loadtest.py: logged-in citizens reading their portal pages.

Each simulated citizen takes one of the prepared sessions (a JSON file named by
BENCH_VISITORS, written by bench/loadtest.py: session key and one visible case
per citizen) and, with a pause between pages as a reader takes, opens the
overview, the case list, one of their cases and their benefits. Loopback only.
"""

import itertools
import json
import os

from locust import HttpUser, between, task

VISITORS = json.loads(open(os.environ["BENCH_VISITORS"]).read())  # noqa: SIM115
COOKIE = os.environ.get("BENCH_SESSION_COOKIE", "sessionid")
WAIT_MIN = float(os.environ.get("BENCH_WAIT_MIN", "5"))
WAIT_MAX = float(os.environ.get("BENCH_WAIT_MAX", "15"))
_next = itertools.count()


class Citizen(HttpUser):
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self):
        visitor = VISITORS[next(_next) % len(VISITORS)]
        self.case = visitor["case"]
        self.client.cookies.set(COOKIE, visitor["session"])

    def _get(self, path: str, name: str):
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"status {r.status_code}")

    @task(4)
    def overview(self):
        self._get("/overblik/", "overview")

    @task(3)
    def case(self):
        self._get(f"/sager/{self.case}/", "case")

    @task(2)
    def cases(self):
        self._get("/sager/", "cases")

    @task(1)
    def benefits(self):
        self._get("/ydelser/", "benefits")
