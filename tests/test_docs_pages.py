"""The API docs pages render their operations in a real browser with no internet.

The real app runs under uvicorn on loopback (SQLite, `tests.live_server`); headless Debian
Chromium, driven by Playwright, opens `/schema` (Scalar) and `/schema/swagger` (Swagger
UI) with every request to a host other than this machine aborted, as it would fail
offline. Chromium is Debian's package (CI installs it); Playwright downloads nothing.
Without it the test skips.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from api.app import create_app
from api.docs_assets import SCALAR_DIR, SWAGGER_DIR
from placement.config import Settings
from tests.conftest import settings_for
from tests.live_server import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
RENDER_TIMEOUT_MS = 60_000
UNITS_PATH = "/api/v1/units"
UNITS_LIST = "List units (providers: their own)"
OfflinePage = tuple[Page, list[tuple[str, str]]]


@pytest.fixture
def sqlite_settings(sqlite_template: Path, tmp_path: Path) -> Settings:
    path = tmp_path / "placement.db"
    shutil.copyfile(sqlite_template, path)
    return settings_for(f"sqlite+aiosqlite:///{path}", tmp_path)


@pytest.fixture
def base_url(sqlite_settings: Settings) -> Iterator[str]:
    assert (SCALAR_DIR / "browser" / "standalone.js").is_file() and SWAGGER_DIR.is_dir(), (
        "the docs assets are not installed: run `npm ci` at the repository root "
        "(scripts/bootstrap.sh does)"
    )
    with serving(create_app(sqlite_settings)) as url:
        yield url


@pytest.fixture
def offline_page(base_url: str) -> Iterator[OfflinePage]:
    """A Chromium page that may reach only this machine, and the requests it tried elsewhere."""
    blocked: list[tuple[str, str]] = []

    def only_local(route: Route) -> None:
        request = route.request
        if urlsplit(request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            blocked.append((request.resource_type, request.url))
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            context = browser.new_context(base_url=base_url)
            context.route("**/*", only_local)
            yield context.new_page(), blocked
        finally:
            browser.close()


def open_page(page: Page, path: str) -> list[str]:
    """Load `path`; the scripts' uncaught errors, collected while it renders."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(path)
    assert response is not None and response.status == 200
    return errors


def assert_operations_shown(page: Page) -> None:
    """The units operations are in the DOM: their path and their summaries."""
    page.get_by_text(UNITS_LIST).first.wait_for(state="visible", timeout=RENDER_TIMEOUT_MS)
    assert page.get_by_text(UNITS_PATH, exact=True).count() > 0
    assert page.get_by_text("Add a unit to a scheme").count() > 0


def test_scalar_renders_the_operations_offline(offline_page: OfflinePage) -> None:
    page, blocked = offline_page
    errors = open_page(page, "/schema")
    # Scalar lists tags in its sidebar and renders a tag's operations once it is opened.
    page.get_by_text("units", exact=True).first.click(timeout=RENDER_TIMEOUT_MS)
    assert_operations_shown(page)
    assert not errors, errors
    # Scripts, styles and the document all came from the service. Scalar's bundled CSS
    # names web fonts on its own font host; offline the page falls back to system fonts.
    assert {kind for kind, _ in blocked} <= {"font"}, blocked


def test_swagger_renders_the_operations_offline(offline_page: OfflinePage) -> None:
    page, blocked = offline_page
    errors = open_page(page, "/schema/swagger")
    assert_operations_shown(page)
    assert not errors, errors
    assert blocked == []
