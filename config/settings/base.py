"""Settings shared by every environment.

Values come from the environment (django-environ); see README.md for the list.
https://docs.djangoproject.com/en/5.2/ref/settings/
"""

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent.parent
env = environ.Env()

# The steering repository's shared/ folder sits beside the checkout; the real
# KLE file and Odense's sheet are read from there at run time, never committed.
SHARED_DIR = Path(env("OVERBLIK_SHARED_DIR", default=str(BASE_DIR.parent / "shared")))

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "import_export",
    "kle",
    "indexes",
    "borgerblikket",
    "overblik",
]

MIDDLEWARE = [
    # A CPR-shaped number in the path never reaches a log line (config/middleware.py).
    "config.middleware.CprFreePathMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "overblik.middleware.SecurityHeadersMiddleware",
    # A NUL byte (%00) in the URL: 400 before anything looks it up (config/middleware.py).
    "config.middleware.NulByteMiddleware",
    # Everything else: a body over OVERBLIK_MAX_BODY_BYTES is 413 unread (config/middleware.py).
    "config.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # /api/: body limit (413) and problem+json for 404/500 (indexes/middleware.py).
    "indexes.middleware.ApiProblemMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "overblik.middleware.DanishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "overblik.middleware.CitizenSessionMiddleware",
    # Eligible citizen page reads to the read replica, read-your-writes (config/replica.py).
    "config.replica.ReplicaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "overblik.context_processors.portal",
            ],
        },
    },
]

# Without DATABASE_URL the embedded default is SQLite, so `make run` works on a
# bare machine; every other environment names its PostgreSQL explicitly.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # `make run`'s portal and its beat (scripts/serve) write to the same file: readers do
    # not block the writer (WAL), a transaction takes the write lock when it starts rather
    # than failing half-way ("database is locked"), and a writer waits up to 20 s for it.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#database-is-locked-errors
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL;",
        }
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DJANGO_CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Read replica (docs/scaling.md, "Read replicas"; config/replica.py) ---------
# DATABASE_REPLICA_URL: a PostgreSQL streaming standby of DATABASE_URL. Set, each
# environment adds it as the `replica` alias; the citizen pages in DATABASE_REPLICA_VIEWS
# (GET/HEAD) read from it, everything else (writes, API, admin, workers) uses the primary.
# https://docs.djangoproject.com/en/5.2/topics/db/multi-db/#an-example
DATABASE_REPLICA_URL = env("DATABASE_REPLICA_URL", default="")
# Beyond this lag (seconds behind, pg_last_xact_replay_timestamp) the primary serves.
DATABASE_REPLICA_MAX_LAG_SECONDS = env.float("DATABASE_REPLICA_MAX_LAG_SECONDS", default=10.0)
# libpq's connect_timeout (whole seconds, at least 2): a replica that does not answer
# costs a request at most this, and then only once per check interval.
DATABASE_REPLICA_CONNECT_TIMEOUT = env.int("DATABASE_REPLICA_CONNECT_TIMEOUT", default=2)
# Each web process checks the replica's answer and lag at most this often (seconds).
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=5.0)
# Read-your-writes: after a request that wrote or logged in, that session reads from
# the primary this long (seconds). Keep it above DATABASE_REPLICA_MAX_LAG_SECONDS.
DATABASE_REPLICA_STICKY_SECONDS = env.float("DATABASE_REPLICA_STICKY_SECONDS", default=15.0)
# The URL names (namespace:name) whose GET/HEAD reads may go to the replica: the citizen
# pages that only read. Not the login, the callback or any form's target.
DATABASE_REPLICA_VIEWS = env.list(
    "DATABASE_REPLICA_VIEWS",
    default=[
        "overblik:home",
        "overblik:overview",
        "overblik:cases",
        "overblik:case",
        "overblik:benefits",
        "overblik:services",
        "overblik:service",
        "overblik:access-log",
        "overblik:notifications",
        "overblik:municipalities",
        "overblik:municipality",
    ],
)
# Writes that do not make a session sticky: the session itself, the once-a-minute
# "last seen" touch and the access log a page writes about its own reads (a citizen's
# own changes are POSTs, which always make it sticky; a login does too).
DATABASE_REPLICA_STICKY_EXEMPT = env.list(
    "DATABASE_REPLICA_STICKY_EXEMPT",
    default=["sessions.session", "overblik.citizen", "indexes.dataaccess"],
)
DATABASE_ROUTERS = ["config.replica.ReplicaRouter"]


def replica_config(url: str, primary: dict) -> dict:
    """The `replica` alias: the standby at ``url``, connections kept as the primary's.

    In tests it mirrors `default` (no test database of its own)."""
    config = env.db_url_config(url)
    if config["ENGINE"] != primary["ENGINE"]:
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must use the same engine as DATABASE_URL.")
    config["CONN_MAX_AGE"] = primary.get("CONN_MAX_AGE", 0)
    config["CONN_HEALTH_CHECKS"] = True
    config["ATOMIC_REQUESTS"] = False
    if config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_REPLICA_CONNECT_TIMEOUT
    config["TEST"] = {"MIRROR": "default"}
    return config


AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Dansk")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [p for p in [BASE_DIR / "static"] if p.exists()]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Celery -----------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/django/first-steps-with-django.html
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
# No broker configured: run tasks in-process (the embedded default of `make run`).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
if CELERY_TASK_ALWAYS_EAGER:
    # Celery's eager path still opens a producer; without a URL it would look for
    # a broker on localhost (and warn about it in the log). Nothing is sent.
    CELERY_BROKER_WRITE_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 300
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task whose worker dies is redelivered rather than lost (tasks are idempotent).
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Queues (docs/scaling.md, "Queues"): one source system's backlog must not delay another's.
# An inbox batch of at most INDEXES_QUEUE_SINGLE_MAX_RECORDS records (a single delivery)
# goes to `ingest.single`; a bigger one to `ingest.bulk.<source system id mod SHARDS>`;
# feed polls to `ingest.feeds`; everything else to `celery`. A worker started without -Q
# consumes every queue below, taking from them in turn (kombu's Redis transport rotates
# the queues it polls), so a 50,000-record backlog of one system waits behind the
# others' batches, not they behind it (bench/queues.py). Off (INDEXES_QUEUES_SPLIT=false):
# everything on `celery`, first in first out.
INDEXES_QUEUES_SPLIT = env.bool("INDEXES_QUEUES_SPLIT", default=True)
INDEXES_QUEUE_SINGLE_MAX_RECORDS = env.int("INDEXES_QUEUE_SINGLE_MAX_RECORDS", default=100)
INDEXES_QUEUE_BULK_SHARDS = env.int("INDEXES_QUEUE_BULK_SHARDS", default=8)
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = [
    Queue(name)
    for name in (
        CELERY_TASK_DEFAULT_QUEUE,
        "ingest.single",
        "ingest.feeds",
        *(f"ingest.bulk.{shard}" for shard in range(INDEXES_QUEUE_BULK_SHARDS)),
    )
]
CELERY_TASK_ROUTES = (
    {"indexes.sources.feed_poll": {"queue": "ingest.feeds"}} if INDEXES_QUEUES_SPLIT else {}
)
# The inbox sweep (indexes.services.inbox.inbox_sweep) re-enqueues pending batches
# not enqueued for INDEXES_INBOX_SWEEP_AFTER seconds: after a killed worker (its
# task stays unacknowledged in Redis for the visibility timeout, an hour) or a lost
# Redis (queued tasks gone), a batch is picked up again within AFTER + EVERY
# seconds. 30 s is far above a batch's own processing time (~1 s for 1,000
# records, docs/performance.md), so a busy worker is rarely sent a duplicate, and
# a duplicate is harmless (it finds the batch done, or taken by another worker).
# Measured recovery with these defaults: docs/performance.md, "Faults".
INDEXES_INBOX_SWEEP_EVERY = env.float("INDEXES_INBOX_SWEEP_EVERY", default=15.0)
INDEXES_INBOX_SWEEP_AFTER = env.int("INDEXES_INBOX_SWEEP_AFTER", default=30)
# A batch whose processing failed this many times (an error other than a lost
# database connection, or a worker killed mid-batch) is parked with its reason:
# the admin shows it with a retry action, /healthz/status counts it.
INDEXES_INBOX_MAX_TRIES = env.int("INDEXES_INBOX_MAX_TRIES", default=5)
# Defaults the DatabaseScheduler copies into its tables at every beat start.
CELERY_BEAT_SCHEDULE = {
    # Re-enqueue inbox batches that sat unprocessed (broker down, worker killed).
    "indexes-inbox-sweep": {
        "task": "indexes.inbox_sweep",
        "schedule": INDEXES_INBOX_SWEEP_EVERY,
        "kwargs": {},
    },
}

# --- Events back: outbox and webhooks (docs/api.md, "Events back") -------------
# Retry n waits min(CAP, BASE·2^(n-1)) seconds, half of it random (jitter); after
# MAX_ATTEMPTS tries a delivery is dead (admin: dead letters, replay). The defaults
# keep trying for about 9 hours.
INDEXES_WEBHOOK_BACKOFF_BASE = env.float("INDEXES_WEBHOOK_BACKOFF_BASE", default=5.0)
INDEXES_WEBHOOK_BACKOFF_CAP = env.float("INDEXES_WEBHOOK_BACKOFF_CAP", default=3600.0)
INDEXES_WEBHOOK_MAX_ATTEMPTS = env.int("INDEXES_WEBHOOK_MAX_ATTEMPTS", default=15)
INDEXES_WEBHOOK_TIMEOUT = env.float("INDEXES_WEBHOOK_TIMEOUT", default=10.0)
# Records sent at once per subscription (each record's events stay in order).
INDEXES_WEBHOOK_CONCURRENCY = env.int("INDEXES_WEBHOOK_CONCURRENCY", default=16)
INDEXES_WEBHOOK_DISPATCH_SECONDS = env.float("INDEXES_WEBHOOK_DISPATCH_SECONDS", default=60.0)
INDEXES_WEBHOOK_SWEEP_EVERY = env.float("INDEXES_WEBHOOK_SWEEP_EVERY", default=10.0)
# The cursor API holds back events younger than this: a transaction may commit after
# a later one, and a reader past the later id would miss it.
INDEXES_EVENTS_CURSOR_SETTLE = env.float("INDEXES_EVENTS_CURSOR_SETTLE", default=10.0)
CELERY_BEAT_SCHEDULE["indexes-webhooks-sweep"] = {
    "task": "indexes.webhooks_sweep",
    "schedule": INDEXES_WEBHOOK_SWEEP_EVERY,
    "kwargs": {},
}

# --- KLE --------------------------------------------------------------------
KLE_API_BASE = env("KLE_API_BASE", default="https://api.kle-online.dk/resources/kle")
KLE_SOURCE = env("KLE_SOURCE", default="")
KLE_HTTP_TIMEOUT = env.float("KLE_HTTP_TIMEOUT", default=10.0)
# The scheduled sync (docs/kle.md, "Releases"): KLE-online asked with If-None-Match /
# If-Modified-Since; empty means the file folder only. The folder is the fallback: the
# newest KLE-Emneplan*.xml / KLE-Handlingsfacetter*.xml an operator put there.
KLE_SYNC_API_BASE = env("KLE_SYNC_API_BASE", default=KLE_API_BASE)
KLE_SYNC_DIR = env("KLE_SYNC_DIR", default=str(SHARED_DIR / "data" / "kle"))
# Hour (Europe/Copenhagen) of the nightly sync; KL publishes four times a year.
KLE_SYNC_HOUR = env.int("KLE_SYNC_HOUR", default=4)
CELERY_BEAT_SCHEDULE["kle-release-sync"] = {
    "task": "borgerblikket.kle_release_sync",
    "schedule": crontab(minute=17, hour=KLE_SYNC_HOUR),
    "kwargs": {},
}

# --- Retention (docs/borgerblikket.md, "Retention") ---------------------------
# Every night closed cases whose KLE deletion period (or the municipality's shorter
# setting) has run from closing leave the index with their documents and benefits, and
# the citizens' access log ("Hvem har set mine data") older than this many days goes.
OVERBLIK_ACCESS_LOG_RETENTION_DAYS = env.int("OVERBLIK_ACCESS_LOG_RETENTION_DAYS", default=730)
# Count citizen page views and logins per month, municipality and KLE main group (issue 16;
# one INSERT … ON CONFLICT per page). Off only to measure its cost (bench/usage.py).
OVERBLIK_USAGE_COUNTING = env.bool("OVERBLIK_USAGE_COUNTING", default=True)
# The comments of the satisfaction prompt ("Var du tilfreds med dit besøg på Mit Overblik?")
# are removed by the same job when their whole month is this many days old; the answers
# stay for the trend (docs/portal.md, "Brug og tilfredshed").
OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS = env.int(
    "OVERBLIK_SATISFACTION_COMMENT_RETENTION_DAYS", default=730
)
# The delivery logs, by the same job: finished (done) and parked inbox batches with their
# records (the delivered JSON) this many days after they finished or were parked — after
# that GET /api/v1/batches/{id} answers 404 (docs/api.md) — and feed rejections and
# finished feed polls this many days after they were received/finished. A pending batch
# never goes. Also the longest a deleted case's delivered content outlives it there.
OVERBLIK_INBOX_RETENTION_DAYS = env.int("OVERBLIK_INBOX_RETENTION_DAYS", default=30)
OVERBLIK_FEED_LOG_RETENTION_DAYS = env.int("OVERBLIK_FEED_LOG_RETENTION_DAYS", default=30)
# The outboxes, by the same job: events back to the source systems (the cursor API and
# webhooks, docs/api.md "Events back") this many days after they were written, with their
# delivered or dead webhook deliveries; an event with a delivery still pending never goes.
# A cursor reader must read at least this often, or it reads on from the oldest kept.
OVERBLIK_EVENTS_RETENTION_DAYS = env.int("OVERBLIK_EVENTS_RETENTION_DAYS", default=30)
# The messages sent to citizens (their "Sendte beskeder" list) this many days after they
# were made; a message still to be sent never goes.
OVERBLIK_NOTIFICATION_RETENTION_DAYS = env.int("OVERBLIK_NOTIFICATION_RETENTION_DAYS", default=365)
# Cases per transaction: bounds a run's locks and memory (docs/performance.md, "Retention").
OVERBLIK_RETENTION_BATCH_SIZE = env.int("OVERBLIK_RETENTION_BATCH_SIZE", default=1000)
# Hour (Europe/Copenhagen) of the nightly run.
OVERBLIK_RETENTION_HOUR = env.int("OVERBLIK_RETENTION_HOUR", default=2)
CELERY_BEAT_SCHEDULE["retention"] = {
    "task": "borgerblikket.retention_run",
    "schedule": crontab(minute=41, hour=OVERBLIK_RETENTION_HOUR),
    "kwargs": {},
}

# --- Roll-out history (docs/borgerblikket.md, "National roll-out") -------------
# Each night the roll-out map's position of every municipality is written as the ISO
# week's row (a later run in the week replaces it): late in the day, so Sunday's run
# closes the week. Hour (Europe/Copenhagen); the minute is 53.
OVERBLIK_ROLLOUT_SNAPSHOT_HOUR = env.int("OVERBLIK_ROLLOUT_SNAPSHOT_HOUR", default=23)
CELERY_BEAT_SCHEDULE["rollout-snapshot"] = {
    "task": "borgerblikket.rollout_snapshot",
    "schedule": crontab(minute=53, hour=OVERBLIK_ROLLOUT_SNAPSHOT_HOUR),
    "kwargs": {},
}
# --- Data quality over time (docs/borgerblikket.md, "Data quality over time") ------------
# Every night each municipality's count of every data-quality check is kept for its trend
# (a second run the same day replaces that day's counts).
BORGERBLIKKET_QUALITY_SNAPSHOT_HOUR = env.int("BORGERBLIKKET_QUALITY_SNAPSHOT_HOUR", default=5)
CELERY_BEAT_SCHEDULE["quality-snapshots"] = {
    "task": "borgerblikket.quality_snapshots_take",
    "schedule": crontab(minute=23, hour=BORGERBLIKKET_QUALITY_SNAPSHOT_HOUR),
    "kwargs": {},
}
# The target line of a check's trend: {"<check key>": <count>}, e.g. {"letter_party": 10};
# a check not named here aims at 0, except the overview "complaint" (no target); null
# removes a check's target.
BORGERBLIKKET_QUALITY_TARGETS = env.json("BORGERBLIKKET_QUALITY_TARGETS", default={})

# --- REST framework ---------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Overblik index API",
    "DESCRIPTION": "Source systems deliver cases, documents, grants and payments to the indexes.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Redoc/Swagger UI served from our own static files, no CDN.
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "PREPROCESSING_HOOKS": ["indexes.api.schema.index_api_only"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "indexes.api.schema.payload_constraints",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ProgressStatusEnum": "indexes.models.ProgressStatus",
        "DocumentStatusEnum": "indexes.models.DocumentStatus",
        "BenefitStatusEnum": "indexes.models.BenefitStatus",
        "BenefitKindEnum": "indexes.models.BenefitKind",
        "RecordKindEnum": "indexes.services.ingestion.RECORD_KINDS",
    },
}
# Largest request body of the index API: a bulk batch of 1,000 records of a
# few KB each fits with room to spare; bigger bodies get a 413 problem.
INDEXES_API_MAX_BODY_BYTES = env.int("INDEXES_API_MAX_BODY_BYTES", default=8 * 1024 * 1024)
# SF1470 XML (indexes.kombit, docs/sf1470.md): the largest XML document parsed (checked
# before parsing; the body limit above applies first), and the identifiers of KOMBIT's
# Klassifikation the installation's systems use for relation roles ({"<uuid>": "<role>",
# roles as in indexes.kombit.sf1470.ROLES}) and for the Visningsklasse "Visning undtaget
# for borger" (a list of UUIDs or URNs). Overblik's own URNs are always recognised.
INDEXES_XML_MAX_BYTES = env.int("INDEXES_XML_MAX_BYTES", default=8 * 1024 * 1024)
INDEXES_SF1470_ROLE_IDS = env.json("INDEXES_SF1470_ROLE_IDS", default={})
INDEXES_SF1470_HIDDEN_CLASS_IDS = env.list("INDEXES_SF1470_HIDDEN_CLASS_IDS", default=[])
# Request bodies outside /api/ (admin forms, the sheet import, logins): a body declared
# larger is answered 413 before any of it is read (config/middleware.py). A sheet is at
# most 2 MB (borgerblikket/services/sheet_files.py); the rest is the form around it.
OVERBLIK_MAX_BODY_BYTES = env.int("OVERBLIK_MAX_BODY_BYTES", default=3 * 1024 * 1024)
# Django's own upload limits, below that cap:
# https://docs.djangoproject.com/en/5.2/ref/settings/#data-upload-max-memory-size
# - the non-file fields of one form (the admin's largest is a changelist action);
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# - a file up to this size stays in memory; a sheet is never written to a temp file;
FILE_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
# - the admin's forms have well under 1,000 fields, and the sheet import one file.
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 1
# Rate limits of the index API (indexes/api/throttling.py; docs/api.md, "Rate
# limits"): requests per API key, and per client IP for requests without a
# valid key; DRF's notation <count>/<second|minute|hour|day>. The per-key
# default is far above the bulk path's needs (2,000+ records/s is a few batch
# POSTs a second) and stops only a runaway client.
INDEXES_API_RATE = env("INDEXES_API_RATE", default="30000/minute")
INDEXES_API_ANON_RATE = env("INDEXES_API_ANON_RATE", default="60/minute")
# How long a rotated API key keeps working beside its successor, in seconds
# (docs/api.md, "Rotating a key"); the operator may choose another overlap per rotation.
INDEXES_API_KEY_ROTATION_OVERLAP = env.int(
    "INDEXES_API_KEY_ROTATION_OVERLAP", default=7 * 24 * 3600
)
# DRF's NUM_PROXIES: how many trusted proxies add X-Forwarded-For in front of
# gunicorn (0: the client IP is REMOTE_ADDR). https://www.django-rest-framework.org/api-guide/throttling/
REST_FRAMEWORK["NUM_PROXIES"] = env.int("DJANGO_NUM_PROXIES", default=0)

# --- Cache --------------------------------------------------------------------
# Rate limits (the API's throttling, the login limits) count in the cache, so
# every web process must share it: Redis when REDIS_CACHE_URL is set (e.g.
# redis://redis:6379/1, another db than the broker's; production falls back to
# the broker's Redis). Otherwise a per-process memory cache, right for one
# process only (`make run`, the tests).
# https://docs.djangoproject.com/en/5.2/topics/cache/#redis
REDIS_CACHE_URL = env("REDIS_CACHE_URL", default="")


def cache_config(url: str) -> dict:
    """The default cache: Redis at ``url``, or process memory without one."""
    if url:
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "overblik",
            # A Redis that hangs must not hang requests: the rate limits let a
            # request through uncounted when the cache does not answer.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "overblik"}


CACHES = {"default": cache_config(REDIS_CACHE_URL)}

# --- Sessions (docs/scaling.md, "Sessions") --------------------------------------
# SESSION_BACKEND: where sessions live. `db` (the default): the database table.
# `cached_db`: Redis in front of the table (every page reads its session from Redis; a
# save still writes through to the table, so a lost Redis loses no login). `redis`:
# Redis alone (the primary sees no session traffic at all; a flushed Redis logs every
# citizen out — run that Redis with persistence and `maxmemory-policy noeviction`).
# The sessions' Redis: REDIS_SESSION_URL, else REDIS_CACHE_URL, else the broker's.
# https://docs.djangoproject.com/en/5.2/topics/http/sessions/#using-cached-sessions
SESSION_BACKEND = env("SESSION_BACKEND", default="db")
REDIS_SESSION_URL = env("REDIS_SESSION_URL", default="")
SESSION_ENGINES = {
    "db": "django.contrib.sessions.backends.db",
    "cached_db": "django.contrib.sessions.backends.cached_db",
    "redis": "django.contrib.sessions.backends.cache",
}


def sessions_config(backend: str, url: str) -> tuple[str, dict | None]:
    """The session engine for ``backend`` and the Redis cache it needs (None for `db`)."""
    if backend not in SESSION_ENGINES:
        raise ImproperlyConfigured(
            f"SESSION_BACKEND must be one of {', '.join(SESSION_ENGINES)}, not {backend!r}."
        )
    if backend == "db":
        return SESSION_ENGINES[backend], None
    if not url:
        raise ImproperlyConfigured(
            f"SESSION_BACKEND={backend} needs a Redis: set REDIS_SESSION_URL "
            "(or REDIS_CACHE_URL, or CELERY_BROKER_URL)."
        )
    cache = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": "overblik-sessions",
        # A session in Redis lives as long as the cookie says (set_expiry), never less.
        "TIMEOUT": None,
        "OPTIONS": {"socket_connect_timeout": 1.0, "socket_timeout": 1.0},
    }
    return SESSION_ENGINES[backend], cache


SESSION_CACHE_ALIAS = "sessions"
# Each environment's module applies SESSION_BACKEND with the Redis it knows (local.py,
# production.py, test.py): the broker's URL has a different default in each, so base
# must not decide, nor refuse, before they have set it.
SESSION_ENGINE = SESSION_ENGINES["db"]

# --- Security defaults shared by all environments ----------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- Citizen login: OpenID Connect through a MitID broker -------------------
# https://mozilla-django-oidc.readthedocs.io/en/stable/settings.html
# OVERBLIK_MOCK_OIDC_URL points every endpoint at the local mock provider that
# `make run` and the browser tests start (production refuses it). A real broker
# is configured with the OIDC_OP_* variables instead.
OVERBLIK_MOCK_OIDC_URL = env("OVERBLIK_MOCK_OIDC_URL", default="").rstrip("/")
_mock = OVERBLIK_MOCK_OIDC_URL
OIDC_OP_AUTHORIZATION_ENDPOINT = env(
    "OIDC_OP_AUTHORIZATION_ENDPOINT", default=f"{_mock}/oauth2/authorize" if _mock else ""
)
OIDC_OP_TOKEN_ENDPOINT = env(
    "OIDC_OP_TOKEN_ENDPOINT", default=f"{_mock}/oauth2/token" if _mock else ""
)
OIDC_OP_USER_ENDPOINT = env("OIDC_OP_USER_ENDPOINT", default=f"{_mock}/userinfo" if _mock else "")
OIDC_OP_JWKS_ENDPOINT = env("OIDC_OP_JWKS_ENDPOINT", default=f"{_mock}/jwks" if _mock else "")
OIDC_OP_LOGOUT_ENDPOINT = env(
    "OIDC_OP_LOGOUT_ENDPOINT", default=f"{_mock}/oauth2/end_session" if _mock else ""
)
# The ID token's `iss` must equal this (mozilla-django-oidc itself checks neither iss nor aud).
OIDC_OP_ISSUER = env("OIDC_OP_ISSUER", default=_mock)
OIDC_RP_CLIENT_ID = env("OIDC_RP_CLIENT_ID", default="overblik-demo" if _mock else "")
OIDC_RP_CLIENT_SECRET = env("OIDC_RP_CLIENT_SECRET", default="demo-only-secret" if _mock else "")
OIDC_RP_SIGN_ALGO = env("OIDC_RP_SIGN_ALGO", default="RS256")
OIDC_RP_SCOPES = env("OIDC_RP_SCOPES", default="openid profile")
OIDC_USE_PKCE = True
OIDC_TIMEOUT = env.float("OIDC_TIMEOUT", default=10.0)
# The ID token carries the CPR number: it is never stored, nor sent as id_token_hint in a URL.
OIDC_STORE_ID_TOKEN = False
OIDC_STORE_ACCESS_TOKEN = False
OIDC_AUTHENTICATION_CALLBACK_URL = "overblik:oidc-callback"
OIDC_OP_LOGOUT_URL_METHOD = "overblik.auth.provider_logout_url"
LOGIN_URL = "overblik:login"
LOGIN_REDIRECT_URL = "overblik:overview"
LOGIN_REDIRECT_URL_FAILURE = "overblik:login-failed"
LOGOUT_REDIRECT_URL = "overblik:logged-out"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "overblik.auth.CitizenOIDCBackend",
]
# Which claim carries the CPR number and the assurance level, and which levels
# are accepted (NSIS "betydelig"/"høj"; MitID brokers name these differently).
OVERBLIK_CPR_CLAIM = env("OVERBLIK_CPR_CLAIM", default="dk.cpr")
OVERBLIK_NAME_CLAIM = env("OVERBLIK_NAME_CLAIM", default="name")
OVERBLIK_LOA_CLAIM = env("OVERBLIK_LOA_CLAIM", default="loa")
OVERBLIK_ACCEPTED_LOA = env.list(
    "OVERBLIK_ACCEPTED_LOA",
    default=[
        "https://data.gov.dk/concept/core/nsis/loa/Substantial",
        "https://data.gov.dk/concept/core/nsis/loa/High",
    ],
)
OIDC_AUTH_REQUEST_EXTRA_PARAMS = {"acr_values": " ".join(OVERBLIK_ACCEPTED_LOA)}
# Key of the HMAC that identifies a citizen without storing the CPR number;
# derived from SECRET_KEY when unset (set it to rotate SECRET_KEY independently).
OVERBLIK_CPR_HMAC_KEY = env("OVERBLIK_CPR_HMAC_KEY", default="")
# A citizen's session ends after this long without a request (sliding), and at
# the latest this long after login.
OVERBLIK_SESSION_IDLE_SECONDS = env.int("OVERBLIK_SESSION_IDLE_SECONDS", default=15 * 60)
OVERBLIK_SESSION_MAX_SECONDS = env.int("OVERBLIK_SESSION_MAX_SECONDS", default=8 * 60 * 60)
OVERBLIK_CASES_PER_PAGE = 20
# `manage.py demo_accounts` (run by `make run`) creates admin accounts with
# published passwords: only the local and test settings turn it on.
OVERBLIK_DEMO_ACCOUNTS = False
# Login rate limits (overblik/ratelimits.py) on the default cache, in django-ratelimit's
# notation ("60/5m" = 60 in 5 minutes; empty = off). Per client IP on the MitID login's
# start and callback (each); per IP and per user name on the admin login's attempts.
# https://django-ratelimit.readthedocs.io/en/stable/rates.html
OVERBLIK_LOGIN_RATE_PER_IP = env("OVERBLIK_LOGIN_RATE_PER_IP", default="60/5m")
OVERBLIK_ADMIN_LOGIN_RATE_PER_IP = env("OVERBLIK_ADMIN_LOGIN_RATE_PER_IP", default="30/15m")
OVERBLIK_ADMIN_LOGIN_RATE_PER_USERNAME = env(
    "OVERBLIK_ADMIN_LOGIN_RATE_PER_USERNAME", default="10/15m"
)

# Content-Security-Policy of every response (overblik.middleware): no inline
# scripts or styles anywhere; the login provider's origin is added to form-action.
# https://developer.mozilla.org/docs/Web/HTTP/Headers/Content-Security-Policy
OVERBLIK_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
OVERBLIK_PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"

# --- Logging ----------------------------------------------------------------
# Every handler passes through the CPR filter: a CPR number never reaches a log.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_cpr": {"()": "config.logging.RedactCprFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["redact_cpr"],
        },
        # runserver's request lines (paths and queries), as Django's default but filtered.
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_cpr"],
        },
    },
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Django's defaults give these unfiltered handlers of their own (and "django" a
        # second console under DEBUG): replaced, so every line passes the filter.
        # gunicorn: config/gunicorn.py; Celery: config/celery.py applies this dict.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# --- Acting for others: power of attorney and parents (issue 15) ------------
# Who may see whom comes from two outside services (borgerblikket/relations.py):
# Digital Fuldmagt (powers of attorney) and a CPR relations service (parents with
# custody). Empty: nobody acts for anyone. The CPR number travels in a POST body,
# never in a URL. `make run` and the tests point both at the stand-in
# (simulators/relations, 127.0.0.1:RELATIONS_PORT).
OVERBLIK_FULDMAGT_URL = env("OVERBLIK_FULDMAGT_URL", default="").rstrip("/")
OVERBLIK_CPR_RELATIONS_URL = env("OVERBLIK_CPR_RELATIONS_URL", default="").rstrip("/")
OVERBLIK_RELATIONS_TIMEOUT = env.float("OVERBLIK_RELATIONS_TIMEOUT", default=3.0)
# How long an answer is reused (seconds, at most 60): a revocation takes effect within it.
OVERBLIK_RELATIONS_CACHE_SECONDS = min(env.int("OVERBLIK_RELATIONS_CACHE_SECONDS", default=60), 60)
# A parent sees a child's data until the child's birthday at this age.
OVERBLIK_CHILD_AGE_LIMIT = env.int("OVERBLIK_CHILD_AGE_LIMIT", default=15)

# --- Sensitive titles (issue 15) ---------------------------------------------
# A case with sensitivity "Følsomme personoplysninger" or higher shows a neutral
# title ("Sag om <KLE main group>") to a holder or parent, and to the citizen
# themself when their login's NSIS assurance level is below this (low, substantial,
# high); a municipality may ask for another level on its sheet (Sheet.sensitive_titles_
# assurance, in the admin).
OVERBLIK_SENSITIVE_TITLES_LOA = env("OVERBLIK_SENSITIVE_TITLES_LOA", default="substantial")

# --- Notifications (docs/notifications.md; issue 14) ------------------------------
# Ingestion writes an outbox event with every change a citizen may be told about
# (indexes.services.outbox); off: nothing is written and nothing is sent.
OVERBLIK_NOTIFICATIONS_ENABLED = env.bool("OVERBLIK_NOTIFICATIONS_ENABLED", default=True)
# At most one message per citizen and channel per window (seconds): events combine.
OVERBLIK_NOTIFICATION_DIGEST_SECONDS = env.int("OVERBLIK_NOTIFICATION_DIGEST_SECONDS", default=3600)
# SMS only from this hour to this hour (Europe/Copenhagen); otherwise queued until it opens.
OVERBLIK_SMS_FROM_HOUR = env.int("OVERBLIK_SMS_FROM_HOUR", default=8)
OVERBLIK_SMS_TO_HOUR = env.int("OVERBLIK_SMS_TO_HOUR", default=20)
# A reminder this many days before an "Afventer dig" deadline (awaiting_party_due).
OVERBLIK_NOTIFICATION_REMINDER_DAYS = env.int("OVERBLIK_NOTIFICATION_REMINDER_DAYS", default=3)
# The address links in messages point at (no trailing slash).
OVERBLIK_PUBLIC_URL = env("OVERBLIK_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Retries of a message whose server or gateway did not answer: backoff base and cap
# (seconds, doubled per attempt); a message is never given up on, only delayed.
OVERBLIK_NOTIFICATION_RETRY_BASE = env.float("OVERBLIK_NOTIFICATION_RETRY_BASE", default=30.0)
OVERBLIK_NOTIFICATION_RETRY_MAX = env.float("OVERBLIK_NOTIFICATION_RETRY_MAX", default=3600.0)
# A message being sent is another worker's for this long; after it the sweep takes it up
# again (a worker killed mid-send), with the same idempotency key.
OVERBLIK_NOTIFICATION_LEASE_SECONDS = env.int("OVERBLIK_NOTIFICATION_LEASE_SECONDS", default=120)
OVERBLIK_NOTIFICATION_SWEEP_EVERY = env.float("OVERBLIK_NOTIFICATION_SWEEP_EVERY", default=10.0)
# E-mail: Django's SMTP backend, configured by one URL, e.g.
# smtp+tls://user:password@smtp.example.dk:587 (django-environ's email_url). Unset: no
# server — Django's mail goes nowhere and the citizens' e-mails wait, retried, never
# marked sent (docs/notifications.md); the local and test settings point at the
# stand-in, never these defaults.
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url_config(EMAIL_URL))
else:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Mit Overblik <noreply@overblik.localhost>")
# SMS through a provider (overblik.notifications.sms): "http" posts JSON to OVERBLIK_SMS_URL
# with an Idempotency-Key header (the local gateway stand-in speaks it); "none" sends none.
# Unset URL: no provider ("none": SMS messages wait, retried), as for e-mail.
OVERBLIK_SMS_URL = env("OVERBLIK_SMS_URL", default="")
OVERBLIK_SMS_PROVIDER = env("OVERBLIK_SMS_PROVIDER", default="http" if OVERBLIK_SMS_URL else "none")
OVERBLIK_SMS_TOKEN = env("OVERBLIK_SMS_TOKEN", default="")
OVERBLIK_SMS_SENDER = env("OVERBLIK_SMS_SENDER", default="MitOverblik")
OVERBLIK_SMS_TIMEOUT = env.float("OVERBLIK_SMS_TIMEOUT", default=10.0)
CELERY_BEAT_SCHEDULE["notifications-dispatch"] = {
    "task": "overblik.notifications_dispatch",
    "schedule": OVERBLIK_NOTIFICATION_SWEEP_EVERY,
    "kwargs": {},
}
CELERY_BEAT_SCHEDULE["notifications-reminders"] = {
    "task": "overblik.notifications_reminders",
    "schedule": crontab(minute=5, hour=7),
    "kwargs": {},
}
