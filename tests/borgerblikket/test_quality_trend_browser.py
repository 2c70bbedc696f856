"""In a real Chromium: a manager follows a check's trend from the quality report — the line,
the target line and the table are drawn, and the page fits a phone's width."""

import datetime as dt

import pytest
from django.utils import timezone

from borgerblikket.models import Membership, QualitySnapshot
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (
    admin_login,
    chromium_available,  # noqa: F401 - fixture
    in_browser_thread,
)
from tests.browser.conftest import screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


def test_a_manager_follows_a_checks_trend_against_its_target(
    live_server,
    chromium_available,  # noqa: F811
    settings,
):
    settings.BORGERBLIKKET_QUALITY_TARGETS = {"letter_party": 20}
    odense = f.municipality("461")
    f.SourceSystemFactory(municipality=odense, name="FASIT")
    manager = f.municipal_admin("461", username="odense-manager")
    Membership.objects.filter(user=manager).update(role=Membership.Role.MANAGER)
    today = timezone.localdate()
    for days_ago in range(0, 60, 3):
        QualitySnapshot.objects.create(
            taken_on=today - dt.timedelta(days=days_ago),
            municipality=odense,
            check_key="letter_party",
            count=10 + days_ago,  # improving towards today
        )

    def steps(page):
        base = live_server.url
        admin_login(page, base, "odense-manager")
        page.goto(f"{base}/admin/borgerblikket/quality/461/")
        page.locator("#check-letter_party").get_by_role("link", name="Udvikling").click()
        page.wait_for_selector("#trend")
        line = page.locator("#trend-line").bounding_box()
        target = page.locator("#target-line").bounding_box()
        svg = page.locator("#trend").bounding_box()
        # 57 of the 90 days drawn: about two thirds of the width inside the margins.
        assert 0.6 * (svg["width"] - 60) < line["width"] < 0.7 * (svg["width"] - 60)
        assert line["height"] > 100
        # The target (20) lies inside the drawn range (10..67).
        assert line["y"] < target["y"] < line["y"] + line["height"]
        rows = page.locator("#trend-table tbody tr")
        assert rows.count() == 20
        assert rows.first.inner_text().split("\t") == [str(today), "10", "20", "ja"]
        assert rows.last.inner_text().split("\t")[1:] == ["67", "20", "nej"]
        screenshot(page, "borgerblikket-quality-trend")

    in_browser_thread(steps)
