"""Property: shuffled, duplicated deliveries end in the same state as one ordered delivery.

Hypothesis draws a history per record (versions with increasing source
timestamps, sometimes a retraction between two versions), delivers every
version one to three times in a random order, in random batches through the
bulk path, and compares the final state with delivering the history once in
timestamp order. A retraction that arrives before its record exists is
answered "not found"; the simulated sender retries it at the end of its queue,
as a real one would.
"""

import datetime
from collections import deque
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexes.models import CaseRelation
from indexes.selectors import record_queryset, record_to_payload
from indexes.services.errors import RecordNotFound, RecordRejected
from indexes.services.ingestion import record_retract, records_apply_many
from tests.indexes.factories import CPR, OTHER_CPR, SourceSystemFactory, SubjectFactory, kle_ensure

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TZ = ZoneInfo("Europe/Copenhagen")
BASE = datetime.datetime(2024, 5, 1, 10, tzinfo=TZ)
CASE_IDS = ("c0", "c1", "c2")
GRANT_IDS = ("g0", "g1")
STATUSES = ("Opstaaet", "Oplyst", "Afgjort", "Afsluttet")
TITLES = ("Ansøgning om kontanthjælp", "Afslag på kontanthjælp", "Bevilling af hjælpemiddel")
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Rollback(Exception):
    pass


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat()


@st.composite
def case_versions(draw, external_id: str, others: list[str]) -> dict:
    periods = draw(st.integers(1, 4))
    progress = [
        {"status": STATUSES[i], "from": _iso(BASE - datetime.timedelta(days=40 - 10 * i))}
        for i in range(periods)
    ]
    for i in range(periods - 1):
        progress[i]["to"] = progress[i + 1]["from"]
    return {
        "external_id": external_id,
        "municipality": "461",
        "case_number": f"N-{external_id}-{draw(st.integers(0, 1))}",
        "title": draw(st.sampled_from(TITLES)),
        "hidden_from_citizen": draw(st.booleans()),
        "sensitivity": draw(
            st.sampled_from(["FORTROLIGE_PERSONOPLYSNINGER", "FOELSOMME_PERSONOPLYSNINGER"])
        ),
        "kle_number": "32.18.02",
        "facet": "G01",
        "party": draw(st.sampled_from([{"cpr": CPR}, {"cpr": OTHER_CPR}, None])),
        "created_on": "2024-03-20",
        "progress": progress,
        "related_cases": draw(st.lists(st.sampled_from(others), unique=True)) if others else [],
    }


@st.composite
def grant_versions(draw, external_id: str, others: list[str]) -> dict:
    benefits = []
    for benefit_id in draw(st.lists(st.sampled_from(["b0", "b1", "b2"]), unique=True)):
        economic = draw(st.booleans())
        benefits.append(
            {
                "external_id": benefit_id,
                "name": draw(st.sampled_from(["Kontanthjælp", "Rengøring (FSIII)"])),
                "kind": "oekonomisk" if economic else "service",
                "kle_number": draw(st.sampled_from(["32.18.02", "32.03.04"])),
                "start_on": "2024-04-01",
                "status": draw(st.sampled_from(["Aktiv", "Passiv"])),
                "related_case": draw(st.sampled_from(["", "c0", "c1"])),
                "payment_plan": {
                    "frequency": "Månedlig",
                    "timing": draw(st.sampled_from(["Forud", "Bagud"])),
                    "payment_day": "Sidste bankdag i måneden",
                    "amount": draw(st.sampled_from(["100.00", "12345.67"])),
                }
                if economic and draw(st.booleans())
                else None,
            }
        )
    return {
        "external_id": external_id,
        "municipality": "461",
        "party": draw(st.sampled_from([{"cpr": CPR}, {"cpr": OTHER_CPR}, None])),
        "start_on": "2024-04-01",
        "status": draw(st.sampled_from(["Aktiv", "Inaktiv"])),
        "related_case": draw(st.sampled_from(["", "c0"])),
        "benefits": benefits,
    }


@st.composite
def histories(draw, kind: str, ids: tuple[str, ...], versions) -> list[tuple]:
    """Operations ("put", id, time, record) / ("retract", id, time, None) of 1 to 3 records."""
    count = draw(st.integers(1, len(ids)))
    chosen = list(ids[:count])
    operations = []
    for offset, external_id in enumerate(chosen):
        others = [e for e in chosen if e != external_id]
        n_versions = draw(st.integers(1, 4))
        for version in range(n_versions):
            moment = BASE + datetime.timedelta(minutes=10 * version + offset)
            record = draw(versions(external_id, others)) | {"source_timestamp": _iso(moment)}
            operations.append(("put", external_id, moment, record))
        if draw(st.booleans()):
            after = draw(st.integers(0, n_versions - 1))
            moment = BASE + datetime.timedelta(minutes=10 * after + 5 + offset)
            operations.append(("retract", external_id, moment, None))
    return operations


def _deliver(system, kind: str, operations: list[tuple], batch_sizes: list[int]) -> None:
    """Deliver in this order: runs of puts in batches, retractions one by one."""
    queue = deque(operations)
    sizes = deque(batch_sizes or [1])
    attempts = 0
    while queue:
        attempts += 1
        assert attempts < 1000
        operation = queue.popleft()
        if operation[0] == "retract":
            try:
                record_retract(
                    source_system=system,
                    kind=kind,
                    external_id=operation[1],
                    source_timestamp=operation[2],
                )
            except RecordNotFound:
                queue.append(operation)  # the sender retries later
            continue
        batch = [operation]
        size = sizes[0]
        sizes.rotate(-1)
        while queue and queue[0][0] == "put" and len(batch) < size:
            batch.append(queue.popleft())
        results = records_apply_many(source_system=system, items=[(kind, op[3]) for op in batch])
        rejected = [r for r in results if isinstance(r, RecordRejected)]
        assert not rejected, [r.problems for r in rejected]


def _state(system, kind: str) -> dict:
    """The content, derived fields and resolved references of every live record; tombstones."""
    state = {}
    for instance in record_queryset(kind=kind).filter(source_system=system):
        if instance.retracted_at is not None:
            # A tombstone keeps whatever content it had when retracted; a version
            # delivered after the retraction but older is stale and never applied,
            # so only "retracted, as of when" is the same in every order.
            state[instance.external_id] = {"retracted_as_of": instance.source_timestamp}
            continue
        entry = {
            "payload": record_to_payload(kind=kind, instance=instance),
        }
        if kind == "case":
            entry["derived"] = (instance.status, instance.last_changed_at)
            entry["resolved"] = sorted(
                (r.related_external_id, r.related_id is not None)
                for r in CaseRelation.objects.filter(case=instance)
            )
        else:
            entry["resolved"] = sorted(
                [("grant", instance.related_case_id is not None)]
                + [(b.external_id, b.related_case_id is not None) for b in instance.benefits.all()]
            )
        state[instance.external_id] = entry
    return state


def _run(system, kind: str, operations: list[tuple], batch_sizes: list[int]) -> dict:
    """Deliver, read the state, and roll everything back for the next run."""
    try:
        with transaction.atomic():
            _deliver(system, kind, operations, batch_sizes)
            state = _state(system, kind)
            raise Rollback
    except Rollback:
        pass
    return state


@pytest.fixture
def system():
    kle_ensure("32.18.02")
    SubjectFactory(number="32.03.04")
    return SourceSystemFactory()


def _check(system, kind, operations, data):
    in_order = sorted(operations, key=lambda op: op[2])
    expected = _run(system, kind, in_order, [1])
    copies = [op for op in operations for _ in range(data.draw(st.integers(1, 3), label="copies"))]
    shuffled = data.draw(st.permutations(copies), label="order")
    batch_sizes = data.draw(st.lists(st.integers(1, 6), min_size=1, max_size=4), label="batches")
    assert _run(system, kind, shuffled, batch_sizes) == expected


@SETTINGS
@given(data=st.data())
def test_shuffled_duplicated_case_deliveries_end_like_the_ordered_history(system, data):
    operations = data.draw(histories("case", CASE_IDS, case_versions), label="history")
    _check(system, "case", operations, data)


@SETTINGS
@given(data=st.data())
def test_shuffled_duplicated_grant_deliveries_end_like_the_ordered_history(system, data):
    operations = data.draw(histories("grant", GRANT_IDS, grant_versions), label="history")
    _check(system, "grant", operations, data)
