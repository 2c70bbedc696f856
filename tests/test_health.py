import pytest


@pytest.mark.django_db
def test_live(client):
    response = client.get("/healthz/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_ready_reports_database_and_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "ok"
    assert response.json()["checks"]["broker"] != "ok"


@pytest.mark.integration
@pytest.mark.django_db
def test_ready_when_services_answer(client):
    response = client.get("/healthz/ready")
    assert response.status_code == 200, response.json()


@pytest.mark.django_db
def test_front_page_and_admin_answer(client):
    assert client.get("/").status_code == 200
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.integration
def test_real_worker_answers_on_redis(celery_worker):
    from config.celery import app

    replies = app.control.ping(timeout=2)
    assert any(celery_worker.queue in name for reply in replies for name in reply)
