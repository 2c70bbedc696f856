"""Failure with a real Celery worker: killed mid-send, and the SMTP server stopped —
every message arrives exactly once (the idempotency key is the Message-ID, which the
mail server collapses, and the lapsed lease brings the message back)."""

import time

import pytest
import requests

from overblik.models import NotificationMessage
from overblik.tasks import notification_send_task, notifications_dispatch_task
from tests.notifications.helpers import due_message, kim_settings
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.integration,
]
Status = NotificationMessage.Status


def wait_for(predicate, timeout=40.0, what=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def status_of(message) -> str:
    return NotificationMessage.objects.values_list("status", flat=True).get(pk=message.pk)


def test_a_worker_killed_mid_send_and_a_stopped_server_deliver_exactly_once(
    outside, monkeypatch, celery_workers
):
    mail, _ = outside
    monkeypatch.setenv("OVERBLIK_NOTIFICATION_LEASE_SECONDS", "3")
    monkeypatch.setenv("OVERBLIK_NOTIFICATION_RETRY_BASE", "1")
    data = portal_data.build()
    settings = kim_settings()
    items = [["status", "case", data.cases[0].pk]]
    killed = due_message(settings, items=items)

    # 1. The server takes 4 s to answer DATA; the worker is killed while it waits.
    requests.put(f"{mail.http_url}/delay", data="4", timeout=5)
    worker = celery_workers.start()
    notification_send_task.delay(killed.pk)
    wait_for(lambda: status_of(killed) == Status.SENDING, what="the send to start")
    time.sleep(1.5)
    worker.kill()
    requests.put(f"{mail.http_url}/delay", data="0", timeout=5)
    assert status_of(killed) == Status.SENDING

    # 2. The server is stopped: a second message waits, retried with backoff.
    stopped = due_message(settings, items=items)
    mail.stop()
    try:
        celery_workers.start()
        notification_send_task.delay(stopped.pk)
        wait_for(
            lambda: (
                NotificationMessage.objects.filter(pk=stopped.pk, attempts__gte=1).exists()
                and status_of(stopped) == Status.PENDING
            ),
            what="the failed attempt",
        )
        assert NotificationMessage.objects.get(pk=stopped.pk).last_error
    finally:
        mail.start()

    # 3. The sweep (Celery beat's task) takes both up again until both are sent.
    def both_sent():
        notifications_dispatch_task.delay()
        time.sleep(1)
        return status_of(killed) == Status.SENT and status_of(stopped) == Status.SENT

    wait_for(both_sent, timeout=60, what="both messages sent")
    received = mail.messages()
    ids = sorted(m["message_id"] for m in received)
    keys = sorted(
        f"<{m.idempotency_key}@overblik.localhost>"
        for m in NotificationMessage.objects.filter(pk__in=[killed.pk, stopped.pk])
    )
    assert ids == keys  # each exactly once
    assert NotificationMessage.objects.get(pk=killed.pk).attempts >= 2
