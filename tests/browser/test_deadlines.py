"""In a real Chromium at 375 px (a phone): what the municipality waits for and by when,
an overdue wait, and "Forventet afgørelse senest …" passed — read on the overview and
the case page in Danish and English, fitting the screen and axe-clean (issue 14)."""

import datetime as dt
import re

import pytest
from django.utils import formats, timezone, translation

from borgerblikket.models import ProcessingTimeUnit, SheetRow
from indexes.models import Case
from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

WIDTH, HEIGHT = 375, 667
REASON = "Send lønsedler for de seneste tre måneder"


@pytest.fixture
def data():
    built = portal_data.build()
    due = timezone.localdate() - dt.timedelta(days=2)
    Case.objects.filter(pk=built.awaiting_case.pk).update(
        awaiting_party_due=due, awaiting_party_reason=REASON
    )
    SheetRow.objects.filter(municipality="461").update(
        processing_time=8, processing_time_unit=ProcessingTimeUnit.WEEKS
    )
    built.due = due
    return built


def shown(day: dt.date, language: str) -> str:
    with translation.override(language):
        return formats.date_format(day)


def test_deadlines_and_the_expected_decision_on_a_phone_in_danish_and_english(
    new_page, portal, data
):
    page = new_page(width=WIDTH, height=HEIGHT)
    login(page, portal)
    # The awaited case arose on 1 March 2021 (created_on; no progress history): eight weeks
    # later the decision was due, long passed.
    expected = shown(dt.date(2021, 3, 1) + dt.timedelta(weeks=8), "da")
    for language, texts in (
        (
            "da",
            {
                "box": [REASON, f"Frist: {shown(data.due, 'da')}", "Fristen er overskredet"],
                "wait": ["Det skal du gøre", REASON, "Fristen er overskredet"],
                "decision": [
                    f"Forventet afgørelse senest {expected}",
                    "Datoen er passeret",
                    "Kontakt Kontaktcenter",
                    "+45 66 13 13 72",
                ],
            },
        ),
        (
            "en",
            {
                "box": [REASON, f"Deadline: {shown(data.due, 'en')}", "The deadline has passed"],
                "wait": ["What you need to do", REASON, "The deadline has passed"],
                "decision": [
                    "Decision expected by",
                    "The date has passed",
                    "Contact Kontaktcenter",
                    "+45 66 13 13 72",
                ],
            },
        ),
    ):
        if language == "en":
            page.get_by_role("button", name="English").click()
            page.wait_for_url(re.compile(r"/sager/[0-9]+/$"))
        page.goto(f"{portal}/overblik/")
        box = page.get_by_test_id("awaiting-box")
        for text in texts["box"]:
            assert text in box.inner_text(), (language, text)
        assert box.get_by_test_id("overdue").is_visible()
        assert_fits(page, WIDTH, f"overview-{language}")
        assert_accessible(page)
        screenshot(page, f"deadlines-overview-{language}")

        box.get_by_role("link", name=data.awaiting_case.title).click()
        page.wait_for_url(re.compile(rf"/sager/{data.awaiting_case.pk}/$"))
        wait = page.get_by_test_id("awaiting-citizen")
        decision = page.get_by_test_id("expected-decision")
        for text in texts["wait"]:
            assert text in wait.inner_text(), (language, text)
        for text in texts["decision"]:
            assert text in decision.inner_text(), (language, text)
        for part in (wait, decision):
            box_ = part.bounding_box()
            assert part.is_visible() and box_["x"] >= 0 and box_["x"] + box_["width"] <= WIDTH
        assert decision.get_by_role("link", name=re.compile(r"66 13 13 72")).is_visible()
        assert_fits(page, WIDTH, f"case-{language}")
        assert_accessible(page)
        screenshot(page, f"deadlines-case-{language}")
