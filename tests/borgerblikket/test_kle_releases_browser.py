"""In a real Chromium: after the newer KLE release, Odense's admin is told on the start page,
opens the impact report, previews and makes the move, and previews as the citizen, who still
sees the case on the old number and now also the one on the successor."""

import datetime as dt
import re

import pytest

from borgerblikket.models import SheetChange, SheetRow
from borgerblikket.services.kle_releases import kle_releases_build_pending
from kle.models import Subject
from kle.services.importer import kle_import
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - chromium_available is a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.borgerblikket.test_kle_releases import ODENSE, row
from tests.browser.conftest import screenshot
from tests.kle.release_server import NEWER_EMNEPLAN, OLDER_EMNEPLAN

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

CPR = "0101701122"


def test_impact_report_and_move_in_the_browser(live_server, chromium_available):  # noqa: F811
    kle_import(source=str(OLDER_EMNEPLAN))
    fasit = f.SourceSystemFactory(municipality=f.municipality(ODENSE), name="FASIT")
    row(ODENSE, "15.17.26", contact_department="Jobcenter Odense", source_system=fasit)
    row(ODENSE, "15.17.06")
    f.municipal_admin(ODENSE, username="odense-admin")
    kle_import(source=str(NEWER_EMNEPLAN))
    # One case still on the old number, one the source system already put on the successor.
    for number, case_number in (("15.17.26", "2021-000026"), ("15.17.27", "2021-000027")):
        f.CaseFactory(
            source_system=fasit,
            party_cpr=CPR,
            kle_subject=Subject.objects.get(number=number),
            created_on=dt.date(2021, 6, 1),
            case_number=case_number,
        )
    kle_releases_build_pending()

    in_browser_thread(lambda page: steps(page, live_server.url))

    numbers = set(
        SheetRow.objects.filter(municipality_id=ODENSE).values_list(
            "kle_subject__number", flat=True
        )
    )
    assert numbers == {"15.17.06", "15.17.26", "15.17.27", "15.17.28"}
    assert SheetChange.objects.filter(via="kle_move").count() == 2


def steps(page, base: str) -> None:
    admin_login(page, base, "odense-admin")
    notice = page.locator("#kle-release-notices")
    assert "KLE udgivet 01-01-2016 har udgået eller flyttet 1 KLE-nummer" in notice.inner_text()
    screenshot(page, "kle-release-notice")
    notice.get_by_role("link", name="Se konsekvenserne og flyt rækkerne").click()

    item = page.locator("#item-15\\.17\\.26")
    cells = item.inner_text()
    assert "Flyttet 01-01-2016" in cells and "15.17.27, 15.17.28" in cells
    assert "Ikke håndteret" in cells
    screenshot(page, "kle-impact-report")
    item.get_by_role("link", name="Flyt til afløser").click()

    page.wait_for_selector("#sheet-after")
    states = {
        tr.get_attribute("id"): tr.get_attribute("data-state")
        for tr in page.locator("#sheet-after tbody tr").all()
    }
    assert states == {
        "after-15.17.06": "unchanged",
        "after-15.17.26": "kept",
        "after-15.17.27": "added",
        "after-15.17.28": "added",
    }
    assert "1 sag stadig ligger på nummeret" in page.locator("#old-row").inner_text()
    assert SheetRow.objects.filter(municipality_id=ODENSE).count() == 2  # nothing saved yet
    screenshot(page, "kle-move-preview")
    page.get_by_role("button", name="Flyt rækken").click()

    page.wait_for_url(re.compile(r"/admin/borgerblikket/kleimpactreport/\d+/change/$"))
    assert "KLE-nummer 15.17.26 er flyttet til 15.17.27, 15.17.28" in page.content()
    assert "Flyttet til afløser" in page.locator("#item-15\\.17\\.26").inner_text()
    assert page.locator("#item-15\\.17\\.26").get_by_role("link").count() == 0
    page.goto(f"{base}/admin/")
    assert page.locator("#kle-release-notices").count() == 0

    page.goto(f"{base}/admin/borgerblikket/preview/")
    page.fill("#id_cpr", "010170-1122")
    page.get_by_role("button", name="Vis", exact=True).click()
    page.wait_for_selector("#preview-heading")
    cases = page.locator("#cases").inner_text()
    assert "2021-000026" in cases and "2021-000027" in cases
    screenshot(page, "kle-move-citizen-preview")
