"""Login rate limits (django-ratelimit on the default cache).

The MitID login's start and callback are limited per client IP; the admin
login's attempts (POSTs) per IP and per user name. A limited request gets the
portal's 429 page with ``Retry-After``; the log line names the limit, never
the IP address or the user name.

Rates are settings (config/settings/base.py, from the environment) in
django-ratelimit's notation (``"60/5m"`` = 60 requests in 5 minutes); an empty
value turns a limit off. ``RATELIMIT_ENABLE = False`` turns them all off (the
test settings do; tests/security/test_login_rate_limits.py turns them on).
Behind a proxy set ``DJANGO_RATELIMIT_IP_META_KEY`` (production settings) so the
client's address, not the proxy's, is counted.
https://django-ratelimit.readthedocs.io/en/stable/settings.html
"""

import logging
import math
from functools import wraps

from django.conf import settings
from django.contrib import admin
from django.shortcuts import render
from django_ratelimit import UNSAFE
from django_ratelimit.core import get_usage

logger = logging.getLogger(__name__)


def _rate(name: str):
    """A rate callable for django-ratelimit: the setting ``name``, read at request time."""

    def rate(group, request):
        return getattr(settings, name) or None

    return rate


def _username(group, request) -> str:
    # django-ratelimit hashes the value into the cache key; the name is not stored.
    return (request.POST.get("username") or "").strip().casefold()


def rate_limited_response(request, *, limit: str, retry_after: int):
    """The portal's "too many attempts" page (429) with ``Retry-After`` in seconds."""
    logger.warning("login rate limit reached: %s", limit)
    response = render(
        request,
        "overblik/rate_limited.html",
        {"minutes": max(1, math.ceil(retry_after / 60))},
        status=429,
    )
    response["Retry-After"] = str(max(1, retry_after))
    return response


def rate_limit(*limits: tuple[str, object, str], method=None):
    """Decorate a view with limits ``(group, key, rate setting)``; all are counted."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            for group, key, setting in limits:
                if key is _username and not _username(group, request):
                    continue
                usage = get_usage(
                    request,
                    group=group,
                    key=key,
                    rate=_rate(setting),
                    method=method or ["GET", "HEAD", *UNSAFE],
                    increment=True,
                )
                if usage and usage["should_limit"]:
                    return rate_limited_response(
                        request, limit=group, retry_after=int(usage["time_left"])
                    )
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


# Counted apart: a login is one request to each.
citizen_login_start_rate_limit = rate_limit(
    ("overblik.login.start", "ip", "OVERBLIK_LOGIN_RATE_PER_IP"),
)
citizen_login_callback_rate_limit = rate_limit(
    ("overblik.login.callback", "ip", "OVERBLIK_LOGIN_RATE_PER_IP"),
)

admin_login_rate_limit = rate_limit(
    ("admin.login.ip", "ip", "OVERBLIK_ADMIN_LOGIN_RATE_PER_IP"),
    ("admin.login.username", _username, "OVERBLIK_ADMIN_LOGIN_RATE_PER_USERNAME"),
    method=UNSAFE,
)


@admin_login_rate_limit
def admin_login(request, **kwargs):
    """The admin site's own login view, with the admin login's rate limits in front.

    Each attempt is logged (ASVS 7.2.1): a success with the user's id, a failure
    with nothing that names who was tried (no user name, no address).
    """
    response = admin.site.login(request, **kwargs)
    if request.method == "POST":
        if response.status_code == 302 and request.user.is_authenticated:
            logger.info("admin login succeeded: user id %s", request.user.pk)
        elif response.status_code == 200:
            logger.warning("admin login failed")
    return response
