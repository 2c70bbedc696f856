"""In a real Chromium: every page of a logged-in citizen — content, accessibility, phone width."""

import re

import pytest

from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

SECRETS = [
    portal_data.KIM.cpr,
    portal_data.HANS.cpr,
    portal_data.SECRET_CASEWORKER,
    portal_data.SECRET_TITLE,
    "Skjult sag om underretning",
    "Hans' sag om boligstøtte",
    "Journalnotat om telefonsamtale",
    "Internt notat om vurdering",
]


@pytest.fixture
def data():
    return portal_data.build(cases=25, payments=14)


def pages(data):
    return [
        ("overview", "/overblik/", "Overblik"),
        ("cases", "/sager/", "Sager"),
        ("cases-closed", "/sager/?vis=afsluttede", "Sager"),
        ("case", f"/sager/{data.cases[0].pk}/", "Ansøgning om kontanthjælp 1"),
        ("benefits", "/ydelser/", "Ydelser"),
        ("services", "/serviceydelser/", "Serviceydelser og hjælpemidler"),
        ("service", f"/serviceydelser/{data.service.pk}/", "Rengøring (FSIII)"),
        ("access-log", "/hvem-har-set-mine-data/", "Hvem har set mine data"),
    ]


def assert_nothing_secret(page) -> None:
    text = page.content()
    for secret in SECRETS:
        assert secret not in text, secret
        assert secret not in page.url
        assert secret not in page.title()


def test_every_page_shows_its_content_and_passes_axe(page, portal, data):
    login(page, portal)
    for name, path, heading in pages(data):
        response = page.goto(f"{portal}{path}")
        assert response.status == 200, path
        assert page.get_by_role("heading", level=1).inner_text() == heading
        assert page.title().endswith("Mit Overblik")
        assert_nothing_secret(page)
        assert_accessible(page)
        screenshot(page, f"page-{name}")


def test_the_case_page_in_the_browser(page, portal, data):
    login(page, portal)
    page.goto(f"{portal}/sager/")
    page.get_by_role("link", name="Ansøgning om kontanthjælp 1", exact=True).click()
    page.wait_for_url(re.compile(rf"/sager/{data.cases[0].pk}/$"))
    timeline = page.get_by_test_id("timeline")
    assert [t.strip() for t in timeline.locator("strong").all_inner_texts()] == [
        "Opstået",
        "Oplyst",
        "Afgjort",
    ]
    assert page.get_by_test_id("documents").inner_text().count("Afgørelse om kontanthjælp") == 1
    assert page.get_by_test_id("contact-box").is_visible()
    assert page.get_by_test_id("digital-post").get_attribute("href").startswith("https://post")


def test_another_citizens_case_and_benefit_are_404(page, portal, data):
    login(page, portal)
    for path in (
        f"/sager/{data.others_case.pk}/",
        f"/sager/{data.hidden_case.pk}/",
        f"/serviceydelser/{data.others_benefit.pk}/",
    ):
        response = page.goto(f"{portal}{path}")
        assert response.status == 404, path
        assert page.get_by_role("heading", name="Siden findes ikke").is_visible()
        assert_nothing_secret(page)


def test_the_cases_list_is_paged_and_filtered_without_javascript(browser, portal, data):
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        login(page, portal)
        page.goto(f"{portal}/sager/")
        assert page.get_by_text("Side 1 af 2").is_visible()
        page.get_by_role("link", name="Næste side").click()
        assert page.get_by_text("Side 2 af 2").is_visible()
        page.get_by_role("link", name="Afsluttede").click()
        items = page.get_by_test_id("case-list").locator("li")
        assert items.count() == 1
        assert "Afslag på enkeltydelse" in items.first.inner_text()
    finally:
        context.close()


def test_every_page_fits_a_375px_phone(new_page, portal, data):
    page = new_page(width=375, height=800)
    login(page, portal)
    for name, path, _heading in pages(data):
        page.goto(f"{portal}{path}")
        screenshot(page, f"phone-{name}")
        assert_fits(page, 375, name)


def test_every_page_in_english_passes_axe(page, portal, data):
    page.goto(f"{portal}/log-ind/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/log-ind/$"))
    login(page, portal)
    for name, path, _heading in pages(data):
        page.goto(f"{portal}{path}")
        assert page.locator("html").get_attribute("lang") == "en"
        assert_accessible(page)
        if name in ("overview", "benefits"):
            screenshot(page, f"english-{name}")


def test_a_case_waiting_for_the_citizen_says_afventer_dig(page, portal, data):
    """The demo citizen's awaited case: the badge on the overview, in the list and on the
    case page, with the plain-language explanation; accessible with the warning colours."""
    awaited = data.awaiting_case.title
    login(page, portal)
    for path in ("/overblik/", "/sager/"):
        page.goto(f"{portal}{path}")
        badges = page.locator('[data-status="awaiting_citizen"]')
        assert badges.count() == 1, path
        row = page.locator(".item-row", has=page.get_by_role("link", name=awaited, exact=True))
        assert row.locator('[data-status="awaiting_citizen"]').inner_text() == "Afventer dig"
    page.get_by_role("link", name=awaited, exact=True).click()
    page.wait_for_url(re.compile(rf"/sager/{data.awaiting_case.pk}/$"))
    assert page.locator('[data-status="awaiting_citizen"]').inner_text() == "Afventer dig"
    explanation = page.get_by_test_id("awaiting-citizen")
    assert explanation.is_visible()
    assert "Kommunen venter på dig" in explanation.inner_text()
    assert "siden 5. februar 2024" in explanation.inner_text()
    assert_accessible(page)
    screenshot(page, "case-awaiting-citizen")
    # Another open case of hers is "Behandles", without the explanation.
    page.goto(f"{portal}/sager/{data.cases[0].pk}/")
    assert page.locator('[data-status="processing"]').inner_text() == "Behandles"
    assert page.get_by_test_id("awaiting-citizen").count() == 0
