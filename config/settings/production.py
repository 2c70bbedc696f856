"""Production settings: nothing secret has a default, and start-up fails fast.

https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
"""

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    DATABASE_REPLICA_URL,
    DATABASES,
    OVERBLIK_MOCK_OIDC_URL,
    REDIS_CACHE_URL,
    REDIS_SESSION_URL,
    SESSION_BACKEND,
    SESSION_CACHE_ALIAS,
    cache_config,
    env,
    replica_config,
    sessions_config,
)


def _required(name: str) -> str:
    value = env(name, default="")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    return value


def _strong(name: str) -> str:
    """A required key as strong as Django's deploy check asks (which only warns): refused
    at start otherwise. The message never repeats the key."""
    value = _required(name)
    if (
        len(value) < SECRET_KEY_MIN_LENGTH
        or len(set(value)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or value.startswith(SECRET_KEY_INSECURE_PREFIX)
    ):
        raise ImproperlyConfigured(
            f"{name} is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters, "
            f"{SECRET_KEY_MIN_UNIQUE_CHARACTERS} or more of them distinct, not starting with "
            f"{SECRET_KEY_INSECURE_PREFIX!r} (e.g. python -c 'import secrets; "
            "print(secrets.token_urlsafe(64))')."
        )
    return value


DEBUG = False
SECRET_KEY = _strong("DJANGO_SECRET_KEY")
# The key of the citizens' CPR hashes (overblik/services.py) is its own: derived from
# SECRET_KEY (the default elsewhere), rotating the secret key would orphan every
# citizen's account and access log.
OVERBLIK_CPR_HMAC_KEY = _strong("OVERBLIK_CPR_HMAC_KEY")
if OVERBLIK_CPR_HMAC_KEY == SECRET_KEY:
    raise ImproperlyConfigured("OVERBLIK_CPR_HMAC_KEY must differ from DJANGO_SECRET_KEY.")
ALLOWED_HOSTS = [h.strip() for h in _required("DJANGO_ALLOWED_HOSTS").split(",") if h.strip()]
_required("DATABASE_URL")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL in production.")
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_config(DATABASE_REPLICA_URL, DATABASES["default"])
CELERY_BROKER_URL = _required("CELERY_BROKER_URL")
# Rate limits must be counted across all gunicorn workers: a shared Redis cache
# (REDIS_CACHE_URL, else the broker's Redis under the "overblik" key prefix).
CACHES = {"default": cache_config(REDIS_CACHE_URL or CELERY_BROKER_URL)}
SESSION_ENGINE, _sessions_cache = sessions_config(
    SESSION_BACKEND, REDIS_SESSION_URL or REDIS_CACHE_URL or CELERY_BROKER_URL
)
if _sessions_cache:
    CACHES[SESSION_CACHE_ALIAS] = _sessions_cache
CELERY_TASK_ALWAYS_EAGER = False
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# TLS terminates at the proxy in front of gunicorn.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# The login rate limits count per client address (overblik/ratelimits.py); behind the proxy
# REMOTE_ADDR is the proxy's own. Name the META key of the header the proxy overwrites with
# the client's address (e.g. HTTP_X_REAL_IP), or every login counts against one address.
# https://django-ratelimit.readthedocs.io/en/stable/settings.html
RATELIMIT_IP_META_KEY = env("DJANGO_RATELIMIT_IP_META_KEY", default="") or None
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The `__Host-` prefix makes the browser insist on Secure, Path=/ and no Domain.
SESSION_COOKIE_NAME = "__Host-overblik_session"
CSRF_COOKIE_NAME = "__Host-overblik_csrf"
if OVERBLIK_MOCK_OIDC_URL:
    raise ImproperlyConfigured(
        "OVERBLIK_MOCK_OIDC_URL (the demo login) must not be set in production."
    )
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_COOKIE_AGE", default=30 * 60)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
