"""In a real Chromium: the national operator reads the roll-out map (tiles, legend, table
beside it), filters it by area and week, downloads the CSV; a municipal admin sees their
own tile named and the others grey. The page passes axe (WCAG 2.1 A/AA) and its styles
come from the stylesheet the CSP allows."""

import json
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from borgerblikket.roles import OPERATOR_GROUP
from borgerblikket.selectors.rollout import week_label, week_monday
from borgerblikket.services.rollout import rollout_snapshot_take
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.borgerblikket.test_start_page_browser import _axe_on
from tests.browser.conftest import SCREENSHOTS, assert_fits, screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


@pytest.fixture
def world(chromium_available):  # noqa: F811
    """Odense: KLE 15's mandatory numbers exposed; Fredensborg: one row of 32; Aarhus: data
    and no row; this week's snapshot taken; an operator and Odense's admin."""
    odense = f.SourceSystemFactory(municipality=f.municipality("461"))
    f.CaseFactory(source_system=odense, kle_subject=f.kle_subject("15.17.06"))
    for number in ("15.17.06", "15.17.12"):
        f.SheetRowFactory(municipality=f.municipality("461"), kle_subject=f.kle_subject(number))
    f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("210")))
    f.SheetRowFactory(municipality=f.municipality("210"), kle_subject=f.kle_subject("32.24.04"))
    f.CaseFactory(source_system=f.SourceSystemFactory(municipality=f.municipality("751")))
    rollout_snapshot_take()
    operator = f.UserFactory(username="kombit-drift", is_staff=True)
    operator.groups.add(Group.objects.get(name=OPERATOR_GROUP))
    f.municipal_admin("461", username="odense-admin")
    return week_label(week_monday(timezone.localdate()))


def test_the_operator_reads_filters_and_downloads_the_map_and_odense_sees_its_own(
    live_server, world
):
    base = live_server.url
    this_week = world

    def steps(page):
        admin_login(page, base, "kombit-drift")
        page.goto(f"{base}/admin/borgerblikket/rollout/")
        tiles = page.locator("#rollout-map g.rollout-tile")
        assert tiles.count() == 98
        assert page.locator("#rollout-map").is_visible()
        assert page.locator("#tile-751").get_attribute("data-category") == "not_exposed"
        assert page.locator("#tile-461 title").text_content() == (
            "461 Odense: Enkelte KLE-numre udstillet"
        )
        assert page.locator("#rollout-table tbody tr").count() == 98
        assert "Ingen data i indekserne: 95" in page.locator("#rollout-legend").inner_text()
        # The stylesheet arrived (CSP: style-src 'self'): map and table side by side on a
        # wide screen, the table below the map on a narrower one, nothing scrolling sideways.
        page.set_viewport_size({"width": 1800, "height": 1000})
        assert page.locator(".rollout-layout").evaluate("e => getComputedStyle(e).display") == (
            "flex"
        )
        map_box = page.locator("#rollout-map").bounding_box()
        table_box = page.locator("#rollout-table").bounding_box()
        assert table_box["x"] > map_box["x"] + map_box["width"] - 1
        page.locator(".rollout-figure").screenshot(path=str(SCREENSHOTS / "rollout-map.png"))
        page.set_viewport_size({"width": 1280, "height": 900})
        map_box = page.locator("#rollout-map").bounding_box()
        assert page.locator("#rollout-table").bounding_box()["y"] > map_box["y"] + map_box["height"]
        assert_fits(page, 1280, "roll-out")
        violations = _axe_on(page, "#rollout")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        screenshot(page, "borgerblikket-rollout-operator")

        page.fill("#rollout-area", "15")
        page.fill("#rollout-week", this_week)
        page.locator("#rollout-filter").get_by_role("button", name="Vis").click()
        page.wait_for_url(re.compile(r"area=15&week=\d{4}-W\d\d"))
        assert page.locator("#tile-461").get_attribute("data-category") == "all_mandatory"
        assert page.locator("#tile-210").get_attribute("data-category") == "no_data"
        assert f"uge {this_week}" in page.locator("#rollout-heading").inner_text()
        assert page.locator(f"#trend-{this_week} td").first.inner_text() == "97"
        with page.expect_download() as download:
            page.locator("#rollout-csv").click()
        raw = Path(download.value.path()).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
        assert f"{this_week};ugens øjebliksbillede;15;461;Odense;".encode() in raw

        response = page.goto(f"{base}/admin/borgerblikket/rollout/?week=2026-W99")
        assert response.status == 400
        assert "Uge 99 findes ikke i 2026." in page.locator("#rollout-errors").inner_text()
        assert page.locator("#site-name").is_visible()  # the admin's look
        page.context.clear_cookies()

        admin_login(page, base, "odense-admin")
        page.goto(f"{base}/admin/borgerblikket/rollout/")
        assert page.locator("#rollout-map g.rollout-tile").count() == 98
        assert page.locator("#rollout-map g.rollout-tile-other").count() == 97
        assert page.locator("#tile-461").is_visible()
        assert page.locator("#rollout-table tbody tr").count() == 1
        body = page.locator("#rollout").inner_text()
        assert "Fredensborg" not in body and "Aarhus" not in body
        violations = _axe_on(page, "#rollout")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        screenshot(page, "borgerblikket-rollout-municipality")

    in_browser_thread(steps)
