"""Cost of the index API's rate limit per request, against baselines in the same run.

Times ``CredentialRateThrottle.allow_request`` (one ``cache.add`` + one atomic
``incr`` per request) on the process-memory cache and on Redis, next to:

- the baseline: one Redis ``PING`` round trip (the least any shared counter costs);
- DRF's ``SimpleRateThrottle`` at the same rate, which reads, rewrites and
  pickles the list of every request's timestamp in the window (why the API
  does not use it: its cost grows with the rate).

Usage (Redis db of your own; keys are prefixed and deleted afterwards):

    CELERY_BROKER_URL=redis://127.0.0.1:6379/5 .venv/bin/python bench/throttle.py --requests 5000

Figures and how to read them: docs/performance.md, section "API rate limits".
"""

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--rate", default="30000/minute", help="the per-key rate (default's)")
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.conf import settings
    from django.core.cache import caches
    from django.test import override_settings
    from rest_framework.throttling import SimpleRateThrottle

    from config.settings.base import cache_config
    from indexes.api import throttling

    redis_url = settings.CELERY_BROKER_URL
    prefix = f"bench-throttle-{uuid.uuid4().hex[:8]}"
    backends = {
        "memory": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "redis": cache_config(redis_url) | {"KEY_PREFIX": prefix},
    }

    class Credential:
        key_id = "bench"

    class Request:
        auth = Credential()
        META = {"REMOTE_ADDR": "127.0.0.1"}

    class DrfThrottle(SimpleRateThrottle):
        rate = args.rate

        def get_cache_key(self, request, view):
            return f"drf:{request.auth.key_id}"

    def timed(make, n) -> float:
        request = Request()
        start = time.perf_counter()
        for _ in range(n):
            assert make().allow_request(request, None)
        return (time.perf_counter() - start) / n * 1e6

    n = args.requests
    print(f"{n} requests of one key at {args.rate}; microseconds per request")
    for name, backend in backends.items():
        with override_settings(CACHES={"default": backend}, INDEXES_API_RATE=args.rate):
            from django.core.cache import cache

            if name == "redis":
                client = cache._cache.get_client()
                start = time.perf_counter()
                for _ in range(n):
                    client.ping()
                ping = (time.perf_counter() - start) / n * 1e6
                print(f"  baseline, redis PING round trip:            {ping:8.1f}")
            ours = timed(throttling.CredentialRateThrottle, n)
            # DRF's class binds its cache at import: point it at this one.
            DrfThrottle.cache = caches["default"]
            drf = timed(DrfThrottle, n)
            print(f"  {name:6}: fixed window (indexes.api):       {ours:8.1f}")
            print(f"  {name:6}: DRF SimpleRateThrottle, {n} in window: {drf:8.1f}")
            if name == "redis":
                keys = client.keys(f"{prefix}:*")
                if keys:
                    client.delete(*keys)


if __name__ == "__main__":
    main()
