"""In a real Chromium: Sofie Borgersen acts for Kim Borgersen with a power of attorney (issue 15).

The switcher in the header, the banner on every page, only the areas of the power,
no CPR number in any URL, accessible (axe) and whole at 375 px.
"""

import re

import pytest

from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

CPRS = [portal_data.KIM.cpr, "1405781000"]


@pytest.mark.parametrize("width", [1280, 375])
def test_the_holder_switches_to_the_principal_and_sees_only_the_power_s_areas(
    new_page, portal, relations, width
):
    relations.powers[0]["scope"] = ["27.24"]  # the test data's cleaning help
    portal_data.build()
    page = new_page(width=width)
    login(page, portal, name="Sofie Borgersen")
    assert "dig selv" in page.get_by_test_id("acting-switcher").inner_text()

    page.get_by_test_id("acting-switcher").get_by_role("link", name="Skift").click()
    page.wait_for_url(re.compile(r"/du-ser/$"))
    assert_accessible(page)
    page.get_by_role("button", name="Kim Borgersen").click()
    page.wait_for_url(re.compile(r"/overblik/$"))

    banner = page.get_by_test_id("acting-banner")
    assert "Kim Borgersen" in banner.inner_text()
    assert "Kim Borgersen" in page.get_by_test_id("acting-switcher").inner_text()
    for path in ("/overblik/", "/sager/", "/serviceydelser/"):
        page.goto(f"{portal}{path}")
        assert page.get_by_test_id("acting-banner").is_visible()
        text = page.content()
        assert "Ansøgning om kontanthjælp" not in text  # outside the power
        for cpr in CPRS:
            assert cpr not in page.url and cpr not in text and cpr not in page.title()
        assert_fits(page, width, path)
    assert page.get_by_role("link", name="Rengøring (FSIII)").first.is_visible()
    assert_accessible(page)
    screenshot(page, f"acting-{width}")

    page.get_by_test_id("acting-banner").get_by_role("link").click()
    page.get_by_role("button", name="Dig selv").click()
    page.wait_for_url(re.compile(r"/overblik/$"))
    assert page.get_by_test_id("acting-banner").count() == 0
