"""docker-compose.yml cannot run here (no Docker engine); check its shape."""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_the_full_stack_is_there(compose):
    assert {"db", "redis", "web", "worker", "beat"} <= set(compose["services"])
    assert compose["services"]["db"]["image"].startswith("postgres:16")
    assert compose["services"]["redis"]["image"].startswith("redis:7")


def test_app_services_share_one_image_built_from_the_dockerfile(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat", "migrate"):
        assert services[name]["build"] == "."
        assert services[name]["image"] == "overblik:latest"
    assert (ROOT / "Dockerfile").is_file()


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        ("web", ["gunicorn", "config.wsgi:application"]),
        ("worker", ["celery", "-A", "config", "worker"]),
        ("beat", ["celery", "-A", "config", "beat"]),
    ],
)
def test_commands(compose, service, expected):
    assert compose["services"][service]["command"][: len(expected)] == expected


def test_health_checks_and_dependencies(compose):
    services = compose["services"]
    for name in ("db", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["db"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_app_settings_come_from_the_environment(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379")
    assert "DJANGO_SECRET_KEY" in env
    # Production refuses to start without its own CPR hash key (tests/test_settings.py).
    assert env["OVERBLIK_CPR_HMAC_KEY"].startswith("${OVERBLIK_CPR_HMAC_KEY:?")


def test_body_caps_match_the_settings_defaults(compose):
    """The compose file's body caps are the ones the proxy comment and Django use."""
    from django.conf import settings

    environment = compose["x-app"]["environment"]
    for name in ("OVERBLIK_MAX_BODY_BYTES", "INDEXES_API_MAX_BODY_BYTES"):
        default = environment[name].split(":-", 1)[1].rstrip("}")
        assert int(default) == getattr(settings, name), name
