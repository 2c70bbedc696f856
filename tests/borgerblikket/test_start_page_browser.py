"""In a real Chromium: a municipal admin logs in and starts on their municipality's page —
sheet, data quality, preview, roll-out position — follows its links, and is refused a page
their role does not reach with a page in the admin's look. The start page's panels pass axe
(WCAG 2.1 A/AA)."""

import datetime as dt
import json
import re

import pytest

from borgerblikket.models import Membership
from borgerblikket.services.sheets import sheet_row_save
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.browser.conftest import AXE, WCAG_TAGS, screenshot

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


@pytest.fixture
def odense(chromium_available):  # noqa: F811
    system = f.SourceSystemFactory(municipality=f.municipality("461"), name="FASIT Odense")
    sheet_row_save(
        municipality=f.municipality("461"),
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        values={"show_from": dt.date(2020, 1, 1)},
        user=None,
    )
    f.CaseFactory(source_system=system, primary_caseworker="")
    for username, role in (("odense-admin", "admin"), ("odense-leder", "manager")):
        user = f.municipal_admin("461", username=username)
        Membership.objects.filter(user=user).update(role=role)


def _axe_on(page, selector: str) -> list[dict]:
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "([sel, tags]) => axe.run(document.querySelector(sel), "
        "{runOnly: {type: 'tag', values: tags}})",
        [selector, WCAG_TAGS],
    )
    return [{"id": v["id"], "help": v["help"]} for v in result["violations"]]


def test_a_municipal_admin_starts_on_their_municipality_and_a_manager_is_refused_politely(
    live_server, odense
):
    base = live_server.url

    def steps(page):
        admin_login(page, base, "odense-admin")
        start = page.locator("#start-461")
        assert "Odense Kommune" in start.locator("h2").inner_text()
        assert "1 KLE-nummer vises for borgerne." in start.inner_text()
        assert page.locator("#start-461-rollout").is_visible()
        quality = page.locator("#start-461-quality li")
        assert "Åbne sager uden aktiv sagsbehandler: 1" in quality.all_inner_texts()
        assert page.locator("#site-name").inner_text() == "Borgerblikket: administration"
        violations = _axe_on(page, "#start-page")
        assert violations == [], json.dumps(violations, ensure_ascii=False)
        screenshot(page, "borgerblikket-start-page")
        page.locator("#start-461-quality").get_by_role("link", name="Hele rapporten").click()
        page.wait_for_url(re.compile(r"/admin/borgerblikket/quality/461/$"))
        page.goto(f"{base}/admin/")
        page.locator("#start-461-sheet").get_by_role("link", name="Arkets rækker").click()
        page.wait_for_url(re.compile(r"/admin/borgerblikket/sheetrow/"))
        assert "32.24.04" in page.locator("#result_list").inner_text()
        page.context.clear_cookies()

        admin_login(page, base, "odense-leder")
        assert page.locator("#start-461-preview").count() == 0
        response = page.goto(f"{base}/admin/borgerblikket/preview/")
        assert response.status == 403
        refused = page.locator("#refused")
        assert "Leder (kun læseadgang)" in refused.inner_text()
        assert page.locator("#site-name").is_visible()  # the admin's look
        screenshot(page, "borgerblikket-refused")

    in_browser_thread(steps)
