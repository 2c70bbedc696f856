"""In a real Chromium: a manager follows the start page to the usage and satisfaction trends
of their municipality, downloads the CSV, and the tables pass axe (WCAG 2.1 A/AA)."""

import json
import re

import pytest
from django.utils import timezone

from borgerblikket.models import Membership, SatisfactionAnswer, UsageCount
from borgerblikket.services.usage import usage_count
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.borgerblikket.test_start_page_browser import _axe_on
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


@pytest.fixture
def odense(chromium_available):  # noqa: F811
    f.municipality("461")
    user = f.municipal_admin("461", username="odense-leder")
    Membership.objects.filter(user=user).update(role="manager")
    now = timezone.now()
    for _ in range(3):
        usage_count(page_kind=UsageCount.PageKind.CASES, shown=[("461", "32.24.04")], now=now)
    usage_count(page_kind=UsageCount.PageKind.LOGIN, shown=[("461", "32.24.04")], now=now)
    month = timezone.localdate().replace(day=1)
    SatisfactionAnswer.objects.create(
        month=month, municipality_code="461", answer=5, comment="Dejligt overblik"
    )
    SatisfactionAnswer.objects.create(month=month, municipality_code="461", answer=2)


def test_a_manager_follows_the_start_page_to_the_trends(live_server, odense):
    base = live_server.url

    def steps(page):
        admin_login(page, base, "odense-leder")
        panel = page.locator("#start-461-usage")
        panel.get_by_role("link", name="Brug af Mit Overblik").click()
        page.wait_for_url(re.compile(r"/admin/borgerblikket/usage/\?kommune=461$"))
        trend = page.locator("#usage-trend")
        assert trend.locator("tbody tr").count() == 12
        last = trend.locator("tbody tr").last.inner_text()
        assert last.split("\t")[1:3] == ["1", "3"]  # logins, page views this month
        assert "32" in page.locator("#usage-groups thead").inner_text()
        violations = _axe_on(page, "#content")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        screenshot(page, "borgerblikket-usage")
        with page.expect_download() as download:
            page.locator("#usage-csv").click()
        assert download.value.suggested_filename == "brug-461.csv"

        page.get_by_role("link", name="Tilfredshed").click()
        page.wait_for_url(re.compile(r"/admin/borgerblikket/satisfaction/\?kommune=461$"))
        row = page.locator("#satisfaction-trend tbody tr").last.inner_text().split("\t")
        assert row[1] == "1" and row[6] == "2"  # one "Meget tilfreds", two answers
        assert "Dejligt overblik" in page.locator("#satisfaction-comments").inner_text()
        violations = _axe_on(page, "#content")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        screenshot(page, "borgerblikket-satisfaction")

    in_browser_thread(steps)
