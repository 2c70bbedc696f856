"""Settings: the environment decides, production fails fast."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k7#Qx9!vLm2@Zr5$Tp8^Wn3&Yb6*Hc4(Jd1)Fg0-Ks7_Ua9+Ve2=Xi5",
    "DJANGO_ALLOWED_HOSTS": "overblik.example.dk",
    "DATABASE_URL": "postgres://overblik@127.0.0.1:5432/overblik",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "OVERBLIK_CPR_HMAC_KEY": "f3Zr9!pQw2@Lm7#Tx5$Vb8^Nc1&Hd4*Jk6(Gs0)Ye3-Ua9+Ri2=Wo5",
}


def _manage(*args, env):
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_language_and_time_zone():
    assert settings.LANGUAGE_CODE == "da"
    assert settings.TIME_ZONE == "Europe/Copenhagen"
    assert settings.USE_TZ is True


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


@pytest.mark.parametrize(
    "weak",
    [
        "x",  # the one character production once started with
        "short-but-not-one-character",
        "a" * 60,  # long, but one character over and over
        "abab" * 20,  # long, four distinct characters
        "django-insecure-" + "k7#Qx9!vLm2@Zr5$Tp8^Wn3&Yb6*Hc4(Jd1)Fg0-Ks7_U",  # startproject's
    ],
)
@pytest.mark.parametrize("name", ["DJANGO_SECRET_KEY", "OVERBLIK_CPR_HMAC_KEY"])
def test_production_refuses_to_start_with_a_weak_key(name, weak):
    """Django's deploy check only warns; production refuses (its rule: 50 characters, 5
    distinct, no django-insecure- prefix). The CPR hash key follows the same rule."""
    result = _manage("check", env=PRODUCTION_ENV | {name: weak})
    assert result.returncode != 0
    assert name in result.stderr and "too weak" in result.stderr
    if len(weak) > 3:  # (one character is in any traceback)
        assert weak not in result.stderr  # a key is never repeated in a message


def test_production_requires_its_own_cpr_hash_key():
    """Derived from SECRET_KEY by default, the citizens' CPR hashes would change with every
    rotation of the secret key: production names the key explicitly, and another one."""
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "OVERBLIK_CPR_HMAC_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0 and "OVERBLIK_CPR_HMAC_KEY" in result.stderr
    same = PRODUCTION_ENV | {"OVERBLIK_CPR_HMAC_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}
    result = _manage("check", env=same)
    assert result.returncode != 0 and "must differ" in result.stderr


def test_production_refuses_sqlite():
    result = _manage("check", env=PRODUCTION_ENV | {"DATABASE_URL": "sqlite:///tmp.db"})
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_check_deploy_is_clean_under_production_settings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_suite_uses_postgres_and_redis_under_ci():
    """Under CI=true the settings refuse to load without the real services."""
    if not settings.IN_CI:
        pytest.skip("only meaningful under CI=true")
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.REDIS_AVAILABLE


def test_ci_fails_clearly_when_postgres_does_not_answer():
    env = {
        "CI": "true",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:9/overblik",
    }
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "PostgreSQL does not answer" in result.stderr


def test_in_process_tasks_run_without_looking_for_a_broker(tmp_path):
    """`make run` without CELERY_BROKER_URL: tasks run eagerly, and the log stays clean."""
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'eager.sqlite3'}",
    }
    assert _manage("migrate", "--no-input", "-v", "0", env=env).returncode == 0
    result = _manage(
        "shell",
        "-c",
        "from indexes.tasks import inbox_sweep_task; "
        "print('swept', inbox_sweep_task.apply_async().get())",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "swept 0" in result.stdout
    assert "No hostname was supplied" not in result.stderr + result.stdout


# What `make run` serves: config.settings.local without DJANGO_DEBUG. The portal's
# own pages, never Django's technical ones (they show settings, paths and URLs).
_REQUEST_AS_MAKE_RUN = """
from django.test import Client, override_settings
from django.conf import settings
client = Client(raise_request_exception=False, HTTP_HOST="127.0.0.1")
with override_settings(ROOT_URLCONF="tests.overblik.urls_with_error"):
    for path in ("/sager/00000000-0000-0000-0000-000000000000/", "/ingen-side/", "/fejl-test/",
                 "/static/overblik/css/overblik.css"):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        print("@@", path, response.status_code, settings.DEBUG, body.decode()[:3000].replace("\\n", " "))
"""


def _as_make_run(tmp_path, **extra):
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.sqlite3'}",
    } | extra
    assert _manage("migrate", "--no-input", "-v", "0", env=env).returncode == 0
    result = _manage("shell", "-c", _REQUEST_AS_MAKE_RUN, env=env)
    assert result.returncode == 0, result.stderr
    answers = {}
    for line in result.stdout.splitlines():
        if line.startswith("@@ "):
            _, path, status, debug, body = [*line.split(" ", 4), ""][:5]
            answers[path] = (int(status), debug == "True", body)
    return answers


def test_make_run_gives_citizens_the_portals_own_404_and_500_pages(tmp_path):
    answers = _as_make_run(tmp_path)
    for path in ("/sager/00000000-0000-0000-0000-000000000000/", "/ingen-side/"):
        status, debug, body = answers[path]
        assert (status, debug) == (404, False)
        assert "Siden findes ikke" in body and "URLconf" not in body and "DEBUG" not in body
    status, _debug, body = answers["/fejl-test/"]
    assert status == 500
    assert "Traceback" not in body and "RuntimeError" not in body and "<title>" in body
    # With DEBUG off, whitenoise (not runserver's DEBUG-only view) serves the static files.
    status, _debug, body = answers["/static/overblik/css/overblik.css"]
    assert status == 200 and body


def test_developers_turn_debug_on_with_DJANGO_DEBUG(tmp_path):
    status, debug, body = _as_make_run(tmp_path, DJANGO_DEBUG="true")["/ingen-side/"]
    assert (status, debug) == (404, True)
    assert "URLconf" in body  # Django's technical 404 page, for the developer
