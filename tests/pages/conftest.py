"""Fixtures of the pages' browser tests: a live app with an account for every role, and a
fresh Chromium page per test that can reach only this machine.

One app and database per module and backend (`site`), as `shared_actors` does: tests act
on records (and accounts) they make themselves, or only read, so their order does not
matter. Accounts: admin, officer (Manchester), provider (Northern Refuges), commissioner
(Greater Manchester); `site.new_account(...)` makes more.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Route, sync_playwright
from sqlalchemy.ext.asyncio import AsyncSession

from api.app import create_app
from placement.accounts import new_password
from placement.cli import create_account
from placement.config import Settings
from placement.db import create_engine
from placement.enums import Role
from tests.conftest import (
    BACKENDS,
    MANCHESTER,
    Actors,
    app_client,
    fresh_database,
    populate,
    settings_for,
)
from tests.live_server import serving
from tests.pages.harness import CHROMIUM, Account

T = TypeVar("T")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
TIMEOUT_MS = 20_000


@dataclass
class Site:
    """The running app, its settings, API keys (for setting up records) and accounts."""

    base_url: str
    settings: Settings
    actors: Actors
    accounts: dict[str, Account] = field(default_factory=dict)

    def new_account(self, role: Role, **scope: Any) -> Account:
        """A new account of `role` (scope as for `placement.cli.create_account`)."""
        account = Account(f"{role}-{uuid.uuid4().hex[:8]}@example.gov.uk", new_password())
        outside_playwright(
            lambda: create_account(self.settings, account.email, role, account.password, **scope)
        )
        return account

    def in_database(self, work: Callable[[AsyncSession], Coroutine[Any, Any, T]]) -> T:
        """Run `work` in one committed transaction on the site's database."""

        async def run() -> T:
            engine = create_engine(self.settings)
            try:
                async with AsyncSession(engine, expire_on_commit=False) as db, db.begin():
                    return await work(db)
            finally:
                await engine.dispose()

        return outside_playwright(run)

    def api(self, path: str, key: str | None = None, **params: Any) -> httpx.Response:
        """GET an API path on the live app with `key` (default: the admin's)."""
        token = key or self.actors.keys["admin"]
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{self.base_url}{path}", headers=headers, params=params, timeout=30)

    def audit(self, action: str) -> list[dict[str, Any]]:
        found = self.api("/api/v1/audit", action=action, limit=500)
        assert found.status_code == 200, found.text
        items: list[dict[str, Any]] = found.json()["items"]
        return items


def outside_playwright(work: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run `work` to the end on an event loop of its own, in a thread: Playwright's sync
    API keeps an event loop running in the test's thread, where `asyncio.run` refuses."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, work()).result()


def page_settings(url: str, directory: Path) -> Settings:
    """The tests' settings; lock-out after 3 failures so its test is short."""
    return replace(settings_for(url, directory), sign_in_max_failures=3)


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("pages")
    with fresh_database(str(request.param), directory, request) as url:
        settings = page_settings(url, directory)
        with app_client(settings) as client:
            actors = populate(client, settings)
        with serving(create_app(settings)) as base_url:
            world = Site(base_url, settings, actors)
            world.accounts = {
                "admin": world.new_account(Role.ADMIN),
                "officer": world.new_account(Role.HOUSING_OFFICER, authority_code=MANCHESTER[0]),
                "provider": world.new_account(
                    Role.PROVIDER, provider_id=uuid.UUID(actors.provider_a)
                ),
                "commissioner": world.new_account(Role.COMMISSIONER, region="Greater Manchester"),
            }
            yield world


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[Browser]:
    """Chromium, for one `site` at a time: closed before the next backend's site is made
    (whose set-up runs `asyncio.run`, refused while Playwright's loop runs)."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Visit:
    """A browser page, and what went wrong in it: script errors, CSP refusals, requests
    it tried to send off this machine."""

    page: Page
    problems: list[str] = field(default_factory=list)


def _only_local(problems: list[str]) -> Any:
    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            problems.append(f"off-machine request: {route.request.url}")
            route.abort("internetdisconnected")

    return route


def _note_console(message: ConsoleMessage, problems: list[str]) -> None:
    """Console errors are problems (CSP refusals among them), except Chromium's note of a
    page answered with an error status, which the tests ask for on purpose (401, 403, 422)."""
    if message.type == "error" and not message.text.startswith("Failed to load resource"):
        problems.append(f"console error: {message.text}")


@contextmanager
def _visiting(site: Site, browser: Browser) -> Iterator[Visit]:
    """A fresh browser context (no cookies) on the site; fails the test if its pages had
    script errors or Content-Security-Policy refusals."""
    context = browser.new_context(base_url=site.base_url, viewport={"width": 1024, "height": 768})
    context.set_default_timeout(TIMEOUT_MS)
    found = Visit(context.new_page())
    context.route("**/*", _only_local(found.problems))
    found.page.on("pageerror", lambda error: found.problems.append(f"script error: {error}"))
    found.page.on("console", lambda message: _note_console(message, found.problems))
    try:
        yield found
    finally:
        context.close()
    assert not found.problems, found.problems


@pytest.fixture
def visit(site: Site, browser: Browser) -> Iterator[Visit]:
    """One person's browser on the site (see `_visiting`)."""
    with _visiting(site, browser) as found:
        yield found


@pytest.fixture
def other_visit(site: Site, browser: Browser) -> Iterator[Visit]:
    """A second person's browser beside `visit`'s, for journeys between two roles."""
    with _visiting(site, browser) as found:
        yield found
