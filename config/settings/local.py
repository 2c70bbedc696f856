"""Development settings: `make run` on a developer's machine."""

from .base import *  # noqa: F403
from .base import (
    CACHES,
    CELERY_BROKER_URL,
    DATABASE_REPLICA_URL,
    DATABASES,
    INSTALLED_APPS,
    REDIS_CACHE_URL,
    REDIS_SESSION_URL,
    SESSION_BACKEND,
    SESSION_CACHE_ALIAS,
    env,
    replica_config,
    sessions_config,
)

# Off by default: citizens trying the demo get the portal's own 404/500 pages,
# never Django's technical ones (settings, URLs, tracebacks). Errors still reach
# the terminal through the log; DJANGO_DEBUG=true turns the debug pages on.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
# whitenoise serves the static files whatever DEBUG says (runserver's own view
# serves them only with DEBUG on).
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_config(DATABASE_REPLICA_URL, DATABASES["default"])
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
SESSION_ENGINE, _sessions_cache = sessions_config(
    SESSION_BACKEND, REDIS_SESSION_URL or REDIS_CACHE_URL or CELERY_BROKER_URL
)
if _sessions_cache:
    CACHES = CACHES | {SESSION_CACHE_ALIAS: _sessions_cache}
# `make run` creates the demo's admin accounts (README, "The demo").
OVERBLIK_DEMO_ACCOUNTS = True

# The stand-ins for other organisations' systems (simulators/): never in production.
# `make run` serves the simulated source systems on loopback at SIMULATORS_PORT
# (scripts/serve), and the demo's feeds are polled there over HTTP.
INSTALLED_APPS = [*INSTALLED_APPS, "simulators"]
SIMULATORS_PORT = env.int("SIMULATORS_PORT", default=9401)
SIMULATORS_URL = env("SIMULATORS_URL", default=f"http://127.0.0.1:{SIMULATORS_PORT}")
# Digital Fuldmagt and CPR relations (issue 15): the stand-in on RELATIONS_PORT
# (simulators/relations, started by scripts/serve).
RELATIONS_PORT = env.int("RELATIONS_PORT", default=9402)
OVERBLIK_FULDMAGT_URL = env(
    "OVERBLIK_FULDMAGT_URL", default=f"http://127.0.0.1:{RELATIONS_PORT}/fuldmagt"
).rstrip("/")
OVERBLIK_CPR_RELATIONS_URL = env(
    "OVERBLIK_CPR_RELATIONS_URL", default=f"http://127.0.0.1:{RELATIONS_PORT}/cpr"
).rstrip("/")

# The stand-ins for the notifications' mail server and SMS gateway (simulators/mail,
# simulators/sms; docs/notifications.md): scripts/serve starts them and exports these.
EMAIL_URL = env("EMAIL_URL", default="smtp://127.0.0.1:9425")
vars().update(env.email_url_config(EMAIL_URL))
OVERBLIK_SMS_URL = env("OVERBLIK_SMS_URL", default="http://127.0.0.1:9426/sms")
OVERBLIK_SMS_PROVIDER = env("OVERBLIK_SMS_PROVIDER", default="http")
