"""In a real Chromium: an operator issues an API key in the admin, sees it once, the key
works against the API, and the key's own page never shows it again (issue 18)."""

import re

import pytest
from django.contrib.auth import get_user_model

from indexes.models import ApiCredential, SourceSystem
from tests.borgerblikket.test_admin_browser import (  # noqa: F401 - chromium_available is a fixture
    admin_login,
    chromium_available,
    in_browser_thread,
)
from tests.browser.conftest import screenshot
from tests.indexes.api_support import municipality_ensure

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]


def test_issue_a_key_and_see_it_once(live_server, chromium_available):  # noqa: F811
    system = SourceSystem.objects.create(
        municipality=municipality_ensure("461"), product="FASIT", name="FASIT Odense"
    )
    get_user_model().objects.create_superuser("operator", password="pw")
    seen: dict = {}

    def steps(page):
        base = live_server.url
        admin_login(page, base, "operator")
        page.goto(f"{base}/admin/indexes/apicredential/add/")
        page.fill("#id_label", "FASIT Odense prod")
        page.select_option("#id_source_system", str(system.pk))
        page.locator('input[name="_save"]').click()
        key = page.locator("#issued-key").input_value()
        assert re.fullmatch(r"[0-9a-f]{16}\.[A-Za-z0-9_-]{43}", key), key
        screenshot(page, "admin-api-key-issued")
        seen["key"] = key
        # The key works against the API (from the page's own origin).
        status = page.evaluate(
            """async (key) => (await fetch('/api/v1/cases',
                   {headers: {Authorization: 'Bearer ' + key}})).status""",
            key,
        )
        assert status == 200
        # Its page and the list show the key id, never the key.
        page.locator("text=Til nøglens side").click()
        page.wait_for_url(re.compile(r"/admin/indexes/apicredential/\d+/change/$"))
        for url in (page.url, f"{base}/admin/indexes/apicredential/"):
            page.goto(url)
            html = page.content()
            assert key.split(".")[0] in html and key not in html
        # Back to the answer page: the browser may not keep it.
        page.go_back()
        assert key not in page.content()

    in_browser_thread(steps)
    credential = ApiCredential.objects.get()
    assert seen["key"].startswith(credential.key_id + ".")
    assert credential.last_used_at is not None
