"""In a real Chromium: the page a citizen gets after too many login attempts."""

import pytest
from django.core.cache import cache

from tests.browser.conftest import assert_accessible, assert_fits, screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


@pytest.fixture
def one_login_an_hour(settings):
    settings.RATELIMIT_ENABLE = True
    settings.OVERBLIK_LOGIN_RATE_PER_IP = "1/h"
    cache.clear()  # no count of an earlier test against 127.0.0.1
    yield settings
    cache.clear()


@pytest.mark.parametrize("language", ["da", "en"])
def test_too_many_logins_get_an_accessible_page_in_the_portals_design(
    new_page, portal, one_login_an_hour, language
):
    page = new_page(width=375, height=800)
    page.context.add_cookies([{"name": "django_language", "value": language, "url": portal}])
    first = page.goto(f"{portal}/oidc/authenticate/")
    assert first.status == 200 and not first.url.startswith(f"{portal}/oidc/")  # the broker
    limited = page.goto(f"{portal}/oidc/authenticate/")
    assert limited.status == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 3600
    text = page.get_by_test_id("rate-limited").inner_text()
    assert ("for mange forsøg" if language == "da" else "too many") in text.lower()
    screenshot(page, f"rate-limited-{language}")
    assert_fits(page, 375, "rate-limited")
    assert_accessible(page)
