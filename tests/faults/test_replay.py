"""10,000 messages delivered twice, in shuffled order, through the inbox: each record once.

At the service level (``inbox_batch_receive`` → ``inbox_batch_process``, as the
API and the worker call them) on the suite's PostgreSQL; bench/faults.py
``--scenario replay`` does the same over HTTP with real workers. Older versions
(earlier ``source_timestamp``) are among the messages, so a stale overwrite
shows in the final state. A document that arrives before its case is rejected
(``unknown_case``); the sender delivers it again afterwards, as a real one would.
"""

import random

import pytest

from indexes.models import InboxRecord, SourceSystem
from indexes.services.errors import RecordRejected
from indexes.services.inbox import inbox_batch_process, inbox_batch_receive
from tests.faults.workload import replay_messages
from tests.indexes.api_support import kle_minimal, municipality_ensure

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

CASES = 4000  # 10,000 messages


def missing_case(problems) -> bool:
    return bool(problems) and all(p["code"] == "unknown_case" for p in problems)


def deliver(system, messages: list[dict]) -> tuple[list[dict], int]:
    """Deliver in bodies of 1,000, each applied right after it is received (as a worker
    would); the messages rejected for naming a case not yet in the index, and the batch count."""
    again, batches = [], 0
    for start in range(0, len(messages), 1000):
        body = messages[start : start + 1000]
        try:
            batch, rejections = inbox_batch_receive(source_system=system, items=body)
        except RecordRejected as exc:  # every record of the body refused
            assert all(p.code == "unknown_case" for p in exc.problems)
            again += body
            continue
        batches += 1
        assert all(missing_case(r["problems"]) for r in rejections), rejections[:3]
        inbox_batch_process(batch_id=batch.id)
        late = InboxRecord.objects.filter(batch=batch, outcome="rejected").exclude(
            position__in=[r["index"] for r in rejections]
        )
        assert all(missing_case(problems) for problems in late.values_list("problems", flat=True))
        positions = sorted(
            {r["index"] for r in rejections} | set(late.values_list("position", flat=True))
        )
        again += [body[i] for i in positions]
    return again, batches


def test_ten_thousand_messages_twice_shuffled_end_exactly_once():
    from tests.faults.workload import index_count

    kle_minimal()
    system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="SBSYS", name="replay"
    )
    messages, expected = replay_messages("replay", CASES)
    assert len(messages) == 10_000
    twice = messages + messages
    random.Random(7).shuffle(twice)

    again, batches = deliver(system, twice)
    assert again, "the shuffle should deliver some documents before their case"
    for _round in range(5):
        if not again:
            break
        again, more = deliver(system, again)
        batches += more
    assert not again

    tallies = index_count(source_system=system, expected=expected, batches=batches)
    # Rejections here are the documents that came before their case (delivered again).
    wrong = [t for t in tallies if not t.ok and t.name != "records rejected"]
    assert not wrong, [(t.name, t.expected, t.actual) for t in wrong]
