"""In a real Chromium: logging in and out through the mock broker, error pages, language, keyboard."""

import re

import pytest

from simulators.mitid.citizens import DEMO_CITIZENS
from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True)]

CPRS = [citizen.cpr for citizen in DEMO_CITIZENS]


def assert_no_cpr(page) -> None:
    """No CPR number in the URL, the title or the page text."""
    text = page.content()
    for cpr in CPRS:
        assert cpr not in page.url
        assert cpr not in page.title()
        assert cpr not in text and f"{cpr[:6]}-{cpr[6:]}" not in text


def test_login_page_says_it_is_a_demo_and_is_accessible(page, portal):
    page.goto(f"{portal}/log-ind/")
    assert page.get_by_test_id("demo-notice").is_visible()
    assert page.title() == "Log ind \N{EN DASH} Mit Overblik"
    assert_accessible(page)
    screenshot(page, "login")


def test_a_citizen_logs_in_and_out_through_the_broker(page, portal):
    login(page, portal)

    assert page.get_by_test_id("citizen-name").inner_text() == "Kim Borgersen"
    assert_no_cpr(page)
    # One click (issue 11.14): the portal ends the session, the broker sends the browser
    # straight back.
    page.get_by_role("button", name="Log af").click()
    page.wait_for_url(re.compile(r"/logget-af/$"))
    assert page.get_by_role("heading", name="Du er logget af").is_visible()
    assert_accessible(page)
    screenshot(page, "logged-out")
    page.goto(f"{portal}/overblik/")
    assert "/log-ind/" in page.url


def test_a_too_low_assurance_level_is_refused_in_plain_words(page, portal):
    page.goto(f"{portal}/log-ind/")
    page.get_by_role("link", name="Log ind med MitID").click()
    page.get_by_role("button", name=re.compile("Lars Lavsikring")).click()
    page.wait_for_url(re.compile(r"/log-ind/fejl/$"))
    assert "sikringsniveau" in page.get_by_test_id("login-error").inner_text()
    assert_no_cpr(page)
    assert_accessible(page)
    screenshot(page, "login-failed")


def test_the_404_page_is_in_the_design_and_accessible(page, portal):
    response = page.goto(f"{portal}/findes-ikke/")
    assert response.status == 404
    assert page.get_by_role("heading", name="Siden findes ikke").is_visible()
    assert_accessible(page)
    screenshot(page, "404")


def test_the_language_switch_works_without_javascript(browser, portal):
    context = browser.new_context(java_script_enabled=False, locale="da-DK")
    try:
        page = context.new_page()
        page.goto(f"{portal}/log-ind/")
        page.get_by_role("button", name="English").click()
        page.wait_for_load_state()
        assert page.get_by_role("heading", name="Log in to Mit Overblik").is_visible()
        assert page.locator("html").get_attribute("lang") == "en"
        screenshot(page, "login-english")
    finally:
        context.close()


def test_the_english_pages_are_accessible_too(page, portal):
    page.goto(f"{portal}/log-ind/")
    page.get_by_role("button", name="English").click()
    page.wait_for_url(re.compile(r"/log-ind/$"))
    assert page.locator("html").get_attribute("lang") == "en"
    login(page, portal)
    assert page.get_by_role("button", name="Log out").is_visible()
    assert_accessible(page)


def test_keyboard_users_can_skip_to_the_content_and_see_where_focus_is(page, portal):
    login(page, portal)
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text() == "Gå til sidens indhold"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"

    # Every link and button shows a visible focus indicator, in tab order.
    page.goto(f"{portal}/overblik/")
    seen = []
    # (The session's second data page also shows the satisfaction prompt: its answers,
    # comment and buttons are in the tab order too.)
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                return {tag: e.tagName, text: e.innerText.trim(),
                        outline: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
                        shadow: s.boxShadow !== 'none'}; }"""
        )
        if focused["tag"] not in ("A", "BUTTON", "INPUT", "SELECT", "SUMMARY", "TEXTAREA"):
            break
        assert focused["outline"] or focused["shadow"], focused
        seen.append(focused["text"])
    assert {"Overblik", "Log af", "English"} <= set(seen)


@pytest.mark.parametrize("width", [375])
def test_pages_fit_a_narrow_phone(new_page, portal, width):
    page = new_page(width=width, height=800)
    page.goto(f"{portal}/log-ind/")
    assert_fits(page, width)
    login(page, portal)
    assert_fits(page, width)
    assert page.get_by_role("button", name="Log af").is_visible()
    assert page.get_by_role("navigation", name="Hovedmenu").is_visible()
    screenshot(page, f"overview-{width}px")
