"""In a real Chromium: a municipal admin imports Odense's real sheet through the admin
(preview first, then confirm) and previews what a citizen sees.

The browser runs in a thread of its own: Playwright's sync API allows one instance per
thread, and tests/browser keeps a session-wide one in the main thread.
"""

import datetime as dt
import re
import threading

import pytest
from django.conf import settings
from django.db import connections

from borgerblikket.models import SheetRow
from indexes.models import DataAccess
from tests.borgerblikket import factories as f
from tests.borgerblikket.conftest import ODENSE_SHEET
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PageWatch,
    _missing,
    _route_loopback_only,
    screenshot,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
    pytest.mark.realdata,
]

CPR = "0101701111"


def admin_login(page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.locator('input[type="submit"]').click()
    page.wait_for_url(re.compile(r"/admin/$"))


def in_browser_thread(steps) -> None:
    """Run ``steps(page)`` in Chromium on a thread of its own; re-raise what it raised."""
    outcome: dict = {}

    def run():
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as playwright:
                chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    context = chromium.new_context(
                        viewport={"width": 1280, "height": 900}, locale="da-DK"
                    )
                    watch = PageWatch()
                    context.route("**/*", _route_loopback_only(watch))
                    page = context.new_page()
                    page.set_default_timeout(15_000)
                    page.on("pageerror", lambda error: watch.errors.append(str(error)))
                    try:
                        steps(page)
                    finally:
                        # The steps' own database connection lives in Playwright's context.
                        connections.close_all()
                    assert watch.errors == [], watch.errors
                    assert watch.blocked == [], watch.blocked
                finally:
                    chromium.close()
        except BaseException as exc:  # handed to the test's own thread
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, name="borgerblikket-browser")
    thread.start()
    thread.join(timeout=300)
    assert not thread.is_alive(), "the browser thread did not finish in 5 minutes"
    if "error" in outcome:
        raise outcome["error"]


@pytest.fixture
def chromium_available(monkeypatch):
    missing = _missing()
    if missing:
        if settings.IN_CI:
            pytest.fail(missing)
        pytest.skip(f"{missing} (outside CI)")
    # Django refuses database work where an event loop runs (Playwright's, in that thread).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_import_odense_sheet_preview_then_confirm_and_preview_as_citizen(
    live_server, chromium_available, real_kle, odense_sheet
):
    fasit = f.SourceSystemFactory(municipality=f.municipality("461"), name="FASIT", product="FASIT")
    f.municipal_admin("461", username="odense-admin")
    f.CaseFactory(
        source_system=fasit,
        party_cpr=CPR,
        kle_subject=f.kle_subject("15.17.06"),
        created_on=dt.date(2021, 5, 1),
        case_number="2021-000042",
    )
    in_browser_thread(lambda page: import_and_preview(page, live_server.url))
    assert SheetRow.objects.filter(municipality_id="461").count() == 5
    assert DataAccess.objects.filter(citizen_cpr=CPR, actor_type="municipal_admin").count() == 1


def import_and_preview(page, live_server_url: str) -> None:
    admin_login(page, live_server_url, "odense-admin")

    page.goto(f"{live_server_url}/admin/borgerblikket/sheetrow/import/")
    page.set_input_files("#id_file", str(ODENSE_SHEET))
    page.get_by_role("button", name="Vis forhåndsvisning").click()
    summary = page.locator("#summary").inner_text()
    assert summary.startswith("5 tilføjes, 0 ændres, 0 uændrede, 4 afvises")
    rejected = page.locator("#rejected tbody tr")
    assert rejected.count() == 4
    assert rejected.first.inner_text().startswith("2\t15.62.05")
    assert "findes ikke i KLE" in rejected.first.inner_text()
    warnings = page.locator("#warnings").inner_text()
    assert "afviger fra KLE's titel" in warnings
    # Every line's Digital Post link has "?logon.aspx?": said once, naming the lines.
    assert page.content().count("flere gange") == 1 and "mailboxid=5185" in warnings
    assert SheetRow.objects.count() == 0  # the preview saved nothing
    screenshot(page, "borgerblikket-import-preview")

    page.get_by_role("button", name="Gennemfør importen").click()
    page.wait_for_url(re.compile(r"/admin/borgerblikket/sheetrow/$"))
    assert "5 tilføjet, 0 ændret, 4 afvist" in page.content()
    assert SheetRow.objects.filter(municipality_id="461").count() == 5

    page.goto(f"{live_server_url}/admin/borgerblikket/preview/")
    page.fill("#id_cpr", "010170-1111")
    page.get_by_role("button", name="Vis", exact=True).click()
    page.wait_for_selector("#preview-heading")
    assert "010170-****" in page.locator("#preview-heading").inner_text()
    assert "2021-000042" in page.locator("#cases").inner_text()
    assert "Sygedagpenge opfølgning" in page.locator("#cases").inner_text()
    for secret in (CPR, "010170-1111", "Sagsbehandler Hemmelig"):
        assert (
            secret not in page.content() and secret not in page.url and secret not in page.title()
        )
    assert DataAccess.objects.filter(citizen_cpr=CPR, actor_type="municipal_admin").count() == 1
    screenshot(page, "borgerblikket-preview-as-citizen")
