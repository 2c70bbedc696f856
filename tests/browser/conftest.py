"""Browser tests: Debian's Chromium driven by Playwright against a live server and the mock broker.

Everything stays on loopback: every request the page makes to another host is
aborted. Chromium is launched from /usr/bin/chromium (never `playwright install`);
`make test` installs it. Screenshots go to test-artifacts/screenshots/.
"""

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.plugins.portal import point_at_mock

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("OVERBLIK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
DKFDS_CSS = ROOT / "static" / "vendor" / "dkfds" / "css" / "dkfds-borgerdk.min.css"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


def _missing() -> str | None:
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        return f"Chromium is not installed at {CHROMIUM} (make browsers)"
    if not AXE.exists() or not DKFDS_CSS.exists():
        return "the front-end packages are missing (make static)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser():
    missing = _missing()
    if missing:
        if settings.IN_CI:
            pytest.fail(missing)
        pytest.skip(f"{missing} (outside CI)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the test's own
    # database work (flushes, fixtures) runs synchronously beside it, not in it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def portal(live_server, settings, mock_oidc):
    """The live portal's base URL, logging in through the mock broker."""
    point_at_mock(settings, mock_oidc)
    return live_server.url


class PageWatch:
    """Collects what the browser complained about: CSP violations and script errors."""

    def __init__(self):
        self.csp_violations: list[str] = []
        self.errors: list[str] = []
        self.blocked: list[str] = []

    def console(self, message):
        text = message.text
        if "Content Security Policy" in text or "Content-Security-Policy" in text:
            self.csp_violations.append(text)
        elif message.type == "error" and not text.startswith(
            "Failed to load resource: the server responded with a status of 4"
        ):
            # 4xx answers are what some tests ask for (404 page, refused login).
            self.errors.append(text)


def _route_loopback_only(watch: PageWatch):
    def handler(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or host == "::1" or route.request.url.startswith("data:"):
            route.continue_()
        else:
            watch.blocked.append(route.request.url)
            route.abort()

    return handler


@pytest.fixture
def new_page(browser):
    """Factory of pages (Danish browser, chosen width) that must not violate the CSP."""
    contexts = []
    watches = []

    def make(*, width: int = 1280, height: int = 900, locale: str = "da-DK"):
        context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
        contexts.append(context)
        watch = PageWatch()
        watches.append(watch)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", watch.console)
        page.on("pageerror", lambda error: watch.errors.append(str(error)))
        context.route("**/*", _route_loopback_only(watch))
        page.watch = watch
        return page

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        assert watch.csp_violations == [], watch.csp_violations
        assert watch.errors == [], watch.errors


@pytest.fixture
def page(new_page):
    return new_page()


def login(page, portal: str, *, name: str = "Kim Borgersen") -> None:
    """Log in through the mock broker's page by choosing a demo citizen."""
    page.goto(f"{portal}/log-ind/")
    page.locator('a[href^="/oidc/authenticate/"]').click()
    page.get_by_role("button", name=re.compile(name)).click()
    page.wait_for_url(re.compile(r"/overblik/$"))


def axe_violations(page) -> list[dict]:
    """axe-core's WCAG 2.1 A/AA violations on the current page (injected via DevTools, not the DOM)."""
    page.evaluate(AXE.read_text())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "targets": [node["target"] for node in v["nodes"]][:5],
        }
        for v in result["violations"]
    ]


def assert_accessible(page) -> None:
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=2, ensure_ascii=False)


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits(page, width: int, name: str = "") -> None:
    """Nothing makes the page scroll sideways at this width."""
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} page is {scroll_width}px wide at a {width}px viewport"
