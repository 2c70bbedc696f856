"""At 375 px (a phone): the page title on the first screen, no table wider than the screen.

Issue 11.13: the header and menu took ~380 px before the page title, and the payment
tables scrolled sideways, hiding "Efter skat" and "Udbetalt". Every page of a
logged-in citizen (and the public municipality pages) is checked in Chromium at
375 x 667 — an iPhone SE's first screen — with axe.
"""

import pytest

from tests.browser.conftest import assert_accessible, assert_fits, login, screenshot
from tests.browser.test_pages import pages
from tests.overblik import data as portal_data

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.postgres,
]

WIDTH, HEIGHT = 375, 667
# The header, the demo notice and the menu take at most a third of the first screen, and
# the page's own title (after a back link, perhaps) starts in its top half.
HEADER_AT_MOST = HEIGHT // 3
TITLE_TOP_AT_MOST = HEIGHT // 2

OVERFLOWING_CELLS = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const table of document.querySelectorAll('table')) {
    for (const cell of table.querySelectorAll('th, td')) {
      const box = cell.getBoundingClientRect();
      if (box.width > 0 && (box.right > width + 0.5 || box.left < -0.5)) {
        found.push(`${table.dataset.testid || 'table'}: "${cell.innerText.trim()}" ${box.left}-${box.right}`);
      }
    }
    if (table.scrollWidth > table.clientWidth + 1) {
      found.push(`${table.dataset.testid || 'table'} scrolls: ${table.scrollWidth} > ${table.clientWidth}`);
    }
    for (let box = table.parentElement; box; box = box.parentElement) {
      if (box.scrollWidth > box.clientWidth + 1 && getComputedStyle(box).overflowX !== 'visible') {
        found.push(`${table.dataset.testid || 'table'} sits in a sideways scroller`);
        break;
      }
    }
  }
  return found;
}"""


@pytest.fixture
def data():
    return portal_data.build(cases=25, payments=14)


def phone_pages(data):
    return [
        *pages(data),
        ("municipality", "/kommuner/461/", "Det viser Odense Kommune"),
        ("municipalities", "/kommuner/", "Det viser kommunerne"),
    ]


def test_the_title_is_on_the_first_screen_and_no_table_is_wider_than_it(new_page, portal, data):
    page = new_page(width=WIDTH, height=HEIGHT)
    login(page, portal)
    for name, path, heading in phone_pages(data):
        response = page.goto(f"{portal}{path}")
        assert response.status == 200, path
        screenshot(page, f"phone-first-screen-{name}")
        title = page.get_by_role("heading", level=1)
        assert title.inner_text() == heading, path
        header = page.locator("header.header").bounding_box()
        assert header["y"] + header["height"] <= HEADER_AT_MOST, f"{name}: {header}"
        box = title.bounding_box()
        assert box["y"] <= TITLE_TOP_AT_MOST, f"{name}: the title starts at {box['y']:.0f} px"
        assert box["y"] + box["height"] <= HEIGHT, name
        assert page.evaluate(OVERFLOWING_CELLS) == [], name
        assert_fits(page, WIDTH, name)
        assert_accessible(page)


def test_every_payment_shows_after_tax_and_paid_on_a_phone(new_page, portal, data):
    page = new_page(width=WIDTH, height=HEIGHT)
    login(page, portal)
    page.goto(f"{portal}/ydelser/")
    tables = page.locator("[data-testid^='payments-']")
    assert tables.count() >= 1
    for label in ("Efter skat", "Udbetalt"):
        cells = page.locator(f"[data-testid^='payments-'] td[data-title='{label}']")
        assert cells.count() >= len(data.payments), label
        for index in range(cells.count()):
            cell = cells.nth(index)
            cell.scroll_into_view_if_needed()
            box = cell.bounding_box()
            assert cell.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH
    assert "9.000,25 kr." in tables.first.inner_text()


def test_the_menu_is_whole_and_usable_on_a_phone_without_javascript(browser, portal, data):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT}, java_script_enabled=False, locale="da-DK"
    )
    try:
        page = context.new_page()
        login(page, portal)
        menu = page.get_by_role("navigation", name="Hovedmenu")
        for label in ("Overblik", "Sager", "Ydelser", "Hvem har set mine data"):
            link = menu.get_by_role("link", name=label, exact=True)
            assert link.is_visible(), label
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, label
        menu.get_by_role("link", name="Sager", exact=True).click()
        assert page.get_by_role("heading", level=1).inner_text() == "Sager"
        assert page.get_by_role("button", name="Log af").is_visible()
    finally:
        context.close()
