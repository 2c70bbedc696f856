"""Sessions in Redis (``SESSION_BACKEND``, docs/scaling.md "Sessions"): the setting picks the
engine, a login's session then lives in the real Redis (and, for ``redis``, nowhere in the
database), and the whole session-security file passes in each Redis mode as it does with
the database (the default, which the rest of the suite runs)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore as CacheSession
from django.contrib.sessions.backends.cached_db import SessionStore as CachedDbSession
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config.settings.base import sessions_config

ROOT = Path(__file__).resolve().parent.parent.parent


def _need_redis() -> None:
    if not settings.REDIS_AVAILABLE:
        # Under CI=true the test settings refuse to start without Redis already.
        pytest.skip("Redis does not answer (outside CI)")


def test_the_default_keeps_sessions_in_the_database():
    assert sessions_config("db", "") == ("django.contrib.sessions.backends.db", None)


@pytest.mark.parametrize(
    ("backend", "engine"),
    [
        ("cached_db", "django.contrib.sessions.backends.cached_db"),
        ("redis", "django.contrib.sessions.backends.cache"),
    ],
)
def test_a_redis_backend_names_its_engine_and_a_redis_cache(backend, engine):
    chosen, cache = sessions_config(backend, "redis://127.0.0.1:6379/3")
    assert chosen == engine
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/3"


def test_a_redis_backend_without_a_redis_refuses_to_start():
    with pytest.raises(ImproperlyConfigured, match="needs a Redis"):
        sessions_config("redis", "")
    with pytest.raises(ImproperlyConfigured, match="SESSION_BACKEND must be one of"):
        sessions_config("memcache", "redis://x")


def _redis_caches() -> dict:
    _, cache = sessions_config("redis", settings.CELERY_BROKER_URL)
    return settings.CACHES | {"sessions": cache | {"KEY_PREFIX": "overblik-test-backends"}}


@pytest.mark.django_db
def test_a_redis_session_is_in_redis_and_not_in_the_database():
    _need_redis()
    with override_settings(CACHES=_redis_caches(), SESSION_CACHE_ALIAS="sessions"):
        session = CacheSession()
        session["probe"] = "yes"
        session.create()
        session.save()
        assert caches["sessions"].get(session.cache_key)["probe"] == "yes"
        assert not Session.objects.filter(session_key=session.session_key).exists()
        assert CacheSession(session.session_key).load()["probe"] == "yes"
        session.delete()
        assert caches["sessions"].get(session.cache_key) is None


@pytest.mark.django_db
def test_a_cached_db_session_is_in_redis_and_in_the_database():
    _need_redis()
    with override_settings(CACHES=_redis_caches(), SESSION_CACHE_ALIAS="sessions"):
        session = CachedDbSession()
        session["probe"] = "yes"
        session.save()
        assert caches["sessions"].get(session.cache_key)["probe"] == "yes"
        assert Session.objects.filter(session_key=session.session_key).exists()
        session.delete()
        assert caches["sessions"].get(session.cache_key) is None
        assert not Session.objects.filter(session_key=session.session_key).exists()


def _own_database(backend: str) -> str:
    url = settings.DATABASES["default"]
    password = f":{url['PASSWORD']}" if url.get("PASSWORD") else ""
    return (
        f"postgres://{url['USER']}{password}@{url['HOST']}:{url['PORT']}/"
        f"{url['NAME'].removeprefix('test_')}_sessions_{backend}"
    )


@pytest.mark.parametrize("backend", ["cached_db", "redis"])
def test_the_session_security_tests_pass_with_sessions_in_redis(backend):
    """The same file, in a pytest of its own with ``SESSION_BACKEND`` set (~40 s each)."""
    _need_redis()
    if not settings.POSTGRES_AVAILABLE:
        pytest.skip("PostgreSQL does not answer (outside CI)")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/security/test_session_security.py",
            "-p",
            "no:randomly",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        # A database of its own: this pytest's test database is in use by this run.
        env=os.environ | {"SESSION_BACKEND": backend, "DATABASE_URL": _own_database(backend)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("module", "environment"),
    [
        # The test settings' broker has a default of its own (CI sets no CELERY_BROKER_URL).
        ("config.settings.test", {}),
        ("config.settings.local", {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/4"}),
        ("config.settings.local", {"REDIS_SESSION_URL": "redis://127.0.0.1:6379/5"}),
    ],
)
def test_each_environment_applies_the_session_backend_with_its_own_redis(module, environment):
    """Base must not decide before the environment's module has set its Redis: CI's run
    (no CELERY_BROKER_URL in the environment) refused to start under SESSION_BACKEND=redis."""
    bare = {
        k: v
        for k, v in os.environ.items()
        if k not in {"CELERY_BROKER_URL", "REDIS_SESSION_URL", "REDIS_CACHE_URL"}
    }
    probe = (
        "import django; from django.conf import settings; django.setup(); "
        "print(settings.SESSION_ENGINE, settings.CACHES['sessions']['LOCATION'])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=bare
        | environment
        | {"SESSION_BACKEND": "redis", "DJANGO_SETTINGS_MODULE": module, "CI": "false"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    engine, location = result.stdout.split()
    assert engine == "django.contrib.sessions.backends.cache"
    assert location.startswith("redis://127.0.0.1:6379/")
