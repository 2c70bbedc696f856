"""Test settings: the real PostgreSQL and Redis when they answer.

Locally the suite falls back to SQLite (and skips what needs the services) when
they do not answer; under CI=true it refuses to run without them.
"""

import socket
from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASE_REPLICA_URL,
    INSTALLED_APPS,
    SESSION_BACKEND,
    SESSION_CACHE_ALIAS,
    env,
    replica_config,
    sessions_config,
)

SECRET_KEY = "tests-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Login rate limits count across tests on a shared cache; the tests that check them
# turn them on (tests/security/test_login_rate_limits.py).
RATELIMIT_ENABLE = False
OVERBLIK_DEMO_ACCOUNTS = True  # tests/simulators/test_demo_accounts.py
# The stand-ins for other organisations' systems (simulators/): the suite serves the
# simulated source systems on a free loopback port and sets SIMULATORS_URL to it
# (tests/plugins/stand_ins.py); subprocesses inherit it through the environment.
INSTALLED_APPS = [*INSTALLED_APPS, "simulators"]
SIMULATORS_URL = env("SIMULATORS_URL", default="http://127.0.0.1:9401")

IN_CI = env.bool("CI", default=False)
DEFAULT_TEST_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/overblik"
DEFAULT_TEST_BROKER_URL = "redis://127.0.0.1:6379/15"


def _answers(url: str) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=1.0):
            return True
    except OSError:
        return False


# The suite's second run of the rules that must also hold on SQLite (make run's default
# database), started by tests/test_sqlite.py: SQLite on purpose, also under CI.
ON_SQLITE = env.bool("OVERBLIK_TEST_ON_SQLITE", default=False)
_database_url = env("DATABASE_URL", default=DEFAULT_TEST_DATABASE_URL)
_broker_url = env("CELERY_BROKER_URL", default=DEFAULT_TEST_BROKER_URL)
POSTGRES_AVAILABLE = (
    not ON_SQLITE and _database_url.startswith("postgres") and _answers(_database_url)
)
REDIS_AVAILABLE = _broker_url.startswith("redis") and _answers(_broker_url)

if IN_CI and not ON_SQLITE and not POSTGRES_AVAILABLE:
    raise ImproperlyConfigured(
        f"CI=true but PostgreSQL does not answer at {urlparse(_database_url).netloc}; "
        "the suite must run against the real database."
    )
if IN_CI and not REDIS_AVAILABLE:
    raise ImproperlyConfigured(
        f"CI=true but Redis does not answer at {urlparse(_broker_url).netloc}; "
        "the suite must run against the real broker."
    )

if POSTGRES_AVAILABLE:
    DATABASES = {"default": env.db_url_config(_database_url)}  # type: ignore[attr-defined]
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# DATABASE_REPLICA_URL set: the `replica` alias, mirroring the test database (Django's
# test databases have no standby; the real one is tested in tests/faults/test_replica.py).
if DATABASE_REPLICA_URL and POSTGRES_AVAILABLE:
    DATABASES["replica"] = replica_config(DATABASE_REPLICA_URL, DATABASES["default"])

# One process: the rate limits' counters live in its memory, whatever
# REDIS_CACHE_URL says (tests/security/test_throttling.py clears it).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# SESSION_BACKEND=cached_db|redis runs the suite with sessions in the suite's Redis (its
# broker's); tests/security/test_session_backends.py runs the session tests so.
SESSION_ENGINE, _sessions_cache = sessions_config(
    SESSION_BACKEND, env("REDIS_SESSION_URL", default=_broker_url)
)
if _sessions_cache:
    CACHES[SESSION_CACHE_ALIAS] = _sessions_cache | {"KEY_PREFIX": "overblik-test-sessions"}
# The whole suite makes many requests from one IP within a minute; the tests of
# the limits themselves set low rates with override_settings.
INDEXES_API_RATE = "1000000/minute"
INDEXES_API_ANON_RATE = "1000000/minute"

# The suite's workers take one queue of their own (tests/conftest.py), so every task goes
# to the default queue; tests/indexes/test_queues.py turns the split on with a worker of
# its own on the split queues.
INDEXES_QUEUES_SPLIT = env.bool("INDEXES_QUEUES_SPLIT", default=False)
CELERY_TASK_ROUTES = {}
# Tests drive a real worker where they need one; nothing runs eagerly by default.
CELERY_BROKER_URL = _broker_url
CELERY_TASK_ALWAYS_EAGER = False
# base.py points the eager producer at an in-memory transport when no broker URL
# was given; the suite's broker is decided here, so publish to it.
CELERY_BROKER_WRITE_URL = None

# Serve static files from the app folders without a collectstatic run.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = BASE_DIR / "var" / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# The scheduled KLE sync never reaches the internet or the shared folder from a test:
# the tests that run it point these at a local HTTP server and a temporary folder (a
# real worker's folder through OVERBLIK_TEST_KLE_SYNC_DIR, tests/borgerblikket/
# test_kle_releases_worker.py).
KLE_SYNC_API_BASE = ""
KLE_SYNC_DIR = env("OVERBLIK_TEST_KLE_SYNC_DIR", default="")

# The stand-ins for the notifications' mail server and SMS gateway (simulators/mail,
# simulators/sms): tests/plugins/outside.py starts them on free ports and points these
# there.
EMAIL_URL = env("EMAIL_URL", default="smtp://127.0.0.1:9425")
vars().update(env.email_url_config(EMAIL_URL))
OVERBLIK_SMS_URL = env("OVERBLIK_SMS_URL", default="http://127.0.0.1:9426/sms")
OVERBLIK_SMS_PROVIDER = env("OVERBLIK_SMS_PROVIDER", default="http")
