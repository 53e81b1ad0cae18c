"""Helpers for the pages' browser tests: sign in, scan with axe, screenshot, 320 px.

Debian's Chromium through Playwright (`executable_path`; Playwright downloads nothing),
against the real app under uvicorn (`tests.live_server`). axe-core is the npm package
pinned in package.json, read from node_modules and run in the page through Playwright's
evaluate (DevTools, so the pages' CSP, which allows no injected script, stays as it is).
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from api.docs_assets import NODE_MODULES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)"
)
AXE = NODE_MODULES / "axe-core" / "axe.min.js"
RESULTS = Path(__file__).resolve().parents[2] / "results" / "pages"
"""Screenshots the tests write (git-ignored), one PNG per page and state."""
SERIOUS = ("critical", "serious")
NARROW = 320


@dataclass(frozen=True)
class Account:
    email: str
    password: str


@cache
def _axe_source() -> str:
    assert AXE.is_file(), "axe-core is not installed: run `npm ci` at the repository root"
    return AXE.read_text()


def sign_in(page: Page, account: Account, then: str = "/") -> None:
    """Sign in through the sign-in page, as a person would; lands on `then`'s page."""
    target = "/sign-in" if then == "/" else f"/sign-in?next={then}"
    page.goto(target)
    page.get_by_label("Email address").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_load_state()


def axe_violations(page: Page, impacts: tuple[str, ...] = SERIOUS) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.x A/AA violations on the page as it is now, of these impacts."""
    page.evaluate(_axe_source())
    result: dict[str, Any] = page.evaluate(
        """async () => await axe.run(document, {
            runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa",
                                            "wcag22aa", "best-practice"]},
            resultTypes: ["violations"],
        })"""
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
        }
        for v in result["violations"]
        if v["impact"] in impacts
    ]


def assert_accessible(page: Page) -> None:
    found = axe_violations(page)
    assert not found, f"axe found on {page.url}: {found}"


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG in results/pages/NAME.png (overwritten by the next run)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_fits_narrow(page: Page, name: str | None = None) -> None:
    """At 320 CSS pixels wide (WCAG 1.4.10 reflow) nothing scrolls sideways; screenshot
    it as NAME-320 if named. The viewport is put back afterwards."""
    before = page.viewport_size
    page.set_viewport_size({"width": NARROW, "height": 640})
    try:
        widths = page.evaluate(
            "() => [document.documentElement.scrollWidth, document.body.scrollWidth]"
        )
        if name:
            screenshot(page, f"{name}-320")
        assert max(widths) <= NARROW, f"{page.url} is {max(widths)} px wide at {NARROW} px"
    finally:
        if before:
            page.set_viewport_size(before)


def check_page(page: Page, name: str) -> None:
    """What every page must pass: screenshot, axe, 320 px."""
    screenshot(page, name)
    assert_accessible(page)
    assert_fits_narrow(page, name)
