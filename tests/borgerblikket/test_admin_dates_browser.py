"""In a real Chromium, in Danish and in English: a municipal admin opens a sheet row and
saves it unchanged, and the save succeeds (issue 11.9: the Danish form showed the date
as 04.01.2020 and refused it)."""

import datetime as dt
import re

import pytest
from django.conf import settings

from borgerblikket.models import SheetChange, SheetRow
from tests.borgerblikket import factories as f
from tests.borgerblikket.test_admin_browser import (
    admin_login,
    chromium_available,
    in_browser_thread,
)

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

__all__ = ["chromium_available"]  # the fixture, used by name


@pytest.mark.parametrize(
    ("language", "saved"), [("da", "blev ændret"), ("en", "was changed successfully")]
)
def test_a_sheet_row_saves_unchanged_in_the_browser(
    live_server, chromium_available, language, saved
):
    row = f.SheetRowFactory(
        municipality=f.municipality("461"),
        kle_subject=f.kle_subject("32.24.04", "Hjælp til forsørgelse"),
        show_from=dt.date(2020, 1, 4),
    )
    f.municipal_admin("461", username="odense-admin")

    def steps(page):
        page.context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )
        admin_login(page, live_server.url, "odense-admin")
        page.goto(f"{live_server.url}/admin/borgerblikket/sheetrow/{row.pk}/change/")
        assert page.locator("html").get_attribute("lang") == language
        assert page.input_value("#id_show_from") == "04-01-2020"
        page.locator('input[name="_save"]').click()
        page.wait_for_url(re.compile(r"/admin/borgerblikket/sheetrow/$"))
        assert saved in page.locator(".messagelist").inner_text()
        assert page.locator(".errorlist").count() == 0

    in_browser_thread(steps)
    row.refresh_from_db()
    assert row.show_from == dt.date(2020, 1, 4)
    assert not SheetChange.objects.filter(municipality_id="461").exists()  # nothing changed
    assert SheetRow.objects.filter(municipality_id="461").count() == 1
