"""A batch that keeps failing is parked with its reason and never blocks the others (12.1 c).

Processing is called in-process here; ``test_inbox_integration.py`` runs the real
worker. The broker is the boundary: where the sweeper would enqueue, the test
records what it enqueued.
"""

# ruff: noqa: F811

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections
from django.urls import reverse
from django.utils import timezone

from config import health
from indexes.models import Case, InboxBatch, InboxRecord
from indexes.services import inbox
from indexes.services.inbox import inbox_batch_process, inbox_sweep
from tests.indexes.api_support import (
    case_record,
    kle,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kle")]


@pytest.fixture(autouse=True)
def max_tries(settings):
    settings.INDEXES_INBOX_MAX_TRIES = 3
    return 3


@pytest.fixture
def enqueued(monkeypatch):
    sent: list = []
    monkeypatch.setattr(inbox, "inbox_batch_enqueue", lambda *, batch_id: sent.append(batch_id))
    return sent


def batch_post(client, *external_ids) -> InboxBatch:
    records = [{"kind": "case", "record": case_record(e)} for e in external_ids or ["c-1"]]
    response = client.post(
        "/api/v1/batches", data=json.dumps({"records": records}), content_type="application/json"
    )
    assert response.status_code == 202, response.content
    return InboxBatch.objects.get(pk=response.json()["id"])


@pytest.fixture
def failing(monkeypatch):
    """Applying a chunk fails with a bug-like error (not a lost connection)."""

    def boom(**kwargs):
        raise RuntimeError("handler bug for party 0101701234")

    monkeypatch.setattr(inbox, "_records_apply", boom)


def test_a_batch_that_keeps_failing_is_parked_with_its_reason(
    source_system_client, failing, max_tries
):
    batch = batch_post(source_system_client)
    for attempt in range(1, max_tries + 1):
        with pytest.raises(RuntimeError):
            inbox_batch_process(batch_id=batch.id)
        batch.refresh_from_db()
        assert batch.tries == attempt
    assert batch.status == InboxBatch.Status.PARKED
    assert batch.parked_at is not None
    assert batch.last_error.startswith("RuntimeError: handler bug")
    assert "0101701234" not in batch.last_error  # the reason is masked like the logs

    # Parked: not processed, not swept, not counted as a try any more.
    inbox_batch_process(batch_id=batch.id)
    batch.refresh_from_db()
    assert (batch.status, batch.tries) == (InboxBatch.Status.PARKED, max_tries)


def test_a_batch_whose_worker_keeps_dying_is_parked_at_its_next_start(
    source_system_client, max_tries
):
    """A killed worker leaves its try counted and unfinished; the next start parks it."""
    batch = batch_post(source_system_client)
    InboxBatch.objects.filter(pk=batch.pk).update(tries=max_tries)
    inbox_batch_process(batch_id=batch.id)
    batch.refresh_from_db()
    assert batch.status == InboxBatch.Status.PARKED
    assert "without finishing" in batch.last_error
    assert not Case.objects.exists()  # not applied once more


def test_a_lost_database_connection_is_not_counted_as_a_try(
    source_system_client, monkeypatch, max_tries
):
    batch = batch_post(source_system_client)

    def gone(**kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(inbox, "_records_apply", gone)
    for _ in range(max_tries + 2):
        with pytest.raises(OperationalError):
            inbox_batch_process(batch_id=batch.id)
    batch.refresh_from_db()
    assert (batch.status, batch.tries) == (InboxBatch.Status.PENDING, 0)
    monkeypatch.undo()
    assert inbox_batch_process(batch_id=batch.id).status == InboxBatch.Status.DONE


def test_a_run_that_succeeds_after_failures_finishes_the_batch(
    source_system_client, monkeypatch, max_tries
):
    batch = batch_post(source_system_client, "c-1", "c-2")
    real = inbox._records_apply
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] < max_tries:
            raise RuntimeError("flaky")
        return real(**kwargs)

    monkeypatch.setattr(inbox, "_records_apply", flaky)
    for _ in range(max_tries - 1):
        with pytest.raises(RuntimeError):
            inbox_batch_process(batch_id=batch.id)
    assert inbox_batch_process(batch_id=batch.id).status == InboxBatch.Status.DONE
    assert Case.objects.count() == 2


@pytest.mark.postgres
def test_a_batch_another_worker_is_processing_is_left_to_it(source_system_client, enqueued):
    """A duplicate task (the sweeper re-enqueued a batch still being worked on) returns at
    once: it neither waits nor counts a try."""
    batch = batch_post(source_system_client)
    key = [inbox._LOCK_CLASS, int.from_bytes(batch.id.bytes[:4], "big", signed=True)]
    held, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_lock(%s, %s)", key)
                held.set()
                release.wait(10)
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        assert held.wait(10)
        result = inbox_batch_process(batch_id=batch.id)
        assert (result.status, result.tries) == (InboxBatch.Status.PENDING, 0)
        assert not Case.objects.exists()
    finally:
        release.set()
        thread.join(10)
    assert inbox_batch_process(batch_id=batch.id).status == InboxBatch.Status.DONE


def test_the_sweeper_takes_the_least_tried_batches_first_and_never_parked_ones(
    source_system, enqueued
):
    old = timezone.now() - timedelta(hours=1)
    failing = InboxBatch.objects.bulk_create(
        InboxBatch(source_system=source_system, received_at=old, tries=2) for _ in range(5)
    )
    parked = InboxBatch.objects.create(
        source_system=source_system,
        received_at=old - timedelta(hours=1),
        status=InboxBatch.Status.PARKED,
        tries=3,
    )
    honest = InboxBatch.objects.create(
        source_system=source_system, received_at=timezone.now() - timedelta(minutes=10)
    )
    swept = inbox_sweep(older_than=timedelta(minutes=1), limit=3)
    assert swept[0] == honest.id  # before older batches that failed before
    assert len(swept) == 3 and set(swept[1:]) <= {b.id for b in failing}
    assert parked.id not in inbox_sweep(older_than=timedelta(0))
    assert enqueued[0] == honest.id


def test_the_sweeper_waits_the_configured_time(source_system, enqueued, settings):
    settings.INDEXES_INBOX_SWEEP_AFTER = 30
    recent = InboxBatch.objects.create(
        source_system=source_system, received_at=timezone.now() - timedelta(seconds=20)
    )
    stranded = InboxBatch.objects.create(
        source_system=source_system, received_at=timezone.now() - timedelta(seconds=40)
    )
    assert inbox_sweep() == [stranded.id]
    assert recent.id not in enqueued


def test_parked_batches_are_reported_and_do_not_make_the_health_report_fail(source_system):
    InboxBatch.objects.create(
        source_system=source_system,
        received_at=timezone.now() - timedelta(days=1),
        status=InboxBatch.Status.PARKED,
        parked_at=timezone.now(),
        tries=5,
        last_error="DataError: …",
    )
    ok, detail = health._inbox()
    assert ok
    assert detail["status"] == "ok"
    assert (detail["pending_batches"], detail["parked_batches"]) == (0, 1)


def test_an_operator_retries_a_parked_batch_from_the_admin(
    client,
    source_system_client,
    failing,
    max_tries,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    batch = batch_post(source_system_client, "c-1")
    for _ in range(max_tries):
        with pytest.raises(RuntimeError):
            inbox_batch_process(batch_id=batch.id)
    operator = get_user_model().objects.create_superuser("operator", "op@example.org", "pw")
    client.force_login(operator)
    changelist = reverse("admin:indexes_inboxbatch_changelist")
    page = client.get(changelist + "?status__exact=parked")
    assert page.status_code == 200
    assert str(batch.id) in page.content.decode()
    assert "RuntimeError: handler bug" in page.content.decode()
    assert "0101701234" not in page.content.decode()
    detail = client.get(reverse("admin:indexes_inboxbatch_change", args=[batch.id]))
    assert detail.status_code == 200 and "pending: 1" in detail.content.decode()

    monkeypatch.undo()  # the bug is fixed
    sent: list = []
    monkeypatch.setattr(inbox, "inbox_batch_enqueue", lambda *, batch_id: sent.append(batch_id))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "retry", "_selected_action": [str(batch.id)]}, follow=True
        )
    assert response.status_code == 200
    batch.refresh_from_db()
    assert (batch.status, batch.tries) == (InboxBatch.Status.PENDING, 0)
    assert sent == [batch.id]
    assert inbox_batch_process(batch_id=batch.id).status == InboxBatch.Status.DONE
    assert InboxRecord.objects.get(batch=batch).outcome == "created"


def test_a_municipal_admin_cannot_see_or_retry_inbox_batches(client, source_system):
    from tests.borgerblikket import factories as f

    client.force_login(f.municipal_admin("461", username="odense-inbox"))
    response = client.get(reverse("admin:indexes_inboxbatch_changelist"))
    assert response.status_code == 403
