"""Rate limits of the index API: per API key, per IP without a valid key; 429 problems."""

# Fixtures are imported from api_support; pytest injects them by parameter name.
# ruff: noqa: F811

import uuid

import pytest
import time_machine
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from rest_framework.test import APIClient

from config.settings.base import cache_config
from indexes.api.throttling import rate_parse
from tests.indexes.api_support import (
    client_for,
    other_system,  # noqa: F401
    other_system_client,  # noqa: F401
    source_system,  # noqa: F401
    source_system_client,  # noqa: F401
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def _assert_throttled(response, *, within: int):
    assert response.status_code == 429, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 429
    assert body["type"] == "urn:overblik:problem:too-many-requests"
    assert 1 <= int(response["Retry-After"]) <= within


def test_rates_are_parsed_in_drf_notation():
    assert rate_parse("600/minute") == (600, 60)
    assert rate_parse("5/s") == (5, 1)
    assert rate_parse("100/hour") == (100, 3600)
    assert rate_parse("2/day") == (2, 86400)


@override_settings(INDEXES_API_RATE="3/minute")
def test_each_key_has_its_own_budget(source_system_client, other_system_client):
    with time_machine.travel("2025-03-01 10:00:05+00:00", tick=False):
        for _ in range(3):
            assert source_system_client.get("/api/v1/cases").status_code == 200
        _assert_throttled(source_system_client.get("/api/v1/cases"), within=60)
        # Writes count too, and are refused before anything is written.
        _assert_throttled(
            source_system_client.put("/api/v1/cases/x", data={}, content_type="application/json"),
            within=60,
        )
        # Another system's key is not affected.
        assert other_system_client.get("/api/v1/cases").status_code == 200
    # The next window starts afresh.
    with time_machine.travel("2025-03-01 10:01:00+00:00", tick=False):
        assert source_system_client.get("/api/v1/cases").status_code == 200


@override_settings(INDEXES_API_RATE="2/minute")
def test_a_second_key_of_the_same_system_counts_on_its_own(source_system):
    first, second = client_for(source_system), client_for(source_system)
    with time_machine.travel("2025-03-01 10:00:00+00:00", tick=False):
        for _ in range(2):
            assert first.get("/api/v1/grants").status_code == 200
        assert first.get("/api/v1/grants").status_code == 429
        assert second.get("/api/v1/grants").status_code == 200


@override_settings(INDEXES_API_ANON_RATE="2/minute", INDEXES_API_RATE="100/minute")
def test_requests_without_a_valid_key_are_limited_per_ip(source_system_client):
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    guesser.credentials(HTTP_AUTHORIZATION="Bearer deadbeef.not-a-secret")
    with time_machine.travel("2025-03-01 10:00:30+00:00", tick=False):
        for _ in range(2):
            response = guesser.get("/api/v1/cases")
            assert response.status_code == 401
        # The third wrong key from that IP is not even checked.
        _assert_throttled(guesser.get("/api/v1/cases"), within=30)
        _assert_throttled(APIClient(REMOTE_ADDR="203.0.113.9").get("/api/v1/cases"), within=30)
        # Another IP, and a valid key from any IP, are unaffected.
        assert APIClient(REMOTE_ADDR="198.51.100.7").get("/api/v1/cases").status_code == 401
        assert (
            source_system_client.get("/api/v1/cases", REMOTE_ADDR="203.0.113.9").status_code == 200
        )


@override_settings(INDEXES_API_ANON_RATE="1/minute")
def test_the_schema_and_docs_are_not_limited(client):
    for _ in range(3):
        assert client.get("/api/v1/schema/").status_code == 200


@pytest.mark.integration
def test_limits_are_counted_in_the_shared_redis_cache(source_system_client):
    """With REDIS_CACHE_URL every web process counts in the same Redis keys."""
    redis_cache = cache_config(settings.CELERY_BROKER_URL)
    redis_cache["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:8]}"
    assert redis_cache["BACKEND"].endswith("RedisCache")
    with override_settings(CACHES={"default": redis_cache}, INDEXES_API_RATE="2/minute"):
        from django.core.cache import cache as shared

        redis = shared._cache.get_client()

        def keys():
            return redis.keys(f"{redis_cache['KEY_PREFIX']}:*")

        try:
            with time_machine.travel("2025-03-01 10:00:00+00:00", tick=False):
                assert source_system_client.get("/api/v1/cases").status_code == 200
                assert source_system_client.get("/api/v1/cases").status_code == 200
                _assert_throttled(source_system_client.get("/api/v1/cases"), within=60)
            assert len(keys()) == 1, keys()
            assert int(redis.get(keys()[0])) == 3
        finally:
            # Only this test's keys: the db may be the broker's (no FLUSHDB).
            if keys():
                redis.delete(*keys())
