"""What the fault drills deliver, how they post it, and how they count the index afterwards.

Shared by ``bench/faults.py`` and ``tests/faults/``. Import after ``django.setup()``.

Every case has a status history (progress periods) and a document; besides its
newest version, older versions (an earlier ``source_timestamp``, a title marked
STALE) are delivered too, before or after the newest, so a stale overwrite
shows in the final state. ``index_count`` compares what is in the index with
what was accepted, exactly.
"""

import dataclasses
import http.client
import itertools
import json
import random
import threading
import time
import uuid
from collections import Counter

from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import Count, Q

NEWEST = "2024-05-01T12:00:00+02:00"
OLDER = "2024-05-01T10:00:00+02:00"
NEWEST_TITLE = "Bevilling af hjælpemiddel"
STALE_TITLE = "STALE ansøgning om hjælpemiddel"
DOCUMENT_TITLE = "Afgørelse om hjælpemiddel"
STALE_DOCUMENT_TITLE = "STALE udkast til afgørelse"
PROGRESS_NEWEST = 4  # periods of the newest version of a case


def _progress(periods: int) -> list[dict]:
    steps = [
        ("Opstaaet", "2024-04-01T09:00:00+02:00"),
        ("Oplyst", "2024-04-10T09:00:00+02:00"),
        ("Afgjort", "2024-04-20T09:00:00+02:00"),
        ("Afsluttet", "2024-04-25T09:00:00+02:00"),
    ][:periods]
    progress = [{"status": status, "from": start} for status, start in steps]
    for before, after in itertools.pairwise(progress):
        before["to"] = after["from"]
    return progress


def case_record(run: str, n: int, *, newest: bool = True) -> dict:
    day = 1 + n % 28
    return {
        "external_id": f"{run}-c{n}",
        "source_timestamp": NEWEST if newest else OLDER,
        "municipality": "461",
        "case_number": f"{run}-{n}",
        "title": NEWEST_TITLE if newest else STALE_TITLE,
        "description": "Ansøgning om rollator",
        "kle_number": "15.62.10",
        "facet": "G01",
        "responsible_unit": "Hjælpemiddelcentret",
        "primary_caseworker": "jens",
        # Synthetic, never a real person's: day + 1970 + a running number.
        "party": {"cpr": f"{day:02d}0170{n % 10000:04d}"},
        "created_on": "2024-04-01",
        "progress": _progress(PROGRESS_NEWEST if newest else 2),
    }


def document_record(run: str, n: int, *, newest: bool = True) -> dict:
    return {
        "external_id": f"{run}-d{n}",
        "source_timestamp": NEWEST if newest else OLDER,
        "municipality": "461",
        "title": DOCUMENT_TITLE if newest else STALE_DOCUMENT_TITLE,
        "letter_date": "2024-04-20",
        "type": "Brev, udgaaende",
        "status": "Endeligt" if newest else "Underudarbejdelse",
        "kle_number": "15.62.10",
        "cases": [{"case_external_id": f"{run}-c{n}", "role": "Tilakteret"}],
    }


@dataclasses.dataclass
class Expected:
    """What the index must hold for one run's source system once everything is applied."""

    cases: int
    documents: int

    @property
    def records(self) -> int:
        return self.cases + self.documents


def waves(run: str, cases: int, *, size: int = 1000) -> tuple[list[list[dict]], Expected]:
    """Bodies of at most ``size`` records, in the order a source system sends them.

    First every case with its document, a third of them preceded by an older
    version of both (applied first, then updated); then an older version of
    another third of the cases, delivered after the newest (stale: must not
    overwrite it).
    """
    bodies, body = [], []
    for n in range(cases):
        if n % 3 == 0:
            body.append({"kind": "case", "record": case_record(run, n, newest=False)})
            body.append({"kind": "document", "record": document_record(run, n, newest=False)})
        body.append({"kind": "case", "record": case_record(run, n)})
        body.append({"kind": "document", "record": document_record(run, n)})
        if len(body) > size - 4:
            bodies.append(body)
            body = []
    if body:
        bodies.append(body)
    late = [
        {"kind": "case", "record": case_record(run, n, newest=False)}
        for n in range(cases)
        if n % 3 == 1
    ]
    random.Random(run).shuffle(late)
    bodies += [late[i : i + size] for i in range(0, len(late), size)]
    return bodies, Expected(cases=cases, documents=cases)


def replay_messages(run: str, cases: int) -> tuple[list[dict], Expected]:
    """``cases`` newest cases, half of them an older version, half a document and its
    older version: ``cases * 2.5`` messages (10,000 for 4,000 cases)."""
    messages = []
    for n in range(cases):
        messages.append({"kind": "case", "record": case_record(run, n)})
        if n % 2 == 0:
            messages.append({"kind": "case", "record": case_record(run, n, newest=False)})
            messages.append({"kind": "document", "record": document_record(run, n)})
            messages.append({"kind": "document", "record": document_record(run, n, newest=False)})
    return messages, Expected(cases=cases, documents=(cases + 1) // 2)


def source_system_create(name: str, product: str = "SBSYS"):
    """A source system of municipality 461 and its API key."""
    from indexes.models import SourceSystem
    from indexes.services.credentials import credential_create

    system = SourceSystem.objects.create(municipality_id="461", product=product, name=name)
    _, key = credential_create(source_system=system, label="fault drill")
    return system, key


# --- posting -----------------------------------------------------------------------------


@dataclasses.dataclass
class Delivery:
    """One body as a source system delivers it: same Idempotency-Key on every retry."""

    records: list[dict]
    key: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    batch_id: str = ""
    accepted: int = 0
    rejected: list[dict] = dataclasses.field(default_factory=list)
    attempts: int = 0


class Poster:
    """``clients`` threads posting deliveries to ``/api/v1/batches``, retrying as a source
    system would: on a connection error or a 5xx, the same body and Idempotency-Key again
    after ``Retry-After`` (at most 2 s), until ``give_up_after`` seconds per delivery.
    """

    def __init__(
        self,
        *,
        port: int,
        key: str,
        clients: int = 4,
        give_up_after: float = 240.0,
        pace: float = 0.0,
    ):
        self.port, self.key, self.clients, self.give_up_after = port, key, clients, give_up_after
        # Seconds each client waits between deliveries (spreads posting over a fault).
        self.pace = pace
        self.answers: Counter[str] = Counter()  # "202", "503", "ConnectionRefusedError", ...
        self.answers_by_phase: dict[str, Counter[str]] = {}
        self.phase = "before"
        self.failures: list[str] = []
        self.slowest = 0.0
        self.posted = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.finished_at: float | None = None

    def _note(self, answer: str, seconds: float) -> None:
        with self._lock:
            self.answers[answer] += 1
            self.answers_by_phase.setdefault(self.phase, Counter())[answer] += 1
            self.slowest = max(self.slowest, seconds)

    def _deliver(self, delivery: Delivery, http_conn_box: list) -> None:
        body = json.dumps({"records": delivery.records}).encode()
        deadline = time.monotonic() + self.give_up_after
        while time.monotonic() < deadline:
            delivery.attempts += 1
            started = time.monotonic()
            wait = 0.5
            try:
                if http_conn_box[0] is None:
                    http_conn_box[0] = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=60
                    )
                conn = http_conn_box[0]
                conn.request(
                    "POST",
                    "/api/v1/batches",
                    body=body,
                    headers={
                        "Authorization": f"Bearer {self.key}",
                        "Content-Type": "application/json",
                        "Idempotency-Key": delivery.key,
                    },
                )
                response = conn.getresponse()
                payload = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._note(type(exc).__name__, time.monotonic() - started)
                http_conn_box[0] = None
                time.sleep(wait)
                continue
            self._note(str(response.status), time.monotonic() - started)
            if response.status == 202:
                data = json.loads(payload)
                delivery.batch_id, delivery.accepted = data["id"], data["accepted"]
                delivery.rejected = data["rejected"]
                with self._lock:
                    self.posted += 1
                return
            if response.status >= 500:
                retry_after = response.getheader("Retry-After")
                wait = min(float(retry_after), 2.0) if retry_after else wait
                http_conn_box[0] = None
                time.sleep(wait)
                continue
            with self._lock:
                self.failures.append(f"{response.status} {payload[:300]!r}")
            return
        with self._lock:
            self.failures.append(f"gave up after {self.give_up_after:.0f} s ({delivery.key})")

    def start(self, deliveries: list[Delivery]) -> "Poster":
        pending = list(deliveries)

        def run():
            box = [None]
            while True:
                with self._lock:
                    if not pending:
                        return
                    delivery = pending.pop(0)
                self._deliver(delivery, box)
                time.sleep(self.pace)

        self._threads = [threading.Thread(target=run, daemon=True) for _ in range(self.clients)]
        for thread in self._threads:
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(thread.is_alive() for thread in self._threads):
            raise TimeoutError(f"posting not finished within {timeout:.0f} s")
        self.finished_at = time.monotonic()

    def done(self) -> bool:
        return not any(thread.is_alive() for thread in self._threads)


# --- reading the database through faults -------------------------------------------------


def db_retry(function, *, timeout: float = 60.0):
    """``function()``, retried while the database does not answer (restarting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return function()
        except (OperationalError, InterfaceError):
            connection.close()
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.5)
        finally:
            close_old_connections()


def inbox_progress(source_system) -> tuple[int, int]:
    """(applied records, pending records) of a source system's inbox."""
    from indexes.models import InboxRecord

    counts = InboxRecord.objects.filter(batch__source_system=source_system).aggregate(
        pending=Count("id", filter=Q(outcome="pending")),
        applied=Count("id", filter=~Q(outcome="pending")),
    )
    return counts["applied"], counts["pending"]


def inbox_drained(source_system) -> bool:
    from indexes.models import InboxBatch

    return not InboxBatch.objects.filter(source_system=source_system, status="pending").exists()


# --- counting ----------------------------------------------------------------------------


@dataclasses.dataclass
class Tally:
    name: str
    expected: object
    actual: object

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


def index_count(*, source_system, expected: Expected, batches: int | None = None) -> list[Tally]:
    """Exact counts of the index and the inbox for ``source_system`` against ``expected``.

    Every accepted record is in the index exactly once (records, links, progress
    periods; one ``Change`` per applied version), the newest version won
    everywhere, and nothing is left pending.
    """
    from django.db.models import Max

    from indexes.models import (
        Case,
        CaseDocument,
        CaseProgress,
        Change,
        Document,
        InboxBatch,
        InboxRecord,
    )

    cases = Case.objects.filter(source_system=source_system)
    documents = Document.objects.filter(source_system=source_system)
    records = InboxRecord.objects.filter(batch__source_system=source_system)
    outcomes = Counter(dict(records.values_list("outcome").annotate(n=Count("id"))))
    changes = Change.objects.filter(source_system=source_system)
    per_record = changes.values("record_type", "record_id").annotate(
        n=Count("id"), newest=Max("version")
    )
    case_versions = dict(cases.values_list("id", "version"))
    document_versions = dict(documents.values_list("id", "version"))
    wrong_versions = sum(
        1
        for row in per_record
        if row["n"] != row["newest"]
        or row["newest"]
        != (case_versions if row["record_type"] == "case" else document_versions).get(
            row["record_id"]
        )
    )
    result = [
        Tally("cases in the index", expected.cases, cases.count()),
        Tally("documents in the index", expected.documents, documents.count()),
        Tally(
            "case-document links",
            expected.documents,
            CaseDocument.objects.filter(case__source_system=source_system).count(),
        ),
        Tally(
            "progress periods (newest history)",
            expected.cases * PROGRESS_NEWEST,
            CaseProgress.objects.filter(case__source_system=source_system).count(),
        ),
        Tally(
            "records created exactly once (inbox outcome 'created')",
            expected.records,
            outcomes["created"],
        ),
        Tally(
            "Change rows = created + updated outcomes",
            outcomes["created"] + outcomes["updated"],
            changes.count(),
        ),
        Tally("records whose Change versions are not 1..version", 0, wrong_versions),
        Tally(
            "stale overwrites (a case or document not at its newest version)",
            0,
            cases.exclude(title=NEWEST_TITLE, source_timestamp=NEWEST).count()
            + documents.exclude(title=DOCUMENT_TITLE, source_timestamp=NEWEST).count(),
        ),
        Tally("records rejected", 0, outcomes["rejected"]),
        Tally("inbox records pending", 0, outcomes["pending"]),
        Tally(
            "inbox batches not done",
            0,
            InboxBatch.objects.filter(source_system=source_system).exclude(status="done").count(),
        ),
        Tally(
            "inbox records (all systems) pending",
            0,
            InboxRecord.objects.filter(outcome="pending").count(),
        ),
    ]
    if batches is not None:
        result.append(
            Tally(
                "inbox batches (one per delivery, retries included)",
                batches,
                InboxBatch.objects.filter(source_system=source_system).count(),
            )
        )
    return result


# --- polled feeds ------------------------------------------------------------------------


def feeds_register(
    *, citizens: int, every_seconds: int, page_size: int = 25, max_pages: int = 4
) -> list:
    """One simulated feed of each product (FASIT, SBSYS, Nexus, KMD Ydelse) at 461.

    Slow pages (40 ms), duplicates and overtaking updates; a world that ended a
    month ago, so the real clock adds nothing; beat polls every ``every_seconds``;
    a poll silent for 5 s is taken over (a killed worker's).
    """
    import datetime

    from django.utils import timezone

    from indexes.models import SourceFeed
    from simulators.catalogue import PRODUCTS
    from simulators.feeds import stand_in_feed_register
    from simulators.systems import SimulatorConfig

    horizon = timezone.localdate() - datetime.timedelta(days=30)
    feeds = []
    for i, product in enumerate(PRODUCTS):
        config = SimulatorConfig(
            seed=40 + i,
            citizens=citizens,
            start=horizon - datetime.timedelta(days=3 * 365),
            horizon=horizon,
            latency_ms=40,
            faults={"duplicate": 0.05, "out_of_order": 0.2},
        )
        system, _ = source_system_create(f"{product} {uuid.uuid4().hex[:6]}", product)
        feed = stand_in_feed_register(
            source_system=system, config=config, page_size=page_size, every_seconds=every_seconds
        )
        SourceFeed.objects.filter(pk=feed.pk).update(lease_seconds=5, max_pages_per_poll=max_pages)
        feeds.append(feed)
    return feeds


def feed_simulator(feed):
    from simulators.feeds import stand_in_of

    return stand_in_of(feed)


def feeds_read(feeds) -> int:
    """Changes read so far (the cursors' record counts)."""
    from indexes.models import FeedCursor

    return sum(FeedCursor.objects.filter(feed__in=feeds).values_list("records", flat=True))


def feeds_finished(feeds) -> bool:
    """Every feed had a poll that found nothing more (read to its end)."""
    from indexes.models import FeedPoll

    return all(
        FeedPoll.objects.filter(
            feed=feed, status=FeedPoll.Status.SUCCEEDED, more_pending=False, received=0
        ).exists()
        for feed in feeds
    )


def feed_count(feed) -> list[Tally]:
    """Every change of the feed's log received exactly once, with the outcomes the
    ingestion contract gives them in log order, and the index equal to the source."""
    from django.db.models import F, Max

    from indexes.models import Change, FeedCursor
    from tests.feeds.conftest import expected_outcomes, index_matches_truth, poll_totals

    sim = feed_simulator(feed)
    name = feed.source_system.product
    totals = poll_totals(feed)
    expected = expected_outcomes(sim.log)
    counts = [
        Tally(f"{name}: changes received by polls", len(sim.log), totals["received"]),
        Tally(f"{name}: cursor records", len(sim.log), FeedCursor.objects.get(feed=feed).records),
        Tally(f"{name}: rejected", 0, totals["rejected"]),
    ]
    for outcome in ("created", "updated", "unchanged", "stale"):
        counts.append(Tally(f"{name}: {outcome}", expected[outcome], totals[outcome]))
    changes = Change.objects.filter(source_system=feed.source_system)
    counts.append(
        Tally(
            f"{name}: Change rows = created + updated",
            totals["created"] + totals["updated"],
            changes.count(),
        )
    )
    gaps = (
        changes.values("record_type", "record_id")
        .annotate(n=Count("id"), newest=Max("version"))
        .exclude(n=F("newest"))
        .count()
    )
    counts.append(Tally(f"{name}: records whose versions have gaps or repeats", 0, gaps))
    try:
        index_matches_truth(feed, sim.truth())
        mismatch = 0
    except AssertionError as exc:
        mismatch = str(exc)[:200]
    counts.append(Tally(f"{name}: records differing from the source's newest", 0, mismatch))
    return counts


def portal_citizen() -> dict:
    """The demo citizen Kim's portal data (tests/overblik/data.py) and a logged-in session.

    The session is written as the OIDC login leaves it (overblik/auth.py), without the
    login itself (production settings have no stand-in broker): a drill's HTTP client
    sends its key as the session cookie. Returns the key and the ids of Kim's cases.
    """
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from overblik import session as keys
    from overblik.services import citizen_get_or_create
    from tests.overblik import data as portal_data

    built = portal_data.build(cases=2)
    citizen = citizen_get_or_create(cpr=portal_data.KIM.cpr)
    now = time.time()
    session = SessionStore()
    session.update(
        {
            SESSION_KEY: str(citizen.user.pk),
            BACKEND_SESSION_KEY: "overblik.auth.CitizenOIDCBackend",
            HASH_SESSION_KEY: citizen.user.get_session_auth_hash(),
            keys.CPR: portal_data.KIM.cpr,
            keys.NAME: portal_data.KIM.name,
            keys.ASSURANCE: portal_data.KIM.loa,
            keys.CITIZEN_ID: citizen.pk,
            keys.SINCE: None,
            keys.LOGIN_AT: now,
            keys.LAST_ACTIVITY: now,
        }
    )
    session.set_expiry(settings.OVERBLIK_SESSION_IDLE_SECONDS + keys.TOUCH_INTERVAL)
    session.create()
    return {
        "session": session.session_key,
        "cookie": settings.SESSION_COOKIE_NAME,
        "cases": [case.pk for case in built.cases],
    }
