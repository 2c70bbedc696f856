"""In a real Chromium: Odense's admin sets a shorter retention period in the sheet's settings
(kept in the sheet's history), opens the preview and sees what the next run deletes — Odense's
only — and, after the run, the audit's counts."""

import datetime as dt

import pytest

from borgerblikket.models import RetentionRun, SheetChange
from borgerblikket.services.retention import retention_run
from tests.borgerblikket import factories as f
from tests.borgerblikket import retention_world as w
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - chromium_available is a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.browser.conftest import screenshot
from tests.indexes import factories as ix

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


def test_setting_previewing_and_auditing_retention_in_the_browser(live_server, chromium_available):  # noqa: F811
    ix.kle_ensure("32.18.02")
    odense = ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=w.ODENSE))
    fredensborg = ix.SourceSystemFactory(municipality=ix.MunicipalityFactory(code=w.FREDENSBORG))
    f.sheet(w.ODENSE)
    f.municipal_admin(w.ODENSE, username="odense-admin")
    now = dt.datetime.now(tz=w.TZ)
    # Closed 40 days ago: due under a 30-day municipal period, not under KLE's (none here).
    for system in (odense, odense, fredensborg):
        case = w.closed_case(system, closed_at=now - dt.timedelta(days=40))
        ix.DocumentFactory(source_system=system, cases=[case])
    w.closed_case(odense, closed_at=now - dt.timedelta(days=10))  # due in 20 days
    f.sheet(w.FREDENSBORG, retention_days=30)

    in_browser_thread(lambda page: steps(page, live_server.url))

    change = SheetChange.objects.get(municipality_id=w.ODENSE, target="settings")
    assert change.after["retention_days"] == 30 and change.user.username == "odense-admin"
    run = retention_run(trigger=RetentionRun.Trigger.COMMAND)
    counts = {(c.municipality_id, c.kind): c.count for c in run.counts.all()}
    assert counts == {
        (w.ODENSE, "case"): 2,
        (w.ODENSE, "document"): 2,
        (w.FREDENSBORG, "case"): 1,
        (w.FREDENSBORG, "document"): 1,
    }
    in_browser_thread(lambda page: audit(page, live_server.url))


def steps(page, base: str) -> None:
    admin_login(page, base, "odense-admin")
    page.goto(f"{base}/admin/borgerblikket/retentioncount/preview/")
    assert "Intet er forfaldent til sletning." in page.content()
    page.get_by_role("link", name="Ret slettefristen", exact=False).click()
    page.get_by_role("link", name="461 Odense").click()
    page.fill("#id_retention_days", "30")
    page.locator('input[name="_save"]').click()
    page.goto(f"{base}/admin/borgerblikket/retentioncount/preview/")
    due = page.locator("#due-461").inner_text()
    assert due.split("\t")[:3] == ["Odense", "2", "2"], due
    assert page.locator("#retention-due tbody tr").count() == 1  # Fredensborg is not shown
    upcoming = page.locator("#retention-upcoming").inner_text()
    assert "32 " in upcoming and "Nu" in upcoming
    screenshot(page, "retention-preview")


def audit(page, base: str) -> None:
    admin_login(page, base, "odense-admin")
    page.goto(f"{base}/admin/borgerblikket/retentioncount/")
    rows = page.locator("#result_list tbody tr").all_inner_texts()
    assert len(rows) == 2 and all("Odense" in r for r in rows), rows
    screenshot(page, "retention-audit")
