"""Rate limits of the index API: per source-system credential, and per IP without one.

Fixed windows counted with one atomic increment per request (on Redis, when
``REDIS_CACHE_URL`` is set, ``SET NX EX`` and ``INCR`` in one round trip; see
``config/settings/base.py``):
constant cost at any rate, unlike DRF's ``SimpleRateThrottle``, which stores and
rewrites the timestamp of every request in the window. A refused request is a
``429`` problem with ``Retry-After`` (seconds until the window ends), raised as
DRF's ``Throttled`` and rendered by ``indexes.api.problems.exception_handler``.

Rates are settings (``INDEXES_API_RATE``, ``INDEXES_API_ANON_RATE``), read per
request, in DRF's notation ``<count>/<second|minute|hour|day>``.

A cache that does not answer (Redis stopped) lets the request through, logged:
the inbox is in PostgreSQL, so deliveries must go on being accepted while Redis
is down (bench/faults.py, tests/faults/).
"""

import functools
import logging
import math
import time

import redis
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def rate_parse(rate: str) -> tuple[int, int]:
    """``"600/minute"`` -> ``(600, 60)``: requests allowed per window of seconds."""
    count, _, period = rate.partition("/")
    return int(count), _PERIODS[period.strip()[0]]


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    """One client per Redis URL and process (the cache makes one per call, which
    costs more than the round trip)."""
    return redis.Redis.from_url(url)


def _cache_url() -> str:
    # Django's RedisCache writes to the first of several locations.
    location = settings.CACHES["default"]["LOCATION"]
    return location[0] if isinstance(location, list | tuple) else location.split(",")[0]


class _FixedWindowThrottle(BaseThrottle):
    scope = ""

    def rate(self) -> str | None:
        raise NotImplementedError

    def ident(self, request) -> str | None:
        raise NotImplementedError

    def allow_request(self, request, view) -> bool:
        rate = self.rate()
        ident = self.ident(request)
        if not rate or ident is None:
            return True
        limit, period = rate_parse(rate)
        now = time.time()
        window = int(now // period)
        key = f"throttle:{self.scope}:{ident}:{period}:{window}"
        try:
            count = self._count(key, period)
        except (RedisError, OSError) as exc:
            logger.warning(
                "Rate limit not counted: the cache does not answer (%s).", type(exc).__name__
            )
            return True
        if count <= limit:
            return True
        self._wait = (window + 1) * period - now
        return False

    @staticmethod
    def _count(key: str, period: int) -> int:
        # caches["default"], not the module's proxy: isinstance() cannot see through that.
        if isinstance(caches["default"], RedisCache):
            # One round trip (Django's add() and incr() take three): create the
            # window's key with its expiry if missing, then increment it.
            redis_key = cache.make_and_validate_key(key)
            pipe = _redis_client(settings.CACHES["default"]["LOCATION"]).pipeline(transaction=False)
            pipe.set(redis_key, 0, ex=period + 1, nx=True)
            pipe.incr(redis_key)
            return int(pipe.execute()[1])
        # add() is a no-op when the key exists; the window's key expires with it.
        cache.add(key, 0, timeout=period + 1)
        try:
            return cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, timeout=period + 1)
            return 1

    def wait(self) -> float | None:
        return max(1, math.ceil(self._wait))


class CredentialRateThrottle(_FixedWindowThrottle):
    """Requests of one API key (``request.auth`` is its ``ApiCredential``)."""

    scope = "credential"

    def rate(self):
        return settings.INDEXES_API_RATE

    def ident(self, request):
        credential = request.auth
        return None if credential is None else credential.key_id


class AnonymousRateThrottle(_FixedWindowThrottle):
    """Requests without a valid key (none, malformed, wrong or revoked), per client IP.

    The IP is ``REMOTE_ADDR``, or the address ``NUM_PROXIES`` hops back in
    ``X-Forwarded-For`` when the app runs behind that many trusted proxies
    (DRF's ``BaseThrottle.get_ident``).
    """

    scope = "anonymous"

    def rate(self):
        return settings.INDEXES_API_ANON_RATE

    def ident(self, request):
        if request.auth is not None:
            return None
        return self.get_ident(request)
