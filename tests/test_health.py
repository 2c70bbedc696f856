from datetime import timedelta

import pytest
from django.utils import timezone

from config import health


@pytest.mark.django_db
def test_live(client):
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_reports_a_dead_broker_but_stays_ready(client, settings):
    # Deliveries are still accepted into the PostgreSQL inbox without Redis.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz/ready")
    assert response.status_code == 200
    assert response.json()["checks"]["database"]["status"] == "ok"
    assert response.json()["checks"]["broker"]["status"] == "degraded"
    assert response.json()["checks"]["broker"]["error"]
    # The operator's monitor (/healthz/status) still counts it as unhealthy. Not
    # through the view: its worker ping would bind Celery's pool to this dead URL.
    assert health._broker()[0] is False


@pytest.mark.django_db
def test_ready_fails_without_a_database(client, monkeypatch):
    monkeypatch.setattr(health, "_database", lambda: (False, {"status": "error"}))
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "error"


@pytest.mark.integration
@pytest.mark.django_db
def test_ready_when_services_answer(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ping", "expected"), [(lambda **kw: [], "none"), (ConnectionRefusedError, "error")]
)
def test_status_without_workers_is_unavailable(client, monkeypatch, ping, expected):
    from config.celery import app

    if isinstance(ping, type):

        def ping(**kwargs):
            raise ConnectionRefusedError

    monkeypatch.setattr(app.control, "ping", ping)
    response = client.get("/healthz/status")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["status"] == expected


@pytest.mark.django_db
def test_a_stalled_inbox_is_reported(client):
    from indexes.models import InboxBatch, SourceSystem

    system = SourceSystem.objects.create(municipality_id="461", product="FASIT", name="FASIT")
    stale = timezone.now() - timedelta(seconds=health.INBOX_STALL_SECONDS + 60)
    InboxBatch.objects.create(source_system=system, received_at=stale)
    ok, detail = health._inbox()
    assert not ok
    assert detail["status"] == "stalled"
    assert detail["pending_batches"] == 1


@pytest.mark.django_db
def test_an_empty_inbox_is_healthy():
    assert health._inbox() == (
        True,
        {"status": "ok", "pending_batches": 0, "oldest_pending_seconds": 0.0, "parked_batches": 0},
    )


@pytest.mark.integration
@pytest.mark.django_db
def test_status_with_a_real_worker(client, celery_worker):
    response = client.get("/healthz/status")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["workers"]["count"] >= 1


@pytest.mark.django_db
def test_front_page_and_admin_answer(client):
    assert client.get("/").status_code == 200
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.integration
def test_real_worker_answers_on_redis(celery_worker):
    from config.celery import app

    replies = app.control.ping(timeout=2)
    assert any(celery_worker.queue in name for reply in replies for name in reply)
